"""Conversation memory: the last understood question of a person in a conversation, kept for
15 minutes so a follow-up reaching any replica inherits what it leaves out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from storage.models import ConversationMemory, utcnow
from storage.repositories.upsert import insert_for

REMEMBER_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class ConversationKey:
    platform: str
    conversation: str  # channel + thread, DM or console session
    user_id: str


def remember(session: Session, key: ConversationKey, question: str, now: datetime | None = None) -> None:
    """Store (or replace) the person's last question in this conversation."""
    table = ConversationMemory.__table__  # type: ignore[attr-defined]  # SQLModel sets it at class creation
    values = {"platform": key.platform[:16], "conversation": key.conversation[:255], "user_id": key.user_id[:128],
              "question": question, "asked_at": now or utcnow()}
    stmt = insert_for(session, table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["platform", "conversation", "user_id"],
                                      set_={"question": stmt.excluded.question, "asked_at": stmt.excluded.asked_at})
    session.execute(stmt)


def recall(session: Session, key: ConversationKey, now: datetime | None = None) -> str | None:
    """The last question if it was asked within the last 15 minutes, else None."""
    cutoff = (now or utcnow()) - REMEMBER_FOR
    row = session.exec(select(ConversationMemory).where(
        ConversationMemory.platform == key.platform[:16],
        ConversationMemory.conversation == key.conversation[:255],
        ConversationMemory.user_id == key.user_id[:128],
        col(ConversationMemory.asked_at) >= cutoff,
    )).first()
    return row.question if row else None


def prune_conversations(session: Session, now: datetime | None = None) -> int:
    """Drop memories older than 15 minutes (daily housekeeping)."""
    cutoff = (now or utcnow()) - REMEMBER_FOR
    result = session.execute(delete(ConversationMemory).where(col(ConversationMemory.asked_at) < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
