"""The audit log: every accepted or refused write, who, when, old → new."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    platform: str
    user_id: str
    email: str | None = None

    def __str__(self) -> str:
        return self.email or f"{self.platform}:{self.user_id}"


def record(
    session: Session, actor: Actor, action: str, subject: str, *,
    old: Any = None, new: Any = None, outcome: str = "ok",
) -> AuditEntry:
    entry = AuditEntry(
        actor_platform=actor.platform, actor_id=actor.user_id, actor_email=actor.email,
        action=action, subject=subject[:500], old=_dump(old), new=_dump(new), outcome=outcome,
    )
    session.add(entry)
    session.flush()
    return entry


def latest(session: Session, limit: int = 10) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)))


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
