"""Migration 0004 keeps existing facts (shop '' = none named) and widens the key to the shop."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import text

from storage.db import Database, alembic_config
from storage.repositories.facts import FactRecord, upsert_facts


def test_existing_facts_survive_and_a_shop_makes_a_new_key(database_url: str) -> None:
    db = Database(database_url)
    command.upgrade(alembic_config(db.url, db.engine), "0003")  # the schema before shops (0004 follows 0003)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO fact (metric, date, member, source, value, updated_at) "
                          "VALUES ('gmv', '2026-11-02', 'h1', 'api', 1234.5, '2026-11-02 10:00:00')"))
    db.upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT metric, member, shop, source, value, original_value FROM fact")).all()
    assert [tuple(r) for r in rows] == [("gmv", "h1", "", "api", 1234.5, None)]
    with db.session() as session:  # the same (metric, date, member, source) in a shop is another row
        upsert_facts(session, [FactRecord("gmv", date(2026, 11, 2), 100.0, "h1", "api", shop="tiktok-us"),
                               FactRecord("gmv", date(2026, 11, 2), 1300.0, "h1", "api")])
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT shop, value FROM fact ORDER BY shop")).all()
    assert [tuple(r) for r in rows] == [("", 1300.0), ("tiktok-us", 100.0)]  # the old row corrected in place
    db.dispose()
