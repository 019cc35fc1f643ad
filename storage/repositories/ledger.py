"""The delivery ledger: one row per scheduled send, claimed with INSERT … ON CONFLICT DO NOTHING.

Whoever inserts the row is the only one allowed to send; everyone else sees it taken. Statuses:
`claimed` (being sent) → `sent` | `failed`; `missed` marks a send that was too late to make;
`unconfirmed` a send whose process died mid-way and that could not be checked (admins were told).
The sender refreshes `heartbeat_at` while it waits (throttling); a `claimed` row whose heartbeat is
older than the claim timeout is *stale*: its process died, and the leader takes it over (`take_over`).
A `failed` or `unconfirmed` row can be sent again (`reopen`, for `digest resend ID`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, func, select

from storage.models import DeliveryLedger
from storage.repositories.upsert import insert_ignore

LEDGER = DeliveryLedger.__table__  # type: ignore[attr-defined]
KEY_COLUMNS = ["kind", "ref_id", "period_key", "channel"]


@dataclass(frozen=True)
class DeliveryKey:
    kind: str  # digest | alert | alert_reminder | alert_resolved | send_failed
    ref_id: str  # subscription id, rule id …
    period_key: str  # 2026-W47, an alert episode …
    channel: str  # platform:channel

    @property
    def idempotency_key(self) -> str:
        """Passed to the outbox: Feishu derives its message uuid from it, so a retried send is not doubled."""
        return f"{self.kind}:{self.ref_id}:{self.period_key}:{self.channel}"

    def values(self) -> dict[str, str]:
        return {"kind": self.kind, "ref_id": self.ref_id, "period_key": self.period_key[:64],
                "channel": self.channel[:200]}


def claim(session: Session, key: DeliveryKey, now: datetime) -> bool:
    """True when this call created the row, i.e. the caller — and only the caller — may send."""
    return insert_ignore(
        session, LEDGER, {**key.values(), "status": "claimed", "attempts": 0, "claimed_at": now, "heartbeat_at": now},
        KEY_COLUMNS,
    )


def record_missed(session: Session, key: DeliveryKey, now: datetime, reason: str) -> bool:
    """Mark a send as missed (too late); True the first time, so the miss is logged once."""
    return insert_ignore(
        session, LEDGER, {**key.values(), "status": "missed", "attempts": 0, "claimed_at": now, "error": reason},
        KEY_COLUMNS,
    )


def find(session: Session, key: DeliveryKey) -> DeliveryLedger | None:
    values = key.values()
    return session.exec(
        select(DeliveryLedger).where(
            DeliveryLedger.kind == values["kind"], DeliveryLedger.ref_id == values["ref_id"],
            DeliveryLedger.period_key == values["period_key"], DeliveryLedger.channel == values["channel"],
        )
    ).first()


def existing(session: Session, keys: list[DeliveryKey]) -> set[DeliveryKey]:
    """Which of `keys` already have a row (one query)."""
    if not keys:
        return set()
    wanted = {tuple(k.values().values()): k for k in keys}
    rows = session.exec(
        select(DeliveryLedger.kind, DeliveryLedger.ref_id, DeliveryLedger.period_key, DeliveryLedger.channel)
        .where(col(DeliveryLedger.kind).in_({k.kind for k in keys}),
               col(DeliveryLedger.ref_id).in_({k.ref_id for k in keys}))
    )
    return {wanted[tuple(row)] for row in rows if tuple(row) in wanted}


def record_attempt(session: Session, key: DeliveryKey, attempts: int, error: str) -> None:
    row = _row(session, key)
    row.attempts, row.error = attempts, error
    session.add(row)


def mark_sent(session: Session, key: DeliveryKey, message_id: str, attempts: int, now: datetime) -> None:
    row = _row(session, key)
    row.status, row.message_id, row.attempts, row.sent_at = "sent", message_id[:200], attempts, now
    session.add(row)


def mark_failed(session: Session, key: DeliveryKey, attempts: int, error: str) -> DeliveryLedger:
    row = _row(session, key)
    row.status, row.attempts, row.error = "failed", attempts, error
    session.add(row)
    session.flush()
    return row


def entries(session: Session, *, kind: str | None = None, ref_id: str | None = None) -> list[DeliveryLedger]:
    stmt = select(DeliveryLedger)
    if kind is not None:
        stmt = stmt.where(DeliveryLedger.kind == kind)
    if ref_id is not None:
        stmt = stmt.where(DeliveryLedger.ref_id == ref_id)
    return list(session.exec(stmt.order_by(col(DeliveryLedger.id))))


def key_of(row: DeliveryLedger) -> DeliveryKey:
    return DeliveryKey(row.kind, row.ref_id, row.period_key, row.channel)


def heartbeat(session: Session, key: DeliveryKey, now: datetime) -> None:
    """The sender is alive (waiting out throttling): keep the leader from taking the row over."""
    values = key.values()
    session.execute(
        update(DeliveryLedger)
        .where(col(DeliveryLedger.kind) == values["kind"], col(DeliveryLedger.ref_id) == values["ref_id"],
               col(DeliveryLedger.period_key) == values["period_key"], col(DeliveryLedger.channel) == values["channel"],
               col(DeliveryLedger.status) == "claimed")
        .values(heartbeat_at=now)
    )


def _stale(cutoff: datetime) -> ColumnElement[bool]:
    alive = func.coalesce(col(DeliveryLedger.heartbeat_at), col(DeliveryLedger.claimed_at))
    return (col(DeliveryLedger.status) == "claimed") & (alive < cutoff)


def stale_claims(session: Session, cutoff: datetime, limit: int = 500) -> list[DeliveryLedger]:
    """`claimed` rows with no sign of life since `cutoff`, oldest first."""
    stmt = select(DeliveryLedger).where(_stale(cutoff)).order_by(col(DeliveryLedger.id)).limit(limit)
    return list(session.exec(stmt))


def take_over(session: Session, row_id: int, cutoff: datetime, now: datetime) -> bool:
    """Make a stale row ours (its heartbeat becomes ours); False when it is alive or another took it."""
    taken = session.execute(
        update(DeliveryLedger).where(col(DeliveryLedger.id) == row_id, _stale(cutoff))
        .values(heartbeat_at=now).returning(col(DeliveryLedger.id))
    ).first()
    return taken is not None


def mark_unconfirmed(session: Session, key: DeliveryKey, error: str) -> DeliveryLedger:
    row = _row(session, key)
    row.status, row.error = "unconfirmed", error
    session.add(row)
    session.flush()
    return row


def by_id(session: Session, row_id: int) -> DeliveryLedger | None:
    return session.get(DeliveryLedger, row_id)


RESENDABLE = ("failed", "unconfirmed")


def reopen(session: Session, row_id: int, now: datetime) -> DeliveryLedger | None:
    """Claim a failed or unconfirmed row again (one caller wins); None when it is not resendable."""
    reopened = session.execute(
        update(DeliveryLedger).where(col(DeliveryLedger.id) == row_id, col(DeliveryLedger.status).in_(RESENDABLE))
        .values(status="claimed", attempts=0, claimed_at=now, heartbeat_at=now).returning(col(DeliveryLedger.id))
    ).first()
    if reopened is None:
        return None
    row = session.get(DeliveryLedger, row_id)
    if row is not None:
        session.refresh(row)
    return row


def history(session: Session, *, limit: int = 20, problems_only: bool = False) -> list[DeliveryLedger]:
    """The latest scheduled sends (newest first); `problems_only`: failed, unconfirmed and stale claims."""
    stmt = select(DeliveryLedger)
    if problems_only:
        stmt = stmt.where(or_(col(DeliveryLedger.status).in_(RESENDABLE), col(DeliveryLedger.status) == "claimed"))
    return list(session.exec(stmt.order_by(col(DeliveryLedger.id).desc()).limit(limit)))


def _row(session: Session, key: DeliveryKey) -> DeliveryLedger:
    row = find(session, key)
    if row is None:
        raise LookupError(f"no ledger row for {key.idempotency_key}")
    return row


def resendable_ids(session: Session, limit: int = 10) -> list[int]:
    """Ids of sends that failed or may be missing (what `digest resend ID` takes), oldest first."""
    stmt = (select(DeliveryLedger.id).where(col(DeliveryLedger.status).in_(RESENDABLE))
            .order_by(col(DeliveryLedger.id)).limit(limit))
    return [row_id for row_id in session.exec(stmt) if row_id is not None]


def claimed_count(session: Session) -> int:
    """Sends claimed and never recorded as sent or failed (in flight, or abandoned by a killed process)."""
    return int(session.exec(select(func.count()).select_from(DeliveryLedger)
                            .where(DeliveryLedger.status == "claimed")).one())
