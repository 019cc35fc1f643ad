"""A team with data for November 2026 (today = Friday 2026-11-20; data through the 18th),
driven through the test adapter exactly as chat users would."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.bot import KpiBot
from bot.testing import TestAdapter
from storage.db import Database
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.settings import Settings
from tests.fixtures import add_facts, add_members, set_target

TODAY = date(2026, 11, 20)
DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(18)]  # Nov 1–18


def conversation_team(db: Database, settings: Settings) -> TestAdapter:
    add_members(db)  # Hana, Hugo (hosts), Bo (ad buyer), Eli (editor)
    rows = []
    for day in DAYS:
        rows += [("gmv", day, 1000, "h1@shop.com"), ("gmv", day, 500, "h2@shop.com"), ("gmv", day, 300, ""),
                 ("live_sessions", day, 1, "h1@shop.com"), ("live_viewers", day, 200, "h1@shop.com"),
                 ("watch_seconds", day, 12000, "h1@shop.com"), ("live_orders", day, 10, "h1@shop.com")]
    rows += [("gmv", date(2026, 11, 2), 2400, "b1@shop.com"), ("ad_spend", date(2026, 11, 2), 800, "b1@shop.com")]
    add_facts(db, rows)
    set_target(db, "gmv", Scope.team(), "2026-11", 50000)
    set_target(db, "gmv", Scope.member("h1@shop.com"), "2026-11", 30000)
    core = KpiBot(settings=settings, db=db, registry=load_registry(None), today=lambda: TODAY)
    adapter = TestAdapter(core)
    adapter.user("boss", "boss@shop.com")  # admin through KPIBOT_ADMINS
    adapter.user("hana", "h1@shop.com")
    adapter.user("hugo", "h2@shop.com")
    adapter.user("bo", "b1@shop.com")
    adapter.user("newbie", "new@shop.com", platform="slack", user_id="U0NEWBIE")
    return adapter
