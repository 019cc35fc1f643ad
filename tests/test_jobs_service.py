"""JobService: catch-up on start, jobs rebuilt from the tables, source syncs, immediate digests."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from jobs.service import JobService
from storage.db import Database
from storage.repositories import alerts as alert_repo
from storage.repositories import ledger
from storage.repositories import subscriptions as subscription_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import RecordingOutbox, make_engine, seed_review_fixture, subscribe, utc


def make_service(db: Database, make_settings: Any, outbox: RecordingOutbox, **options: Any) -> JobService:
    settings = make_settings(**options.pop("settings", {}))
    engine = make_engine(db, tz=settings.timezone)
    return JobService(db=db, registry=engine.registry, settings=settings, engine=engine, outboxes={"slack": outbox},
                      digest_charts=False, **options)


def test_restart_after_a_missed_run_sends_it_once_on_start(db: Database, make_settings: Any) -> None:
    subscribe(db, created_at=utc(2026, 11, 1))
    outbox = RecordingOutbox()
    # The bot was down over Monday 09:00 in Shanghai (01:00 UTC) and comes back at 15:00 there: 6 h late.
    with time_machine.travel(utc(2026, 11, 23, 7), tick=True):
        first = make_service(db, make_settings, outbox)
        assert first.start() is True
        first.stop()  # stopping waits for the start-up catch-up to finish
        assert outbox.keys() == ["digest:1:2026-W47:slack:C1"]
        restarted = make_service(db, make_settings, outbox)
        assert restarted.start() is True
        restarted.stop()
    assert outbox.keys() == ["digest:1:2026-W47:slack:C1"]


def test_jobs_follow_the_tables(db: Database, make_settings: Any) -> None:
    warehouse = SimpleNamespace(name="warehouse", schedule="15 6 * * 1-5")
    first = subscribe(db)
    leader = make_service(db, make_settings, RecordingOutbox(), source_syncs=[warehouse],
                          settings={"KPIBOT_TIMEZONE": "Asia/Shanghai"})
    follower = make_service(db, make_settings, RecordingOutbox())
    try:
        assert leader.start() is True
        assert follower.start() is False
        jobs = leader.next_run_times()
        assert set(jobs) == {"alerts", "stoploss", "tick", "recover", "housekeeping", f"digest:{first}",
                             "sync:warehouse"}
        digest_next = jobs[f"digest:{first}"]
        assert digest_next is not None
        local = digest_next.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        sync_next = jobs["sync:warehouse"]
        assert sync_next is not None
        local = sync_next.astimezone(ZoneInfo("Asia/Shanghai"))  # the team timezone
        assert local.weekday() < 5 and (local.hour, local.minute) == (6, 15)

        second = subscribe(db, timezone="America/Los_Angeles", channel="C2")
        with db.session() as session:
            subscription_repo.deactivate_subscription(session, first)
        leader.reschedule()
        follower.reschedule()  # not the leader: nothing to rebuild
        assert set(leader.next_run_times()) == {"alerts", "stoploss", "tick", "recover", "housekeeping",
                                                f"digest:{second}", "sync:warehouse"}
        assert follower.next_run_times() == {}
    finally:
        follower.stop()
        leader.stop()


def test_no_source_jobs_when_the_kpi_file_has_no_sources(db: Database, make_settings: Any) -> None:
    service = make_service(db, make_settings, RecordingOutbox())
    try:
        assert service.start() is True
        assert set(service.next_run_times()) == {"alerts", "stoploss", "tick", "recover", "housekeeping"}
    finally:
        service.stop()


def test_source_sync_then_alerts_and_a_warning_when_it_keeps_failing(db: Database, make_settings: Any) -> None:
    subscribe(db, channel="C1", lang="zh")
    with db.session() as session:
        upsert_facts(session, [FactRecord("ad_spend", date(2026, 11, 22), 6000)])
        alert_repo.add_rule(session, kpi="ad_spend", scope_kind="team", scope_key="", mode="value", op=">",
                            threshold=5000, days=1, channel="slack:C9", lang="en", created_by="admin")
    calls: list[tuple[Any, ...]] = []

    def failing_sync(db_: Database, registry: Any, settings: Any, name: str) -> SimpleNamespace:
        calls.append((db_ is db, name))
        return SimpleNamespace(warn_admins=True, error="connection refused", started_at=utc(2026, 11, 23, 9, 15))

    outbox = RecordingOutbox()
    service = make_service(db, make_settings, outbox, sync_source=failing_sync,
                           settings={"KPIBOT_ADMINS": "slack:UADMIN,feishu:ou_1"})
    with time_machine.travel(utc(2026, 11, 23, 10), tick=False):
        service.run_source_sync("warehouse")
        service.run_source_sync("warehouse")  # the same failing spell: nobody is told twice
    assert calls == [(True, "warehouse"), (True, "warehouse")]
    assert outbox.keys() == [
        "source_warning:warehouse:20261123T091500Z:slack:UADMIN",
        "source_warning:warehouse:20261123T091500Z:slack:C1",
        "alert:1:20261123T100000Z:slack:C9",  # alerts are evaluated after each sync
    ]
    assert "connection refused" in (outbox.sent[0].reply.text or "")
    assert outbox.sent[1].reply.text == "数据源 warehouse 连续两次同步失败，来自它的数据可能不是最新的。已通知管理员。"


def test_a_crashing_sync_still_evaluates_alerts(db: Database, make_settings: Any) -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord("ad_spend", date(2026, 11, 22), 6000)])
        alert_repo.add_rule(session, kpi="ad_spend", scope_kind="team", scope_key="", mode="value", op=">",
                            threshold=5000, days=1, channel="slack:C9", lang="en", created_by="admin")

    def crashing_sync(*args: Any) -> None:
        raise RuntimeError("boom")

    outbox = RecordingOutbox()
    service = make_service(db, make_settings, outbox, sync_source=crashing_sync)
    with time_machine.travel(utc(2026, 11, 23, 10), tick=False):
        service.run_source_sync("warehouse")
    assert outbox.keys() == ["alert:1:20261123T100000Z:slack:C9"]


def test_send_digest_now_is_immediate_and_not_ledgered(db: Database, make_settings: Any) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    service = make_service(db, make_settings, outbox)
    with time_machine.travel(utc(2026, 11, 23, 10), tick=False):
        assert service.send_digest_now("slack", "C7", "zh") == "slack-msg-1"
        assert service.send_digest_now("slack", "C7", "zh") == "slack-msg-2"  # asked twice, sent twice
    assert outbox.sent[0].channel == "C7"
    assert outbox.sent[0].reply.title.startswith("周复盘 · 2026年第47周")
    with db.session() as session:
        assert ledger.entries(session) == []
    with pytest.raises(LookupError, match="feishu"):
        service.send_digest_now("feishu", "oc_1", "en")


def test_housekeeping_forgets_old_event_ids_and_sync_runs(db: Database, make_settings: Any) -> None:
    from datetime import timedelta

    from storage.models import ConversationMemory, ProcessedEvent, SourceSyncRun, utcnow
    from storage.repositories.conversations import ConversationKey, remember
    from storage.repositories.events import claim_event

    with db.session() as session:
        claim_event(session, "slack", "Ev-old")
        claim_event(session, "slack", "Ev-new")
        session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == "Ev-old")).one().received_at = (
            utcnow() - timedelta(hours=30))
        # two successful runs of one source 100 days ago: the older goes, the latest success stays
        for _ in range(2):
            session.add(SourceSyncRun(source="shop", kind="sql", ok=True, started_at=utcnow() - timedelta(days=100)))
        # a follow-up memory from 20 minutes ago has expired; one from a minute ago has not
        remember(session, ConversationKey("slack", "C1", "U1"), "old", utcnow() - timedelta(minutes=20))
        remember(session, ConversationKey("slack", "C1", "U2"), "new", utcnow() - timedelta(minutes=1))
    make_service(db, make_settings, RecordingOutbox()).housekeeping()
    with db.session() as session:
        assert [e.event_id for e in session.exec(select(ProcessedEvent))] == ["Ev-new"]
        assert len(session.exec(select(SourceSyncRun)).all()) == 1
        assert [m.question for m in session.exec(select(ConversationMemory))] == ["new"]
