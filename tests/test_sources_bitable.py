"""Bitable source end to end: bot/feishu/bitable.py (lark-oapi) against a fake Open API on 127.0.0.1,
with a tenant-token endpoint and records/search answering in two pages."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.feishu.bitable import make_bitable_fetch
from jobs.sources import sync_source
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import Fact
from storage.settings import Settings

APP_TOKEN, TABLE_ID, VIEW_ID = "bascnKpiDemo01", "tblLive0001", "vewAll00001"
TENANT_TOKEN = "t-fake-tenant-token"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ms(day: date) -> int:
    """Bitable stores a date as the ms timestamp of its midnight in the table's (team) timezone.
    2026-10-01 00:00 in Shanghai is 2026-09-30 16:00 UTC: read in UTC it would be the wrong day."""
    return int(datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).timestamp() * 1000)


XIAOMEI = [{"id": "ou_xm", "name": "小美", "email": "xiaomei@example.com"}]
PAGE_1 = [
    {"record_id": "rec1", "fields": {"日期": ms(date(2026, 10, 1)), "主播": XIAOMEI, "成交额": 1234.5,
                                     "订单数": [{"type": "text", "text": "12"}],  # a text field
                                     "观看人数": {"type": 2, "value": [3400]}}},  # a formula field
    {"record_id": "rec2", "fields": {"日期": ms(date(2026, 10, 2)), "主播": XIAOMEI, "成交额": 800}},
]
PAGE_2 = [
    {"record_id": "rec3", "fields": {"日期": ms(date(2026, 10, 2)), "成交额": 500, "订单数": 4}},  # team-level
]


class FakeOpenApi:
    def __init__(self) -> None:
        self.pages: list[list[dict[str, Any]]] = [PAGE_1, PAGE_2]
        self.searches: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                url = urlsplit(self.path)
                if url.path == "/open-apis/auth/v3/tenant_access_token/internal":
                    self._answer({"code": 0, "msg": "ok", "tenant_access_token": TENANT_TOKEN, "expire": 7200})
                    return
                if url.path == f"/open-apis/bitable/v1/apps/{APP_TOKEN}/tables/{TABLE_ID}/records/search":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    fake.searches.append({"query": query, "body": body,
                                          "auth": self.headers.get("Authorization")})
                    index = int(query.get("page_token", "page0")[4:])
                    more = index + 1 < len(fake.pages)
                    data = {"items": fake.pages[index], "has_more": more, "total": sum(map(len, fake.pages))}
                    if more:
                        data["page_token"] = f"page{index + 1}"
                    self._answer({"code": 0, "msg": "success", "data": data})
                    return
                self._answer({"code": 404, "msg": "not found"}, status=404)

            def _answer(self, payload: dict[str, Any], status: int = 200) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)


@pytest.fixture
def feishu() -> Iterator[FakeOpenApi]:
    fake = FakeOpenApi()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def setup(feishu: FakeOpenApi, make_settings: Callable[..., Settings], tmp_path: Path) -> tuple[Registry, Settings]:
    kpis = tmp_path / "kpis.yaml"
    kpis.write_text(f"""
sources:
  live-sheet:
    kind: bitable
    app_token: {APP_TOKEN}
    table_id: {TABLE_ID}
    view_id: {VIEW_ID}
    date: 日期
    member: 主播
    columns: {{成交额: gmv, 订单数: orders, 观看人数: live_viewers}}
    schedule: "*/30 * * * *"
""", encoding="utf-8")
    settings = make_settings(
        FEISHU_APP_ID=f"cli_{uuid.uuid4().hex[:12]}",  # the SDK's token cache is per app id, process-wide
        FEISHU_APP_SECRET="bitable-test-secret", FEISHU_DOMAIN=feishu.url, KPIBOT_TIMEZONE="Asia/Shanghai",
    )
    return load_registry(kpis), settings


def stored(db: Database) -> dict[tuple[str, date, str], float]:
    with db.session() as session:
        rows = session.execute(select(Fact.metric, Fact.date, Fact.member, Fact.value)
                               .where(Fact.source == "live-sheet")).all()
    return {(m, d, mem): v for m, d, mem, v in rows}


def test_two_pages_of_records_become_facts(db: Database, feishu: FakeOpenApi, setup: tuple[Registry, Settings]) -> None:
    registry, settings = setup
    outcome = sync_source(db, registry, settings, "live-sheet", bitable_fetch=make_bitable_fetch(settings))
    assert outcome.ok, outcome.error
    mei = "xiaomei@example.com"
    assert stored(db) == {
        ("gmv", date(2026, 10, 1), mei): 1234.5,
        ("orders", date(2026, 10, 1), mei): 12.0,  # text "12"
        ("live_viewers", date(2026, 10, 1), mei): 3400.0,  # formula value [3400]
        ("gmv", date(2026, 10, 2), mei): 800.0,
        ("gmv", date(2026, 10, 2), ""): 500.0,  # no person: team-level
        ("orders", date(2026, 10, 2), ""): 4.0,
    }
    assert outcome.rows_read == 3 and outcome.newest_date == date(2026, 10, 2)
    assert [s["query"].get("page_token") for s in feishu.searches] == [None, "page1"]
    assert all(s["query"]["page_size"] == "500" for s in feishu.searches)
    assert all(s["body"].get("view_id") == VIEW_ID for s in feishu.searches)
    assert all(s["auth"] == f"Bearer {TENANT_TOKEN}" for s in feishu.searches)


def test_a_record_deleted_from_the_table_disappears(
    db: Database, feishu: FakeOpenApi, setup: tuple[Registry, Settings]
) -> None:
    registry, settings = setup
    fetch = make_bitable_fetch(settings)
    assert sync_source(db, registry, settings, "live-sheet", bitable_fetch=fetch).ok
    feishu.pages = [PAGE_1, []]  # rec3 deleted in Feishu
    outcome = sync_source(db, registry, settings, "live-sheet", bitable_fetch=fetch)
    assert outcome.ok and outcome.diff.removed == 2  # rec3's gmv and orders
    assert ("gmv", date(2026, 10, 2), "") not in stored(db)
    assert len(stored(db)) == 4


def test_person_without_email_fails_the_sync_and_names_the_record(
    db: Database, feishu: FakeOpenApi, setup: tuple[Registry, Settings]
) -> None:
    registry, settings = setup
    feishu.pages = [[{"record_id": "recX", "fields": {"日期": ms(date(2026, 10, 1)), "成交额": 1,
                                                      "主播": [{"id": "ou_1", "name": "小李"}]}}]]
    outcome = sync_source(db, registry, settings, "live-sheet", bitable_fetch=make_bitable_fetch(settings))
    assert not outcome.ok
    assert "record 1 (recX): 小李 has no email in Feishu" in outcome.error
    assert stored(db) == {}


def test_without_feishu_credentials_the_sync_says_so(db: Database, setup: tuple[Registry, Settings]) -> None:
    registry, settings = setup
    outcome = sync_source(db, registry, settings, "live-sheet", bitable_fetch=None)
    assert not outcome.ok and "FEISHU_APP_ID" in outcome.error
