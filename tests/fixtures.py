"""Small hand-made data sets shared by the engine and conversation tests."""

from __future__ import annotations

from datetime import date

from storage.db import Database
from storage.kpi.periods import Calendar
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo
from storage.repositories import targets as target_repo
from storage.repositories.facts import FactRecord, upsert_facts

MEMBERS = {  # key: (display name, role)
    "h1@shop.com": ("Hana", "host"),
    "h2@shop.com": ("Hugo", "host"),
    "b1@shop.com": ("Bo", "ad_buyer"),
    "e1@shop.com": ("Eli", "editor"),
}


def add_members(db: Database) -> None:
    with db.session() as session:
        for key, (name, role) in MEMBERS.items():
            member = member_repo.ensure_member(session, key, email=key, display_name=name)
            member_repo.assign_role(session, member, role)


def add_facts(db: Database, rows: list[tuple[str, date, float, str]], source: str = "test") -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, day, value, member, source) for metric, day, value, member in rows])


def set_target(db: Database, kpi: str, scope: Scope, period_key: str, value: float) -> None:
    period = Calendar(0).from_key(period_key)
    assert period is not None
    with db.session() as session:
        target_repo.set_target(session, kpi, scope, period, value, "test")


ONE_DAY = date(2026, 11, 2)

# Every raw metric on one day, 2026-11-02 ('' = team-level row).
ONE_DAY_FACTS = [
    ("gmv", ONE_DAY, 1000, "h1@shop.com"), ("gmv", ONE_DAY, 500, "h2@shop.com"), ("gmv", ONE_DAY, 300, ""),
    ("gmv", ONE_DAY, 2400, "b1@shop.com"), ("ad_gmv", ONE_DAY, 2000, "b1@shop.com"),
    ("orders", ONE_DAY, 20, "h1@shop.com"), ("orders", ONE_DAY, 10, "h2@shop.com"), ("orders", ONE_DAY, 6, ""),
    ("returns", ONE_DAY, 3, ""),
    ("negative_reviews", ONE_DAY, 4, ""), ("review_response_hours", ONE_DAY, 10, ""),
    ("add_to_cart", ONE_DAY, 90, ""), ("clicks", ONE_DAY, 200, ""), ("clicks", ONE_DAY, 400, "b1@shop.com"),
    ("live_sessions", ONE_DAY, 2, "h1@shop.com"), ("live_viewers", ONE_DAY, 3000, "h1@shop.com"),
    ("watch_seconds", ONE_DAY, 180000, "h1@shop.com"), ("live_orders", ONE_DAY, 150, "h1@shop.com"),
    ("ad_spend", ONE_DAY, 800, "b1@shop.com"), ("impressions", ONE_DAY, 100000, "b1@shop.com"),
    ("videos_published", ONE_DAY, 3, "e1@shop.com"), ("video_views", ONE_DAY, 10000, "e1@shop.com"),
    ("views_3s", ONE_DAY, 4000, "e1@shop.com"), ("completions", ONE_DAY, 1500, "e1@shop.com"),
]
