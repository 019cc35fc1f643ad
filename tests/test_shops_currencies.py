"""Shops and currencies (issue 14 §7–8): shop scope, money converted at a day or month rate on the way
in, refused without a rate (nothing written), rates over POST /api/v1/fx and `kpibot fx import`.
Over real HTTP; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.http.server import ServerThread
from bot.runtime import Runtime, build_http_app, build_runtime
from jobs.digest import build_weekly_digest
from jobs.ingest import import_file
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import Registry, load_registry
from storage.kpi.scope import Scope
from storage.models import Fact
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.fx import rate_span, set_rates
from storage.settings import Settings
from tests.fixtures import add_members, set_target

TOKEN = "s3cret-push-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
SHOPS = """\
shops:
  tiktok-us: {name: TikTok Shop US, platform: tiktok, market: US, currency: USD}
  shopee-cn: {name: Shopee CN, platform: shopee, market: CN, currency: CNY}
"""


@pytest.fixture
def served(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    kpis = tmp_path / "kpis.yaml"
    kpis.write_text(SHOPS, encoding="utf-8")
    settings = make_settings(KPIBOT_API_TOKEN=TOKEN, KPIBOT_KPIS_FILE=str(kpis), KPIBOT_CURRENCY="USD")
    runtime = build_runtime(settings, with_platforms=False, file_outbox_dir=tmp_path)
    with ServerThread(build_http_app(runtime)) as server:
        yield server.url, runtime
    runtime.db.dispose()


def post(base: str, path: str, body: object) -> httpx.Response:
    return httpx.post(base + path, content=json.dumps(body).encode(), headers=AUTH, timeout=30)


def facts(runtime: Runtime) -> list[tuple[str, str, float, float | None, str | None]]:
    with runtime.db.session() as session:
        rows = session.execute(select(Fact.metric, Fact.shop, Fact.value, Fact.original_value,
                                      Fact.original_currency).order_by(Fact.shop, Fact.metric, Fact.date)).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_money_in_a_shops_currency_is_converted_at_the_month_rate(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    assert post(base, "/api/v1/fx", {"rates": [{"currency": "CNY", "period": "2026-11", "rate": 0.14}]}).json() == \
        {"accepted": 1}
    answer = post(base, "/api/v1/metrics", {"records": [
        {"metric": "gmv", "date": "2026-11-05", "value": 12000, "shop": "shopee-cn"},    # shop currency CNY
        {"metric": "gmv", "date": "2026-11-05", "value": 1000, "shop": "tiktok-us"},     # USD: as is
        {"metric": "orders", "date": "2026-11-05", "value": 30, "shop": "shopee-cn"},    # not money
        {"metric": "ad_spend", "date": "2026-11-06", "value": 500, "currency": "¥"},     # a stated symbol
    ]})
    assert answer.status_code == 200, answer.text
    assert facts(runtime) == [
        ("ad_spend", "", pytest.approx(70.0), 500.0, "CNY"),         # 500 × 0.14
        ("gmv", "shopee-cn", pytest.approx(1680.0), 12000.0, "CNY"),  # 12,000 × 0.14
        ("orders", "shopee-cn", 30.0, None, None),
        ("gmv", "tiktok-us", 1000.0, None, None),
    ]
    engine = KpiEngine(runtime.db, runtime.registry, tz=ZoneInfo("UTC"), today=lambda: date(2026, 11, 20))
    november = Calendar(0).month(date(2026, 11, 1))
    shop = engine.status(runtime.registry.kpis["gmv"], Scope.of_shop("shopee-cn"), november)
    assert shop.actual == pytest.approx(1680.0)
    team = engine.status(runtime.registry.kpis["gmv"], Scope.team(), november)
    assert team.actual == pytest.approx(2680.0)  # 1,680 + 1,000


def test_a_day_rate_wins_over_its_month(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    post(base, "/api/v1/fx", {"rates": [{"currency": "CNY", "period": "2026-11", "rate": 0.14},
                                        {"currency": "CNY", "period": "2026-11-05", "rate": 0.15}]})
    post(base, "/api/v1/metrics", {"records": [
        {"metric": "gmv", "date": "2026-11-05", "value": 100, "currency": "CNY"},
        {"metric": "gmv", "date": "2026-11-06", "value": 100, "currency": "RMB"}]})
    assert sorted(v for _, _, v, _, _ in facts(runtime)) == [pytest.approx(14.0), pytest.approx(15.0)]


def test_money_without_a_rate_is_refused_and_nothing_is_written(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    post(base, "/api/v1/fx", {"rates": [{"currency": "CNY", "period": "2026-10", "rate": 0.14}]})
    answer = post(base, "/api/v1/metrics", {"records": [
        {"metric": "gmv", "date": "2026-10-31", "value": 100, "currency": "CNY"},   # has October's rate
        {"metric": "gmv", "date": "2026-11-01", "value": 200, "shop": "shopee-cn"},  # no November rate
    ]})
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["index"] == 1 and "no CNY → USD rate for 2026-11-01" in error["error"]
    assert facts(runtime) == []


def test_bad_rates_are_listed_by_index_and_nothing_is_written(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    answer = post(base, "/api/v1/fx", {"rates": [{"currency": "CNY", "period": "2026-11", "rate": 0.14},
                                                 {"currency": "yuan", "period": "2026-11", "rate": 0.14},
                                                 {"currency": "EUR", "period": "Nov", "rate": -1}]})
    assert answer.status_code == 400
    assert [e["index"] for e in answer.json()["errors"]] == [1, 2]
    with runtime.db.session() as session:
        assert session.execute(select(func.count()).select_from(Fact)).scalar_one() == 0
    assert post(base, "/api/v1/metrics", {"records": [
        {"metric": "gmv", "date": "2026-11-05", "value": 1, "currency": "CNY"}]}).status_code == 400  # none stored


def test_fx_import_file_then_list(make_settings: Callable[..., Settings], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings()
    monkeypatch.setenv("KPIBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KPIBOT_CURRENCY", "USD")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("currency,period,rate\nCNY,2026-11,0.1385\nCNY,2026-13,0.14\nSGD,2026-11,abc\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["fx", "import", str(bad)])
    assert result.exit_code == 1
    assert "line 3: period must be a month YYYY-MM or a day YYYY-MM-DD, got '2026-13'" in result.output
    assert "line 4: rate must be a number, got 'abc'" in result.output
    good = tmp_path / "rates.csv"
    good.write_text("currency,period,rate\nCNY,2026-11,0.1385\nSGD,2026-11-05,0.74\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["fx", "import", str(good)])
    assert result.exit_code == 0 and "2 rate(s) into USD stored" in result.output
    listed = runner.invoke(cli_app, ["fx", "list", "--date", "2026-11-05"]).output
    assert "1 CNY = 0.1385 USD  (2026-11)" in listed and "1 SGD = 0.74 USD  (2026-11-05)" in listed
    assert "SGD" not in runner.invoke(cli_app, ["fx", "list", "--date", "2026-11-06"]).output  # a day rate only


# --- kpibot import: shop / 店铺 / currency columns and currency symbols in cells --------------------

def _registry(tmp_path: Path) -> Registry:
    path = tmp_path / "kpis.yaml"
    path.write_text(SHOPS, encoding="utf-8")
    return load_registry(path)


def _stored(db: Database) -> list[tuple[str, date, str, float, float | None, str | None]]:
    with db.session() as session:
        rows = session.execute(select(Fact.metric, Fact.date, Fact.shop, Fact.value, Fact.original_value,
                                      Fact.original_currency).order_by(Fact.shop, Fact.metric, Fact.date)).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_cny_file_is_converted_at_the_month_rate(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        set_rates(session, [rate_span("CNY", "2026-11", 0.14)], set_by="test")
    file = tmp_path / "sales.csv"
    file.write_text("日期,店铺,gmv,orders\n"
                    "2026-11-05,Shopee CN,¥1.2万,40\n"      # the shop's name → its key; 12,000 CNY
                    "2026-11-06,shopee-cn,\"1,000元\",10\n"  # 1,000 CNY
                    "2026-11-06,tiktok-us,$500,5\n", encoding="utf-8")
    report = import_file(db, _registry(tmp_path), file, currency="USD")
    assert report.ok, report.problem_lines()
    assert _stored(db) == [
        ("gmv", date(2026, 11, 5), "shopee-cn", pytest.approx(1680.0), 12000.0, "CNY"),  # 12,000 × 0.14
        ("gmv", date(2026, 11, 6), "shopee-cn", pytest.approx(140.0), 1000.0, "CNY"),    # 1,000 × 0.14
        ("orders", date(2026, 11, 5), "shopee-cn", 40.0, None, None),
        ("orders", date(2026, 11, 6), "shopee-cn", 10.0, None, None),
        ("gmv", date(2026, 11, 6), "tiktok-us", 500.0, None, None),
        ("orders", date(2026, 11, 6), "tiktok-us", 5.0, None, None),
    ]


def test_a_cny_file_without_a_rate_is_refused_with_zero_rows_written(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        set_rates(session, [rate_span("CNY", "2026-10", 0.14)], set_by="test")  # October only
    file = tmp_path / "sales.csv"
    file.write_text("date,gmv,currency\n2026-10-31,100,CNY\n2026-11-01,200,CNY\n2026-11-02,300,USD\n",
                    encoding="utf-8")
    report = import_file(db, _registry(tmp_path), file, currency="USD")
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        'line 3, column "currency": no CNY → USD rate for 2026-11-01; add one (kpibot fx import, '
        "POST /api/v1/fx or fx set CNY RATE 2026-11)"]
    assert _stored(db) == []


# --- shop scope, shop board, team target from the shops' ----------------------------------------

def seed_shops(db: Database) -> None:
    add_members(db)
    rows = [("gmv", date(2026, 11, d), v, m, s) for d in (1, 2) for v, m, s in (
        (1000, "h1@shop.com", "tiktok-us"), (400, "h2@shop.com", "tiktok-us"),
        (300, "h1@shop.com", "shopee-cn"), (200, "", "shopee-cn"))]
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, day, value, member, "test", shop=shop)
                               for metric, day, value, member, shop in rows])


def test_shop_scope_alone_and_with_a_role_or_member(db: Database, tmp_path: Path) -> None:
    seed_shops(db)
    registry = _registry(tmp_path)
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), today=lambda: date(2026, 11, 3))
    gmv, november = registry.kpis["gmv"], Calendar(0).month(date(2026, 11, 1))
    assert engine.status(gmv, Scope.of_shop("tiktok-us"), november).actual == 2800   # (1000 + 400) × 2
    assert engine.status(gmv, Scope.of_shop("shopee-cn"), november).actual == 1000   # (300 + 200) × 2
    assert engine.status(gmv, Scope.role("host").in_shop("shopee-cn"), november).actual == 600  # h1 300 × 2
    assert engine.status(gmv, Scope.member("h1@shop.com").in_shop("tiktok-us"), november).actual == 2000
    assert engine.status(gmv, Scope.team(), november).actual == 3800  # 2,800 + 1,000


def test_shops_side_by_side_and_the_team_target_from_theirs(db: Database, tmp_path: Path) -> None:
    seed_shops(db)
    registry = _registry(tmp_path)
    set_target(db, "gmv", Scope.of_shop("tiktok-us"), "2026-11", 42_000)
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), today=lambda: date(2026, 11, 3))
    gmv, november = registry.kpis["gmv"], Calendar(0).month(date(2026, 11, 1))
    board = engine.shop_board(gmv, november)
    assert [(row.display_name, row.status.actual) for row in board] == [("TikTok Shop US", 2800),
                                                                         ("Shopee CN", 1000)]
    # tiktok-us: 2,800 against 42,000 × 2/30 = 2,800 → pace 100 %
    assert board[0].status.pace_attainment == pytest.approx(1.0)
    assert engine.status(gmv, Scope.team(), november).target is None  # shopee-cn has no target yet
    set_target(db, "gmv", Scope.of_shop("shopee-cn"), "2026-11", 18_000)
    team = engine.status(gmv, Scope.team(), november)
    assert team.target is not None and team.target.value == 60_000  # 42,000 + 18,000
    assert team.target.derived_from == "shops"


def test_the_digest_has_a_shop_table_when_there_is_more_than_one_shop(db: Database, tmp_path: Path) -> None:
    seed_shops(db)
    registry = _registry(tmp_path)
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), today=lambda: date(2026, 11, 10))
    reply = build_weekly_digest(engine, registry, lang="en", currency="USD", with_charts=False)
    shops = next(t for t in reply.tables if t.title == "Shops · GMV · November 2026 to date")
    # Nov 1–2: tiktok-us (1000 + 400) × 2 = 2,800; shopee-cn (300 + 200) × 2 = 1,000
    assert [row[:2] for row in shops.rows] == [["TikTok Shop US", "$2,800"], ["Shopee CN", "$1,000"]]
    zh = build_weekly_digest(engine, registry, lang="zh", currency="USD", with_charts=False)
    assert any(t.title == "店铺对比 · GMV · 2026年11月至今" for t in zh.tables)
