"""Storage on SQLite and PostgreSQL: aware UTC timestamps, idempotent upserts, event dedupe,
definitions mirrored from the registry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlmodel import select

from storage.db import Database
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.models import AuditEntry, Fact, KpiDefinition, Role
from storage.repositories.audit import Actor, record
from storage.repositories.definitions import sync_definitions
from storage.repositories.events import claim_event, prune_events
from storage.repositories.facts import FactRecord, period_sums, upsert_facts


def test_timestamps_come_back_aware_and_in_utc(db: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    with db.session() as session:
        entry = record(session, Actor("slack", "U1"), "target.set", "x")
        entry.at = datetime(2026, 11, 23, 9, 0, tzinfo=shanghai)
        session.add(entry)
    with db.session() as session:
        [stored] = session.exec(select(AuditEntry)).all()
    assert stored.at.tzinfo is not None
    assert stored.at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 +08:00 = 01:00 UTC


def test_a_repeated_push_counts_once_and_a_correction_replaces(db: Database) -> None:
    day = date(2026, 11, 2)
    batch = [FactRecord("gmv", day, 100, "a", "shop"), FactRecord("gmv", day, 50, "", "shop")]
    with db.session() as session:
        upsert_facts(session, batch)
        upsert_facts(session, batch)  # the same records again
    with db.session() as session:
        assert period_sums(session, ["gmv"], Scope.team(), day, day).sums == {"gmv": 150.0}  # 100 + 50
        upsert_facts(session, [FactRecord("gmv", day, 120, "a", "shop")])  # a corrected value
    with db.session() as session:
        assert period_sums(session, ["gmv"], Scope.team(), day, day).sums == {"gmv": 170.0}  # 120 + 50
        assert len(session.exec(select(Fact)).all()) == 2


def test_the_same_key_twice_in_one_batch_keeps_the_last(db: Database) -> None:
    day = date(2026, 11, 2)
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", day, 1, "a"), FactRecord("gmv", day, 2, "a")])
    with db.session() as session:
        assert period_sums(session, ["gmv"], Scope.member("a"), day, day).sums == {"gmv": 2.0}


def test_an_event_is_claimed_once(db: Database) -> None:
    with db.session() as session:
        assert claim_event(session, "slack", "Ev1")
    with db.session() as session:
        assert not claim_event(session, "slack", "Ev1")
        assert claim_event(session, "feishu", "Ev1")  # another platform's id space
    with db.session() as session:
        assert prune_events(session, datetime.now(UTC) + timedelta(days=2)) == 2


def test_definitions_are_mirrored_from_the_registry(db: Database) -> None:
    registry = load_registry(None)
    with db.session() as session:
        sync_definitions(session, registry)
        sync_definitions(session, registry)  # idempotent
    with db.session() as session:
        kpis = {k.id: k for k in session.exec(select(KpiDefinition))}
        roles = {r.id for r in session.exec(select(Role))}
    assert set(kpis) == set(registry.kpis)
    assert (kpis["roas"].formula, kpis["cpm"].direction) == ("ad_gmv / ad_spend", "lower")
    assert roles == {"host", "ad_buyer", "editor", "ops_manager"}
