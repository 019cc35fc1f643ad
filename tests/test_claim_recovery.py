"""Claims left by a dead process (issue 18 §1), resolved by the leader's ClaimRecovery, on every database:
a send that looked like it was lost for good (claimed, 0 attempts, nothing logged) is now sent, found, or
told to the admins — and a live send of this process is never taken over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from jobs.delivery import Deliverer, Outcome, RetryPolicy
from jobs.present.reply import Reply
from jobs.recovery import ClaimRecovery, HistoryUnavailable
from storage.db import Database
from storage.models import DeliveryLedger
from storage.repositories import ledger
from storage.repositories.ledger import DeliveryKey
from tests.fixtures_jobs import RecordingOutbox

NOW = datetime(2026, 11, 23, 9, 10, tzinfo=UTC)
CLAIMED = NOW - timedelta(minutes=5)  # older than the 2-minute claim timeout


@dataclass
class IdempotentOutbox(RecordingOutbox):
    """A platform that keeps one message per idempotency key (Feishu's uuid)."""

    platform: str = "feishu"
    idempotency_window: timedelta = timedelta(minutes=50)


@dataclass
class SearchableOutbox(RecordingOutbox):
    """A platform whose channel history can be searched for a send's key (Slack with channels:history)."""

    arrived: dict[str, str] = field(default_factory=dict)
    readable: bool = True

    def find_deliveries(self, channel: str, keys: list[str], since: datetime) -> dict[str, str]:
        if not self.readable:
            raise HistoryUnavailable("conversations.history: missing_scope")
        return {key: ts for key, ts in self.arrived.items() if key in keys}


def dead_claim(db: Database, key: DeliveryKey) -> None:
    with db.session() as session:
        assert ledger.claim(session, key, CLAIMED)


def status(db: Database, key: DeliveryKey) -> DeliveryLedger:
    with db.session() as session:
        row = ledger.find(session, key)
        assert row is not None
        return row


def recovery(db: Database, outbox: RecordingOutbox, rebuilt: list[str]) -> ClaimRecovery:
    deliverer = Deliverer(db, {outbox.platform: outbox}, retry=RetryPolicy(()), clock=lambda: NOW,
                          admin_ids=[f"{outbox.platform}:ADMIN"])

    def rebuild(row: DeliveryLedger):  # type: ignore[no-untyped-def]  # returns the builder or None, as DigestRunner.rebuild
        rebuilt.append(row.ref_id)
        return lambda: Reply(title="Weekly review")

    return ClaimRecovery(deliverer, rebuild=rebuild, claim_timeout=120, clock=lambda: NOW)


def test_feishu_like_platform_resends_with_the_same_key(db: Database) -> None:
    key = DeliveryKey("digest", "1", "2026-W47", "feishu:oc_1")
    dead_claim(db, key)
    outbox, rebuilt = IdempotentOutbox(), []
    [result] = recovery(db, outbox, rebuilt).run()
    assert result.outcome == Outcome.SENT and rebuilt == ["1"]
    assert outbox.keys() == [key.idempotency_key]  # the same key → the same uuid: Feishu sends it once
    assert status(db, key).status == "sent"


def test_slack_like_platform_finds_what_arrived_and_sends_what_did_not(db: Database) -> None:
    arrived = DeliveryKey("digest", "1", "2026-W47", "slack:C1")
    missing = DeliveryKey("digest", "2", "2026-W47", "slack:C1")
    dead_claim(db, arrived)
    dead_claim(db, missing)
    outbox = SearchableOutbox(arrived={arrived.idempotency_key: "1700000000.000100"})
    results = recovery(db, outbox, []).run()
    assert sorted(r.outcome for r in results) == [Outcome.SENT, Outcome.SENT]
    assert (status(db, arrived).status, status(db, arrived).message_id) == ("sent", "1700000000.000100")
    assert outbox.keys() == [missing.idempotency_key]  # only the one that never arrived is sent


def test_without_history_the_admins_are_told_once_with_the_resend_id(db: Database) -> None:
    key = DeliveryKey("digest", "1", "2026-W47", "slack:C1")
    dead_claim(db, key)
    outbox = SearchableOutbox(readable=False)
    run = recovery(db, outbox, [])
    [result] = run.run()
    row = status(db, key)
    assert result.outcome == Outcome.UNCONFIRMED and row.status == "unconfirmed"
    [note] = outbox.sent
    assert note.channel == "ADMIN" and f"digest resend {row.id}" in (note.reply.text or "")
    assert "missing_scope" in (note.reply.text or "")
    assert run.run() == [] and len(outbox.sent) == 1  # resolved once


def test_a_live_send_and_a_fresh_claim_are_left_alone(db: Database) -> None:
    fresh = DeliveryKey("digest", "1", "2026-W47", "feishu:oc_1")
    with db.session() as session:
        assert ledger.claim(session, fresh, NOW - timedelta(seconds=30))
    outbox = IdempotentOutbox()
    assert recovery(db, outbox, []).run() == []
    assert outbox.sent == [] and status(db, fresh).status == "claimed"


def test_a_dead_processs_note_is_closed_without_a_note_about_it(db: Database) -> None:
    key = DeliveryKey("send_failed", "7", "20261123T090000.000000", "slack:ADMIN")
    dead_claim(db, key)
    outbox = SearchableOutbox()
    assert recovery(db, outbox, []).run() == []
    assert outbox.sent == [] and status(db, key).status == "failed"
