"""Migration 0009 adds the stop-loss guard to alert rules; existing rules keep everything and have none."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from storage.db import Database, alembic_config
from storage.repositories import alerts as alert_repo


def test_existing_alert_rules_survive_without_a_guard(database_url: str) -> None:
    db = Database(database_url)
    command.upgrade(alembic_config(db.url, db.engine), "0007")  # the schema before stop-loss guards
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO alert_rule (kpi, scope_kind, scope_key, mode, op, threshold, days, channel, lang, "
            "cooldown_hours, active, created_by, created_at) VALUES ('roas', 'team', '', 'value', '<', 2.0, 3, "
            "'slack:C1', 'en', 24.0, :active, 'boss', '2026-11-02 10:00:00')"), {"active": True})
    db.upgrade()
    with db.session() as session:
        [rule] = alert_repo.list_rules(session)
        assert (rule.kpi, rule.mode, rule.op, rule.threshold, rule.days, rule.channel) == (
            "roas", "value", "<", 2.0, 3, "slack:C1")
        assert (rule.guard_kpi, rule.guard_op, rule.guard_threshold) == (None, None, None)
    db.dispose()
