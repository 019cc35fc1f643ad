"""Figures a team can trust (issue 14 §1–6, 10): lagging sources, missing data, levels, budgets,
attributed ROAS, honest comparisons, trial KPIs. Hand-computed; runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.present.status import status_reply, status_word
from storage.db import Database
from storage.kpi.attainment import Status, composite_score
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import Registry, load_registry
from storage.kpi.scope import Scope
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures import add_facts, add_members, set_target

CAL = Calendar(0)
OCTOBER = CAL.month(date(2026, 10, 1))
NOVEMBER = CAL.month(date(2026, 11, 1))


def engine_for(db: Database, today: date, registry: Registry | None = None) -> KpiEngine:
    return KpiEngine(db, registry or load_registry(None), tz=ZoneInfo("UTC"), week_start=0, today=lambda: today)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def kpi_file(tmp_path: Path, text: str) -> Registry:
    path = tmp_path / "kpis.yaml"
    path.write_text(text, encoding="utf-8")
    return load_registry(path)


# --- §1 data-through per KPI ---------------------------------------------------------------------

def seed_lagging(db: Database) -> None:
    add_facts(db, [("gmv", d, 1000, "") for d in days(date(2026, 10, 1), date(2026, 10, 19))], source="tiktok-us")
    add_facts(db, [("gmv", d, 500, "") for d in days(date(2026, 10, 1), date(2026, 10, 14))], source="shopee-sg")
    add_facts(db, [("gmv", date(2026, 10, 3), 100, "")], source="fix")  # a one-off correction
    set_target(db, "gmv", Scope.team(), "2026-10", 62_000)


def test_data_through_is_held_back_by_the_lagging_ongoing_source(db: Database) -> None:
    seed_lagging(db)
    engine = engine_for(db, date(2026, 10, 20))
    st = engine.status(engine.registry.kpis["gmv"], Scope.team(), OCTOBER)
    # tiktok-us through Oct 19, shopee-sg through Oct 14 (within 7 days of Oct 19: ongoing),
    # fix only on Oct 3 (more than 7 days before Oct 19: one-off) → d = Oct 14
    assert st.data_through == date(2026, 10, 14)
    assert st.actual == 19_000 + 7_000 + 100  # headline: every row = 26,100
    # pace: rows through Oct 14 = 14,000 + 7,000 + 100 = 21,100 against 62,000 × 14/31 = 28,000 → 75.36 %
    assert st.pace_attainment == pytest.approx(21_100 / 28_000)
    assert round(st.pace_attainment * 100, 1) == 75.4
    assert st.projection == pytest.approx(21_100 / (14 / 31))  # 46,721
    assert st.run_rate == pytest.approx((62_000 - 21_100) / 17)  # Oct 15–31: 17 days left
    assert st.later_sources == (("tiktok-us", date(2026, 10, 19)),)
    assert st.lagging_sources == (("shopee-sg", date(2026, 10, 14)),)
    en = status_reply(st, scope_label="Team", lang="en", currency="USD")
    assert en.footnotes[0] == "Data through 2026-10-14: shopee-sg lags; tiktok-us through 2026-10-19"
    zh = status_reply(st, scope_label="团队", lang="zh", currency="USD")
    assert zh.footnotes[0] == "数据截至 2026-10-14：shopee-sg 滞后；tiktok-us 截至 2026-10-19"


def test_a_one_off_source_on_a_later_day_does_not_move_the_date_back(db: Database) -> None:
    add_facts(db, [("gmv", d, 1000, "") for d in days(date(2026, 10, 1), date(2026, 10, 19))], source="tiktok-us")
    add_facts(db, [("gmv", date(2026, 10, 2), 50, "")], source="fix")
    st = engine_for(db, date(2026, 10, 20)).status(load_registry(None).kpis["gmv"], Scope.team(), OCTOBER)
    assert st.data_through == date(2026, 10, 19)  # fix (Oct 2) is 17 days older than Oct 19: one-off
    assert st.later_sources == () and st.actual == 19_050


# --- §2 missing is not zero ----------------------------------------------------------------------

def test_a_missing_metric_is_no_data_naming_it(db: Database) -> None:
    add_facts(db, [("orders", date(2026, 11, 2), 40, "")])
    engine = engine_for(db, date(2026, 11, 10))
    st = engine.status(engine.registry.kpis["return_rate"], Scope.team(), NOVEMBER)
    # returns / orders with no `returns` rows: not 0 %, not on track
    assert st.actual is None and st.status is Status.NO_DATA and st.missing == ("returns",)
    reply = status_reply(st, scope_label="Team", lang="en", currency="USD")
    assert reply.footnotes[0] == "No data: no `returns` rows for November 2026"


def test_missing_is_zero_counts_a_declared_metric_as_zero(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, "metrics:\n  - {name: returns, missing_is_zero: true}\n")
    add_facts(db, [("orders", date(2026, 11, 2), 40, "")])
    set_target(db, "return_rate", Scope.team(), "2026-11", 0.05)
    st = engine_for(db, date(2026, 11, 10), registry).status(registry.kpis["return_rate"], Scope.team(), NOVEMBER)
    assert st.actual == 0.0 and st.missing == ()  # 0 / 40
    assert st.status is Status.ON_TRACK  # lower is better, none returned


# --- §3 levels: last and mean --------------------------------------------------------------------

LEVELS = """\
metrics:
  - {name: followers, aggregate: last}
  - {name: rating, aggregate: mean}
kpis:
  followers: {formula: followers}
  shop_rating: {formula: rating}
"""


def test_a_last_metric_is_the_newest_date_summed_over_members(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, LEVELS)
    add_members(db)
    add_facts(db, [
        ("followers", date(2026, 11, 1), 1000, "h1@shop.com"), ("followers", date(2026, 11, 20), 1200, "h1@shop.com"),
        ("followers", date(2026, 11, 1), 500, "h2@shop.com"), ("followers", date(2026, 11, 20), 650, "h2@shop.com"),
        ("followers", date(2026, 11, 10), 900, "h2@shop.com"),
    ])
    engine = engine_for(db, date(2026, 11, 25), registry)
    team = engine.status(registry.kpis["followers"], Scope.team(), NOVEMBER)
    # newest date Nov 20: 1,200 + 650 = 1,850 (not the sum of every row, 4,250)
    assert team.actual == 1850
    assert not registry.kpis["followers"].additive and team.projection == 1850  # a level is not projected
    board = {row.member: row.status.actual for row in engine.board(registry.kpis["followers"], "host", NOVEMBER)}
    assert board == {"h1@shop.com": 1200, "h2@shop.com": 650}


def test_shops_side_by_side_apply_last_and_mean(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, LEVELS)
    with db.session() as session:
        upsert_facts(session, [
            FactRecord("followers", date(2026, 11, 1), 1000, "h1@shop.com", "test", "shop-a"),
            FactRecord("followers", date(2026, 11, 20), 1200, "h1@shop.com", "test", "shop-a"),
            FactRecord("followers", date(2026, 11, 20), 300, "h2@shop.com", "test", "shop-a"),
            FactRecord("followers", date(2026, 11, 5), 700, "", "test", "shop-b"),
            FactRecord("rating", date(2026, 11, 1), 4.0, "", "test", "shop-a"),
            FactRecord("rating", date(2026, 11, 2), 5.0, "", "test", "shop-a"),
            FactRecord("rating", date(2026, 11, 1), 3.0, "", "test", "shop-b"),
        ])
    engine = engine_for(db, date(2026, 11, 25), registry)
    followers = {row.member: row.status.actual for row in engine.shop_board(registry.kpis["followers"], NOVEMBER)}
    # shop-a's newest date is Nov 20: 1,200 + 300 = 1,500 (not every row, 2,500); shop-b: its one row, 700
    assert followers == {"shop-a": 1500, "shop-b": 700}
    rating = {row.member: row.status.actual for row in engine.shop_board(registry.kpis["shop_rating"], NOVEMBER)}
    # shop-a: (4.0 + 5.0) / 2 days = 4.5 (not the sum 9.0); shop-b: 3.0
    assert rating == {"shop-a": pytest.approx(4.5), "shop-b": pytest.approx(3.0)}


def test_a_mean_metric_averages_daily_values(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, LEVELS)
    add_facts(db, [("rating", date(2026, 11, 1), 4.0, ""), ("rating", date(2026, 11, 2), 5.0, ""),
                   ("rating", date(2026, 11, 3), 4.5, "")])
    st = engine_for(db, date(2026, 11, 25), registry).status(registry.kpis["shop_rating"], Scope.team(), NOVEMBER)
    assert st.actual == pytest.approx(4.5)  # (4.0 + 5.0 + 4.5) / 3 days, not the sum 13.5


def test_a_last_metric_is_compared_with_the_previous_period_at_the_same_point(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, LEVELS)
    add_facts(db, [
        ("followers", date(2026, 10, 1), 900, "h1@shop.com"), ("followers", date(2026, 10, 20), 1100, "h1@shop.com"),
        ("followers", date(2026, 10, 20), 500, "h2@shop.com"),
        ("followers", date(2026, 10, 25), 5000, "h1@shop.com"),  # after the like-for-like cut: not compared
        ("followers", date(2026, 11, 1), 1000, "h1@shop.com"), ("followers", date(2026, 11, 20), 1200, "h1@shop.com"),
        ("followers", date(2026, 11, 20), 650, "h2@shop.com"),
    ])
    st = engine_for(db, date(2026, 11, 25), registry).status(registry.kpis["followers"], Scope.team(), NOVEMBER)
    # November through Nov 20 (day 20) → October cut at Oct 20; October's newest date by then is Oct 20:
    # 1,100 + 500 = 1,600. Now: 1,200 + 650 = 1,850 → (1,850 − 1,600) / 1,600 = +15.6 %
    assert st.actual == 1850 and st.previous_actual == 1600
    assert st.change == pytest.approx(250 / 1600)
    assert status_reply(st, scope_label="Team", lang="en", currency="USD").footnotes[-1] == (
        "+15.6% vs the previous period at the same point")
    assert status_reply(st, scope_label="团队", lang="zh", currency="USD").footnotes[-1] == "较上期同一时点 +15.6%"


def test_a_mean_metric_is_compared_over_the_same_days(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, LEVELS)
    add_facts(db, [("rating", date(2026, 10, 1), 4.0, ""), ("rating", date(2026, 10, 2), 4.4, ""),
                   ("rating", date(2026, 10, 30), 2.0, ""),  # after the cut
                   ("rating", date(2026, 11, 1), 4.5, ""), ("rating", date(2026, 11, 2), 4.7, "")])
    st = engine_for(db, date(2026, 11, 3), registry).status(registry.kpis["shop_rating"], Scope.team(), NOVEMBER)
    # Nov 1–2: (4.5 + 4.7) / 2 = 4.6 against Oct 1–2: (4.0 + 4.4) / 2 = 4.2 → +9.5 %
    assert st.actual == pytest.approx(4.6) and st.previous_actual == pytest.approx(4.2)
    assert st.change == pytest.approx(0.4 / 4.2)


def test_a_level_is_not_compared_with_a_period_whose_data_starts_late(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, LEVELS)
    add_facts(db, [("followers", date(2026, 10, 5), 900, ""), ("followers", date(2026, 11, 20), 1200, "")])
    st = engine_for(db, date(2026, 11, 25), registry).status(registry.kpis["followers"], Scope.team(), NOVEMBER)
    assert st.change is None and st.previous_from == date(2026, 10, 5)
    assert status_reply(st, scope_label="Team", lang="en", currency="USD").footnotes[-1] == (
        "No comparison: October 2026 has data from 2026-10-05 only")


# --- §4 budgets ----------------------------------------------------------------------------------

def spend(db: Database, per_day: float, through: date) -> None:
    add_facts(db, [("ad_spend", d, per_day, "b1@shop.com") for d in days(date(2026, 11, 1), through)])


@pytest.mark.parametrize(("per_day", "expected", "word"), [
    # 10 days × 1,500 = 15,000; projected 15,000 / (10/30) = 45,000 ≤ 52,000 → within budget
    (1500, Status.ON_TRACK, "within budget"),
    # 10 × 1,780 = 17,800; projected 53,400: above 52,000 but ≤ 52,000 × 1.05 = 54,600 → at risk
    (1780, Status.AT_RISK, "at risk"),
    # 10 × 1,900 = 19,000; projected 57,000 > 54,600 → over budget
    (1900, Status.OFF_TRACK, "over budget"),
])
def test_budget_status_from_projected_spend(db: Database, per_day: float, expected: Status, word: str) -> None:
    spend(db, per_day, date(2026, 11, 10))
    set_target(db, "ad_spend", Scope.member("b1@shop.com"), "2026-11", 52_000)
    engine = engine_for(db, date(2026, 11, 11))
    st = engine.status(engine.registry.kpis["ad_spend"], Scope.member("b1@shop.com"), NOVEMBER)
    assert st.status is expected and status_word(st, "en") == word
    assert st.projection == pytest.approx(per_day * 30)
    assert st.attainment == pytest.approx(per_day * 10 / 52_000)  # utilisation


def test_budget_is_over_once_spend_exceeds_the_cap(db: Database) -> None:
    # A finished November: 30 × 1,780 = 53,400 > 52,000 → over budget (off track), 超预算
    spend(db, 1780, date(2026, 11, 30))
    set_target(db, "ad_spend", Scope.member("b1@shop.com"), "2026-11", 52_000)
    engine = engine_for(db, date(2026, 12, 5))
    st = engine.status(engine.registry.kpis["ad_spend"], Scope.member("b1@shop.com"), NOVEMBER)
    assert st.actual == 53_400 and st.status is Status.OFF_TRACK and status_word(st, "zh") == "超预算"
    # A higher-is-better reading would have said 102.7 % → on track; a budget scores 52,000 / 53,400
    assert composite_score([st], {"ad_spend": 1.0}) == pytest.approx(52_000 / 53_400)


# --- §5 attributed ROAS vs MER -------------------------------------------------------------------

def test_roas_is_attributed_and_mer_is_blended(db: Database) -> None:
    add_members(db)
    day = date(2026, 11, 2)
    add_facts(db, [("gmv", day, 7090, ""), ("ad_spend", day, 1000, "b1@shop.com"),
                   ("ad_gmv", day, 2810, "b1@shop.com")])
    engine = engine_for(db, date(2026, 11, 10))
    kpis = engine.registry.kpis
    assert engine.status(kpis["roas"], Scope.team(), NOVEMBER).actual == pytest.approx(2.81)  # 2,810 / 1,000
    assert engine.status(kpis["mer"], Scope.team(), NOVEMBER).actual == pytest.approx(7.09)   # 7,090 / 1,000
    assert engine.status(kpis["roas"], Scope.role("ad_buyer"), NOVEMBER).actual == pytest.approx(2.81)


def test_roas_without_ad_gmv_is_no_data_not_gmv_over_spend(db: Database) -> None:
    add_facts(db, [("gmv", date(2026, 11, 2), 7090, ""), ("ad_spend", date(2026, 11, 2), 1000, "")])
    engine = engine_for(db, date(2026, 11, 10))
    st = engine.status(engine.registry.kpis["roas"], Scope.team(), NOVEMBER)
    assert st.actual is None and st.missing == ("ad_gmv",)


# --- §6 honest comparisons -----------------------------------------------------------------------

def test_no_comparison_against_a_period_whose_data_starts_late(db: Database) -> None:
    add_facts(db, [("gmv", d, 100, "") for d in days(date(2026, 9, 21), date(2026, 10, 31))])
    engine = engine_for(db, date(2026, 11, 5))
    st = engine.status(engine.registry.kpis["gmv"], Scope.team(), OCTOBER)
    # September has 10 days (Sep 21–30 = 1,000) against October's 3,100: +210 % would mislead
    assert st.change is None and st.previous_from == date(2026, 9, 21)
    en = status_reply(st, scope_label="Team", lang="en", currency="USD")
    assert "No comparison: September 2026 has data from 2026-09-21 only" in en.footnotes
    zh = status_reply(st, scope_label="团队", lang="zh", currency="USD")
    assert "无法对比：2026年9月 仅有 2026-09-21 起的数据" in zh.footnotes


def test_a_complete_previous_period_is_compared(db: Database) -> None:
    add_facts(db, [("gmv", d, 100, "") for d in days(date(2026, 9, 1), date(2026, 10, 31))])
    add_facts(db, [("gmv", date(2026, 10, 5), 900, "")], source="fix")
    st = engine_for(db, date(2026, 11, 5)).status(load_registry(None).kpis["gmv"], Scope.team(), OCTOBER)
    assert st.change == pytest.approx((3100 + 900) / 3000 - 1)  # October 4,000 vs September 3,000 = +33.3 %


# --- §10 trial KPIs ------------------------------------------------------------------------------

def test_a_trial_kpi_is_tagged_and_left_out_of_composite_scores(db: Database, tmp_path: Path) -> None:
    registry = kpi_file(tmp_path, "kpis:\n  live_cvr: {trial: true}\n")
    add_members(db)
    day = date(2026, 11, 2)
    add_facts(db, [("gmv", day, 1000, "h1@shop.com"), ("live_orders", day, 10, "h1@shop.com"),
                   ("live_viewers", day, 1000, "h1@shop.com")])
    set_target(db, "gmv", Scope.member("h1@shop.com"), "2026-11-02", 500)
    set_target(db, "live_cvr", Scope.member("h1@shop.com"), "2026-11-02", 0.05)
    engine = engine_for(db, date(2026, 11, 10), registry)
    kpis = [registry.kpis["gmv"], registry.kpis["live_cvr"]]
    scores = engine.member_scores(kpis, "host", CAL.day(day), {"gmv": 0.5, "live_cvr": 0.5})
    score = next(s for s in scores if s.member == "h1@shop.com")
    # gmv 1000 / 500 = 200 % capped at 150 %; live_cvr 1 % / 5 % = 20 % is on trial and not counted → 1.5
    assert score.composite == pytest.approx(1.5)
    assert registry.kpis["live_cvr"].label("en") == "Live conversion rate (trial)"
    assert registry.kpis["live_cvr"].label("zh") == "成交转化率（试运行）"


def test_digest_movers_leave_out_a_previous_week_without_data_from_its_start(db: Database) -> None:
    from jobs.digest import collect_digest
    from tests.fixtures_jobs import make_engine, seed_review_fixture

    seed_review_fixture(db)  # data from Nov 1
    engine = make_engine(db, today=date(2026, 11, 9))  # reviews W45 (Nov 2–8) against W44 (Oct 26 – Nov 1)
    data = collect_digest(engine, engine.registry, lang="en", stale_sources=[])
    gmv = next(st for st in data.team_review if st.kpi.id == "gmv")
    # W44 has one day of data (Nov 1): alice +25 % or bob −10 % against it would be noise
    assert gmv.previous_from == date(2026, 11, 1) and gmv.change is None
    assert data.movers == []
