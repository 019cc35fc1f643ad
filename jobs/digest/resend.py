"""`digest resend ID` from chat: send a failed or unconfirmed digest again, through the ledger (so it is
still sent at most once: two admins resending at the same moment post it once)."""

from __future__ import annotations

from collections.abc import Mapping

from jobs.delivery import Deliverer, DeliveryResult, RetryPolicy
from jobs.digest.schedule import DigestRunner
from jobs.outbox import Outbox
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry
from storage.repositories import ledger
from storage.settings import Settings

# A person is waiting for the answer: throttling is waited out for a minute at most, then it says so.
CHAT_DEADLINE_SECONDS = 60.0


def resend_digest(
    db: Database, engine: KpiEngine, registry: Registry, outboxes: Mapping[str, Outbox], settings: Settings,
    row_id: int, *, deadline_seconds: float = CHAT_DEADLINE_SECONDS,
) -> DeliveryResult | None:
    """None when row `row_id` is not a digest send that failed or may be missing."""
    deliverer = Deliverer(db, outboxes, retry=RetryPolicy(deadline_seconds=deadline_seconds),
                          admin_ids=settings.admin_list, claim_timeout=settings.claim_timeout_seconds)
    runner = DigestRunner(db, engine, registry, deliverer, currency=settings.currency,
                          default_timezone=settings.timezone)
    with db.session() as session:
        row = ledger.by_id(session, row_id)
    build = runner.rebuild(row) if row is not None and row.status in ledger.RESENDABLE else None
    if build is None:
        return None
    return deliverer.resend(row_id, build, lang=settings.locale)
