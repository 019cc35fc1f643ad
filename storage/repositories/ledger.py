"""The delivery ledger: one row per scheduled send, claimed with INSERT … ON CONFLICT DO NOTHING.

Whoever inserts the row is the only one allowed to send; everyone else sees it taken. Statuses:
`claimed` (being sent) → `sent` | `failed`; `missed` marks a send that was too late to make.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    return insert_ignore(session, LEDGER, {**key.values(), "status": "claimed", "attempts": 0, "claimed_at": now},
                         KEY_COLUMNS)


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


def _row(session: Session, key: DeliveryKey) -> DeliveryLedger:
    row = find(session, key)
    if row is None:
        raise LookupError(f"no ledger row for {key.idempotency_key}")
    return row


def claimed_count(session: Session) -> int:
    """Sends claimed and never recorded as sent or failed (in flight, or abandoned by a killed process)."""
    return int(session.exec(select(func.count()).select_from(DeliveryLedger)
                            .where(DeliveryLedger.status == "claimed")).one())
