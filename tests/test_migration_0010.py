"""Migration 0010 keeps existing targets and alert rules (shop '' = every shop) and lets a role or member
have a target or an alert per shop."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from storage.db import Database, alembic_config
from storage.kpi.periods import Calendar
from storage.kpi.scope import Scope
from storage.repositories import targets as target_repo


def test_existing_targets_survive_and_a_shop_makes_a_new_key(database_url: str) -> None:
    db = Database(database_url)
    command.upgrade(alembic_config(db.url, db.engine), "0005")  # the schema before target.shop
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO target (kpi, scope_kind, scope_key, period_kind, period_key, period_start,"
                          " period_end, value, set_by, set_at) VALUES ('gmv', 'role', 'host', 'month', '2026-11',"
                          " '2026-11-01', '2026-11-30', 1000.0, 'boss', '2026-11-02 10:00:00')"))
        conn.execute(text("INSERT INTO alert_rule (kpi, scope_kind, scope_key, mode, op, threshold, days, channel,"
                          " lang, cooldown_hours, active, created_by, created_at) VALUES ('roas', 'role', 'ad_buyer',"
                          " 'value', '<', 2.0, 3, 'slack:C1', 'en', 24.0, true, 'boss', '2026-11-02 10:00:00')"))
    db.upgrade()
    with db.engine.connect() as conn:
        rules = conn.execute(text("SELECT kpi, scope_kind, scope_key, shop, threshold FROM alert_rule")).all()
    assert [tuple(r) for r in rules] == [("roas", "role", "ad_buyer", "", 2.0)]
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT kpi, scope_kind, scope_key, shop, value FROM target")).all()
    assert [tuple(r) for r in rows] == [("gmv", "role", "host", "", 1000.0)]
    november = Calendar(0).from_key("2026-11")
    assert november is not None
    with db.session() as session:  # the same role in one shop is another target; the old one is untouched
        in_shop = Scope.role("host").in_shop("tiktok-us")
        assert target_repo.set_target(session, "gmv", in_shop, november, 400, "boss") is None
        assert target_repo.set_target(session, "gmv", Scope.role("host"), november, 1200, "boss") == 1000.0
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT shop, value FROM target ORDER BY shop")).all()
    assert [tuple(r) for r in rows] == [("", 1200.0), ("tiktok-us", 400.0)]
    db.dispose()
