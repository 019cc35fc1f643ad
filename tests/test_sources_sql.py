"""SQL source against a real second database: SQLite always, PostgreSQL when KPIBOT_TEST_DATABASE_URL is set
(the warehouse is then a schema of its own on that server)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from jobs.sources import sync_source
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import Fact, SourceSyncRun
from storage.settings import Settings
from tests.conftest import PG_URL

TODAY = date(2026, 10, 10)  # re-sync window (7 days): 2026-10-03 … 2026-10-10
QUERY = """
    SELECT day AS date, host AS member, SUM(amount) AS gmv, COUNT(*) AS orders
    FROM sales WHERE day BETWEEN :start AND :end GROUP BY day, host
"""


@pytest.fixture
def warehouse(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(raw URL with a ${VAR} reference, expanded URL) of a `sales` table on the same kind of server."""
    if database_url.startswith("sqlite"):
        monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
        real = f"sqlite:///{tmp_path}/warehouse.db"
        _create_sales(real, "REAL", "TEXT")
        yield "sqlite:///${WAREHOUSE_DIR}/warehouse.db", real
        return
    schema = f"wh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "pg-secret-123")
    url = make_url(PG_URL).set(password="${WAREHOUSE_PASSWORD}").update_query_dict(
        {"options": f"-csearch_path={schema}"})
    raw = url.render_as_string(hide_password=False)
    real = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    _create_sales(real, "NUMERIC(12, 2)", "DATE")
    try:
        yield raw, real
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _create_sales(url: str, money: str, day: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE sales (day {day} NOT NULL, host VARCHAR(200) NOT NULL, amount {money})"))
    engine.dispose()


def run_sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def registry_for(tmp_path: Path, url: str, query: str = QUERY) -> Registry:
    path = tmp_path / "kpis.yaml"
    indented = "\n".join("      " + line for line in query.strip().splitlines())
    path.write_text(f"sources:\n  warehouse:\n    kind: sql\n    url: '{url}'\n    query: |\n{indented}\n",
                    encoding="utf-8")
    return load_registry(path)


def stored(db: Database) -> dict[tuple[str, date, str], float]:
    with db.session() as session:
        rows = session.execute(select(Fact.metric, Fact.date, Fact.member, Fact.value)
                               .where(Fact.source == "warehouse")).all()
    return {(m, d, mem): float(v) for m, d, mem, v in rows}


def test_t_plus_1_correction_replaces_inside_the_window_and_leaves_older_days(
    db: Database, warehouse: tuple[str, str], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    raw, real = warehouse
    registry, settings = registry_for(tmp_path, raw), make_settings()
    run_sql(real, "INSERT INTO sales VALUES ('2026-09-30', 'alice', 100)",
            "INSERT INTO sales VALUES ('2026-10-08', 'alice', 120)",
            "INSERT INTO sales VALUES ('2026-10-08', 'alice', 80)",
            "INSERT INTO sales VALUES ('2026-10-09', 'bob', 50)")
    backfill = sync_source(db, registry, settings, "warehouse", today=TODAY, since=date(2026, 9, 1))
    assert backfill.ok, backfill.error
    assert stored(db) == {
        ("gmv", date(2026, 9, 30), "alice"): 100.0, ("orders", date(2026, 9, 30), "alice"): 1.0,
        ("gmv", date(2026, 10, 8), "alice"): 200.0,  # aggregated in the warehouse: 120 + 80
        ("orders", date(2026, 10, 8), "alice"): 2.0,
        ("gmv", date(2026, 10, 9), "bob"): 50.0, ("orders", date(2026, 10, 9), "bob"): 1.0,
    }
    run_sql(real,
            "UPDATE sales SET amount = 999 WHERE day = '2026-09-30'",  # outside the next window: not re-read
            "UPDATE sales SET amount = 70 WHERE day = '2026-10-09'",  # T+1 correction …
            "INSERT INTO sales VALUES ('2026-10-09', 'bob', 30)",  # … and a late order: bob = 70 + 30
            "DELETE FROM sales WHERE day = '2026-10-08'",  # vanished at the source
            "INSERT INTO sales VALUES ('2026-10-10', 'alice', 30)")  # today, new
    outcome = sync_source(db, registry, settings, "warehouse", today=TODAY)
    assert outcome.ok, outcome.error
    assert outcome.window == (date(2026, 10, 3), TODAY)
    assert stored(db) == {
        ("gmv", date(2026, 9, 30), "alice"): 100.0,  # untouched: 999 is outside the window
        ("orders", date(2026, 9, 30), "alice"): 1.0,
        ("gmv", date(2026, 10, 9), "bob"): 100.0, ("orders", date(2026, 10, 9), "bob"): 2.0,
        ("gmv", date(2026, 10, 10), "alice"): 30.0, ("orders", date(2026, 10, 10), "alice"): 1.0,
    }
    d = outcome.diff
    assert (d.new, d.changed, d.unchanged, d.removed) == (2, 2, 0, 2)
    assert (outcome.rows_read, outcome.rows_written, outcome.newest_date) == (2, 6, TODAY)


def test_unchanged_rows_are_not_rewritten(
    db: Database, warehouse: tuple[str, str], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    raw, real = warehouse
    registry, settings = registry_for(tmp_path, raw), make_settings()
    run_sql(real, "INSERT INTO sales VALUES ('2026-10-09', 'bob', 50)")
    assert sync_source(db, registry, settings, "warehouse", today=TODAY).ok
    with db.session() as session:
        first = session.execute(select(Fact.updated_at).where(Fact.metric == "gmv")).scalar_one()
    again = sync_source(db, registry, settings, "warehouse", today=TODAY)
    assert (again.diff.unchanged, again.rows_written) == (2, 0)
    with db.session() as session:
        assert session.execute(select(Fact.updated_at).where(Fact.metric == "gmv")).scalar_one() == first


def test_an_empty_answer_deletes_nothing(
    db: Database, warehouse: tuple[str, str], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    raw, real = warehouse
    registry, settings = registry_for(tmp_path, raw), make_settings()
    run_sql(real, "INSERT INTO sales VALUES ('2026-10-09', 'bob', 50)")
    assert sync_source(db, registry, settings, "warehouse", today=TODAY).ok
    run_sql(real, "DELETE FROM sales")
    outcome = sync_source(db, registry, settings, "warehouse", today=TODAY)
    assert outcome.ok and outcome.rows_written == 0
    assert stored(db)[("gmv", date(2026, 10, 9), "bob")] == 50.0


def test_bad_rows_fail_the_sync_and_write_nothing(
    db: Database, warehouse: tuple[str, str], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    raw, real = warehouse
    query = "SELECT day AS date, host AS member, amount AS gmv FROM sales WHERE day BETWEEN :start AND :end"
    registry, settings = registry_for(tmp_path, raw, query), make_settings()
    run_sql(real, "INSERT INTO sales VALUES ('2026-10-09', 'bob', 50)",
            "INSERT INTO sales VALUES ('2026-10-09', 'eve', NULL)",  # no amount: no value, not an error
            "INSERT INTO sales VALUES ('2026-10-08', 'bob', 1)", "INSERT INTO sales VALUES ('2026-10-08', 'bob', 2)")
    outcome = sync_source(db, registry, settings, "warehouse", today=TODAY)
    assert not outcome.ok
    assert "same date, member and metric (gmv) as row" in outcome.error  # two rows for bob on 10-08
    assert stored(db) == {}
    with db.session() as session:
        run = session.execute(select(SourceSyncRun)).scalar_one()
    assert (run.kind, run.ok) == ("sql", False)


def test_unreachable_database_error_masks_the_password(
    db: Database, tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WH_PASSWORD", "hunter2-very-secret")
    registry = registry_for(tmp_path, "postgresql+psycopg://reader:${WH_PASSWORD}@127.0.0.1:1/shop?connect_timeout=2")
    outcome = sync_source(db, registry, make_settings(), "warehouse", today=TODAY)
    assert not outcome.ok
    assert "hunter2" not in outcome.error and "reader:***@127.0.0.1:1/shop" in outcome.error
    assert "Traceback" not in outcome.error
    with db.session() as session:
        stored_error = session.execute(select(SourceSyncRun.error)).scalar_one()
    assert "hunter2" not in stored_error


def test_missing_environment_variable_is_named(
    db: Database, tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    registry = registry_for(tmp_path, "postgresql+psycopg://reader:${NOT_SET_ANYWHERE}@127.0.0.1/shop")
    outcome = sync_source(db, registry, make_settings(), "warehouse", today=TODAY)
    assert not outcome.ok and "environment variable NOT_SET_ANYWHERE is not set" in outcome.error


def test_a_column_that_is_no_metric_is_named(
    db: Database, warehouse: tuple[str, str], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    raw, real = warehouse
    query = "SELECT day AS date, host AS member, amount AS revenu FROM sales WHERE day BETWEEN :start AND :end"
    registry, settings = registry_for(tmp_path, raw, query), make_settings()
    run_sql(real, "INSERT INTO sales VALUES ('2026-10-09', 'bob', 50)")
    outcome = sync_source(db, registry, settings, "warehouse", today=TODAY)
    assert not outcome.ok
    assert 'columns, column "revenu": not a known metric' in outcome.error
