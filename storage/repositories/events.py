"""Processed platform events: a redelivered event is claimed once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult
from sqlmodel import Session, col, delete

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
    # a DELETE's result has rowcount; Session.execute is typed as the general Result
    statement = delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < cutoff)
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)
