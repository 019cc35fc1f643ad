"""Processed platform events: a redelivered event is claimed once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, delete

from storage.models import ProcessedEvent, utcnow
from storage.repositories.upsert import insert_ignore

KEEP_FOR = timedelta(hours=24)


def claim_event(session: Session, platform: str, event_id: str) -> bool:
    """True the first time (platform, event_id) is seen; False for every redelivery."""
    return insert_ignore(
        session,
        ProcessedEvent.__table__,  # type: ignore[attr-defined]
        {"platform": platform, "event_id": event_id[:200], "received_at": utcnow()},
        ["platform", "event_id"],
    )


def prune_events(session: Session, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - KEEP_FOR
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))  # type: ignore[arg-type]
    return int(result.rowcount or 0)
