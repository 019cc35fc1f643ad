"""The suite's own database fixtures (tests/conftest.py): every test that asks for `db` starts from what a
fresh migration leaves (the tables at head, no rows, ids from 1), however the tests before it in the same
process left theirs. SQLite starts from a copy of a file migrated once; PostgreSQL lends one migrated schema,
emptied before each loan."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from storage.db import Database
from tests.conftest import PG_URL, MigratedPostgres

REMEMBER = text("INSERT INTO conversation_memory (platform, conversation, user_id, question, asked_at) "
                "VALUES ('slack', 'C1', :user, 'gmv month', :at) RETURNING id")


def remember(db: Database, user: str) -> int:
    with db.engine.begin() as conn:
        return conn.execute(REMEMBER, {"user": user, "at": datetime(2026, 11, 30, tzinfo=UTC)}).scalar_one()


def rows(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM conversation_memory")).scalar_one()


def test_db_is_migrated_to_head_and_empty(db: Database) -> None:
    assert db.migrations_current()
    assert rows(db) == 0
    assert remember(db, "U1") == 1  # ids from 1


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set KPIBOT_TEST_DATABASE_URL")
def test_a_lent_postgres_schema_comes_back_empty_and_a_reshaped_one_is_replaced() -> None:
    schemas = MigratedPostgres()
    try:
        first = schemas.lend()
        db = Database(first)
        assert (remember(db, "U1"), remember(db, "U2")) == (1, 2)
        db.dispose()

        assert schemas.lend() == first  # the same schema, emptied: no rows, ids from 1 again
        db = Database(first)
        assert rows(db) == 0 and db.migrations_current()
        assert remember(db, "U3") == 1
        with db.engine.begin() as conn:  # a test that changes the schema's shape
            conn.execute(text("ALTER TABLE conversation_memory ADD COLUMN extra INTEGER"))
        db.dispose()

        second = schemas.lend()  # is not lent again: a freshly migrated one instead
        assert second != first
        db = Database(second)
        columns = {column["name"] for column in inspect(db.engine).get_columns("conversation_memory")}
        assert "extra" not in columns and db.migrations_current() and rows(db) == 0
        db.dispose()
    finally:
        schemas.close()
