"""Freshness: every source with its last success, newest data and staleness; failing twice warns once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from jobs.sources import source_states, stale_sources_for, sync_source
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import utcnow
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.sync_runs import prune_runs, record_run
from storage.settings import Settings

TODAY = date(2026, 10, 10)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    (tmp_path / "wh").mkdir()
    kpis = tmp_path / "kpis.yaml"
    kpis.write_text(f"""
sources:
  warehouse:
    kind: sql
    url: sqlite:///{tmp_path}/wh/warehouse.db
    query: SELECT day AS date, gmv FROM daily WHERE day BETWEEN :start AND :end
    expected_lag_days: 1
  broken:
    kind: sql
    url: sqlite:///{tmp_path}/no/such/dir/x.db
    query: SELECT 1 AS date
""", encoding="utf-8")
    return load_registry(kpis)


def add(db: Database, source: str, metric: str, day: date, value: float = 1.0) -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, day, value, "", source)])
        record_run(session, source=source, kind="api" if source == "api" else "import", started_at=utcnow(),
                   ok=True, rows_read=1, rows_written=1, newest_date=day)


def test_states_list_configured_then_seen_sources(db: Database, registry: Registry) -> None:
    add(db, "api", "gmv", TODAY - timedelta(days=1))  # fresh: 1 day ≤ 2
    add(db, "shopee-import", "orders", TODAY - timedelta(days=3))  # stale: 3 days > 2
    states = {state.name: state for state in source_states(db, registry, TODAY)}
    assert list(states) == ["warehouse", "broken", "api", "shopee-import"]
    never = states["warehouse"]
    assert (never.kind, never.configured, never.stale, never.newest_date, never.last_success) == (
        "sql", True, True, None, None)
    assert (states["api"].kind, states["api"].stale, states["api"].newest_date) == ("api", False, TODAY - timedelta(1))
    assert states["api"].last_success is not None
    assert (states["shopee-import"].kind, states["shopee-import"].stale) == ("import", True)


def test_expected_lag_is_per_source(db: Database, registry: Registry) -> None:
    add(db, "warehouse", "gmv", TODAY - timedelta(days=2))
    add(db, "api", "gmv", TODAY - timedelta(days=2))
    states = {state.name: state for state in source_states(db, registry, TODAY)}
    assert states["warehouse"].stale  # expected_lag_days: 1 — two days is late
    assert not states["api"].stale  # default 2 days


def test_stale_sources_for_names_only_stale_feeders(db: Database, registry: Registry) -> None:
    add(db, "api", "gmv", TODAY)  # fresh
    add(db, "late-shop", "gmv", TODAY - timedelta(days=5))  # stale, feeds gmv
    add(db, "late-ads", "ad_spend", TODAY - timedelta(days=5))  # stale, feeds ad_spend only
    add(db, "backfill-2025", "gmv", TODAY - timedelta(days=200))  # stale, but no longer feeding anything
    assert stale_sources_for(db, registry, ["gmv"], TODAY) == ["late-shop"]
    assert stale_sources_for(db, registry, ["gmv", "ad_spend"], TODAY) == ["late-ads", "late-shop"]
    assert stale_sources_for(db, registry, ["orders"], TODAY) == []


def test_stale_sources_for_lists_configured_sources_first_with_their_own_lag(db: Database, registry: Registry) -> None:
    add(db, "late-shop", "gmv", TODAY - timedelta(days=5))  # stale under the default 2-day lag
    add(db, "warehouse", "gmv", TODAY - timedelta(days=2))  # configured with expected_lag_days: 1 → stale
    add(db, "api", "gmv", TODAY - timedelta(days=2))  # default lag 2 → fresh
    # As `sources` lists them: the KPI file's sources in file order, then the others by name.
    assert stale_sources_for(db, registry, ["gmv"], TODAY) == ["warehouse", "late-shop"]


def test_failing_twice_in_a_row_warns_once_per_spell(
    db: Database, registry: Registry, make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    caplog.set_level(logging.WARNING, logger="kpibot.sources")

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    first = sync_source(db, registry, settings, "broken", today=TODAY)
    assert not first.ok and not first.warn_admins and warnings() == []
    second = sync_source(db, registry, settings, "broken", today=TODAY)
    assert second.warn_admins
    assert len(warnings()) == 1
    assert "'broken' failed twice in a row" in warnings()[0] and "unable to open database file" in warnings()[0]
    third = sync_source(db, registry, settings, "broken", today=TODAY)
    assert not third.warn_admins and len(warnings()) == 1  # not again while the spell lasts
    state = next(s for s in source_states(db, registry, TODAY) if s.name == "broken")
    assert state.failing_streak == 3 and "unable to open database file" in (state.last_error or "")
    assert state.last_success is None


def test_a_success_ends_the_failing_spell(
    db: Database, registry: Registry, make_settings: Callable[..., Settings], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import sqlite3

    settings = make_settings()
    caplog.set_level(logging.WARNING, logger="kpibot.sources")
    assert not sync_source(db, registry, settings, "warehouse", today=TODAY).ok  # no table yet
    assert sync_source(db, registry, settings, "warehouse", today=TODAY).warn_admins
    with sqlite3.connect(tmp_path / "wh" / "warehouse.db") as conn:
        conn.execute("CREATE TABLE daily (day TEXT, gmv REAL)")
        conn.execute("INSERT INTO daily VALUES ('2026-10-09', 10)")
    assert sync_source(db, registry, settings, "warehouse", today=TODAY).ok
    state = next(s for s in source_states(db, registry, TODAY) if s.name == "warehouse")
    assert (state.failing_streak, state.last_error, state.stale, state.newest_date) == (0, None, False,
                                                                                        date(2026, 10, 9))
    with sqlite3.connect(tmp_path / "wh" / "warehouse.db") as conn:
        conn.execute("DROP TABLE daily")
    sync_source(db, registry, settings, "warehouse", today=TODAY)
    assert sync_source(db, registry, settings, "warehouse", today=TODAY).warn_admins  # a new spell warns again
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


def test_prune_keeps_each_sources_latest_success(db: Database) -> None:
    long_ago = utcnow() - timedelta(days=200)
    with db.session() as session:
        for _ in range(3):
            record_run(session, source="api", kind="api", started_at=long_ago, ok=True)
        record_run(session, source="api", kind="api", started_at=long_ago, ok=False, error="x")
    with db.session() as session:
        assert prune_runs(session, keep_days=90) == 3
    with db.session() as session:
        from storage.repositories.sync_runs import run_summaries

        summary = run_summaries(session)["api"]
    assert summary.last_success is not None
