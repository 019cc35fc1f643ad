"""The delivery ledger: one claimant per (kind, ref, period, channel); retries with backoff; failures told."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest

from jobs.delivery import Deliverer, Outcome, PartialDelivery, RetryPolicy
from jobs.present.reply import Reply
from storage.db import Database
from storage.repositories import ledger
from storage.repositories.ledger import DeliveryKey
from tests.fixtures_jobs import RecordingOutbox

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KEY = DeliveryKey("digest", "1", "2026-W47", "slack:C1")


def digest_reply() -> Reply:
    return Reply(title="Weekly review")


def rows(db: Database, kind: str | None = None):
    with db.session() as session:
        return ledger.entries(session, kind=kind)


def test_claim_is_granted_once(db: Database) -> None:
    with db.session() as session:
        assert ledger.claim(session, KEY, NOW) is True
    with db.session() as session:
        assert ledger.claim(session, KEY, NOW) is False
        # Another channel or another week is another send.
        assert ledger.claim(session, DeliveryKey("digest", "1", "2026-W47", "slack:C2"), NOW) is True
        assert ledger.claim(session, DeliveryKey("digest", "1", "2026-W48", "slack:C1"), NOW) is True


def test_concurrent_claims_from_separate_engines_have_one_winner(database_url: str, db: Database) -> None:
    """Eight "processes" (each its own engine and connection pool) race for the same send."""
    databases = [Database(database_url) for _ in range(8)]
    barrier = threading.Barrier(len(databases))
    wins: list[bool] = []

    def race(database: Database) -> None:
        barrier.wait()
        with database.session() as session:
            wins.append(ledger.claim(session, KEY, NOW))

    threads = [threading.Thread(target=race, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for database in databases:
        database.dispose()
    assert sorted(wins) == [False] * 7 + [True]


def test_deliver_sends_once_and_stores_the_message_id(db: Database) -> None:
    outbox = RecordingOutbox()
    deliverer = Deliverer(db, {"slack": outbox}, clock=lambda: NOW)
    first = deliverer.deliver(KEY, digest_reply)
    again = deliverer.deliver(KEY, digest_reply)
    assert (first.outcome, first.message_id, first.attempts) == (Outcome.SENT, "slack-msg-1", 1)
    assert again.outcome == Outcome.TAKEN
    assert [(s.channel, s.idempotency_key) for s in outbox.sent] == [("C1", "digest:1:2026-W47:slack:C1")]
    (row,) = rows(db)
    assert (row.status, row.message_id, row.attempts, row.sent_at) == ("sent", "slack-msg-1", 1, NOW)


def test_only_the_claimant_builds_the_reply(db: Database) -> None:
    built: list[str] = []

    def build() -> Reply:
        built.append("built")
        return digest_reply()

    deliverer = Deliverer(db, {"slack": RecordingOutbox()}, clock=lambda: NOW)
    deliverer.deliver(KEY, build)
    deliverer.deliver(KEY, build)
    assert built == ["built"]


def test_failed_send_is_retried_with_backoff_then_sent(db: Database) -> None:
    outbox = RecordingOutbox(fail_when="digest:", fail_times=2)
    waits: list[float] = []
    deliverer = Deliverer(db, {"slack": outbox}, sleep=waits.append, clock=lambda: NOW)
    result = deliverer.deliver(KEY, digest_reply)
    assert (result.outcome, result.attempts) == (Outcome.SENT, 3)
    assert waits == [1.0, 4.0]
    assert len(outbox.sent) == 1
    (row,) = rows(db)
    assert (row.status, row.attempts) == ("sent", 3)


def test_send_that_keeps_failing_is_marked_failed_and_told(
    db: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = RecordingOutbox(fail_when="digest:", fail_times=None)  # the digest fails; short notices go through
    waits: list[float] = []
    deliverer = Deliverer(db, {"slack": outbox}, retry=RetryPolicy((1.0, 4.0, 16.0)), sleep=waits.append,
                          clock=lambda: NOW, admin_ids=["slack:UADMIN", "feishu:ou_x", "boss@example.com"])
    with caplog.at_level(logging.ERROR, logger="jobs.delivery"):
        result = deliverer.deliver(KEY, digest_reply)
    assert (result.outcome, result.attempts) == (Outcome.FAILED, 4)
    assert waits == [1.0, 4.0, 16.0]
    (failed,) = rows(db, "digest")
    assert (failed.status, failed.attempts) == ("failed", 4)
    assert "ConnectionError: platform unavailable (4)" in (failed.error or "")
    assert any("gave up on digest:1:2026-W47:slack:C1 after 4 attempt(s)" in r.message for r in caplog.records)
    # One DM to the Slack admin, never a note into the channel that refused the send (it may be the one
    # throttling); the Feishu admin has no Feishu outbox here, an email is not reachable.
    assert [s.channel for s in outbox.sent] == ["UADMIN"]
    text = outbox.sent[0].reply.text or ""
    assert "could not post the review digest (2026-W47) to slack:C1 after 4 attempts" in text
    assert "platform unavailable" in text and f"`digest resend {failed.id}`" in text
    # Told once: delivering again neither retries nor repeats the notes.
    assert deliverer.deliver(KEY, digest_reply).outcome == Outcome.TAKEN
    assert len(outbox.sent) == 1
    assert [r.status for r in rows(db, "send_failed")] == ["sent"]


def test_partly_delivered_message_is_not_posted_again(db: Database) -> None:
    class ChartUploadRefused(RecordingOutbox):
        def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
            message_id = super().send(channel, reply, idempotency_key=idempotency_key)
            raise PartialDelivery(message_id, "files_upload_v2: file too large")

    outbox = ChartUploadRefused()
    waits: list[float] = []
    result = Deliverer(db, {"slack": outbox}, sleep=waits.append, clock=lambda: NOW).deliver(KEY, digest_reply)
    assert (result.outcome, result.message_id, result.attempts) == (Outcome.SENT, "slack-msg-1", 1)
    assert len(outbox.sent) == 1 and waits == []
    (row,) = rows(db)
    assert (row.status, row.message_id) == ("sent", "slack-msg-1")
    assert row.error == "partly delivered: files_upload_v2: file too large"


def test_platform_without_outbox_claims_nothing(db: Database) -> None:
    deliverer = Deliverer(db, {"slack": RecordingOutbox()}, clock=lambda: NOW)
    result = deliverer.deliver(DeliveryKey("digest", "1", "2026-W47", "feishu:oc_1"), digest_reply)
    assert result.outcome == Outcome.NO_OUTBOX
    assert rows(db) == []


def test_missed_send_is_recorded_once(db: Database) -> None:
    with db.session() as session:
        assert ledger.record_missed(session, KEY, NOW, "13.0 h late") is True
        assert ledger.record_missed(session, KEY, NOW, "13.0 h late") is False
        assert ledger.claim(session, KEY, NOW) is False  # a missed send is never made later
    (row,) = rows(db)
    assert (row.status, row.error) == ("missed", "13.0 h late")
