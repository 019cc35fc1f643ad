"""Action items (行动项): who does what by when. Every change is audited by the caller's actor.

States: `open` → `done` | `dropped`. "Overdue" is not stored: an open item whose due day is before today.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import ActionItem
from storage.repositories import audit
from storage.repositories.audit import Actor

FILTERS = ("open", "done", "dropped", "overdue", "all")
MAX_TEXT = 500


def add_action(
    session: Session, actor: Actor, *, owner: str, text: str, created_at: datetime, due: date | None = None,
    due_label: str = "", kpi: str | None = None, kpi_baseline: float | None = None,
    kpi_baseline_period: str | None = None,
) -> ActionItem:
    text = " ".join(text.split())
    if not text:
        raise ValueError("an action needs a text saying what will be done")
    if len(text) > MAX_TEXT:
        raise ValueError(f"an action's text is at most {MAX_TEXT} characters, this one has {len(text)}")
    item = ActionItem(
        owner=owner, text=text, due=due, due_label=due_label, kpi=kpi, kpi_baseline=kpi_baseline,
        kpi_baseline_period=kpi_baseline_period, created_by=str(actor), created_at=created_at,
    )
    session.add(item)
    session.flush()
    audit.record(session, actor, "action.add", f"action:{item.id}",
                 new={"owner": owner, "text": text, "due": due_label or None, "kpi": kpi})
    return item


def get_action(session: Session, action_id: int) -> ActionItem | None:
    return session.get(ActionItem, action_id)


def list_actions(
    session: Session, *, today: date, owner: str | None = None, state: str = "open",
) -> list[ActionItem]:
    """Items by state (`overdue` = open and due before today; `all` = every state), oldest first."""
    if state not in FILTERS:
        raise ValueError(f"state must be one of {', '.join(FILTERS)}, not {state!r}")
    stmt = select(ActionItem)
    if owner is not None:
        stmt = stmt.where(ActionItem.owner == owner)
    if state == "overdue":
        stmt = stmt.where(ActionItem.status == "open", col(ActionItem.due).is_not(None), col(ActionItem.due) < today)
    elif state != "all":
        stmt = stmt.where(ActionItem.status == state)
    return list(session.exec(stmt.order_by(col(ActionItem.id))))


def for_review(session: Session, *, since: datetime) -> list[ActionItem]:
    """What a review checks: every item still open, and every item closed since `since` (the last review)."""
    stmt = select(ActionItem).where(or_(
        col(ActionItem.status) == "open",
        col(ActionItem.closed_at) >= since,
    ))
    return list(session.exec(stmt.order_by(col(ActionItem.id))))


def may_change(item: ActionItem, *, member_key: str | None, is_admin: bool) -> bool:
    """Anyone closes their own items (owned or created by them); admins close any."""
    return is_admin or (member_key is not None and member_key in (item.owner, item.created_by))


def close_action(
    session: Session, actor: Actor, action_id: int, *, status: str, now: datetime, note: str | None = None,
) -> ActionItem | None:
    """Mark done or dropped; None when the item is unknown or already closed (nothing changes)."""
    if status not in ("done", "dropped"):
        raise ValueError(f"an action is closed as done or dropped, not {status!r}")
    item = session.get(ActionItem, action_id)
    if item is None or item.status != "open":
        return None
    item.status, item.closed_by, item.closed_at = status, str(actor), now
    item.note = " ".join(note.split())[:MAX_TEXT] if note else None
    session.add(item)
    session.flush()
    audit.record(session, actor, f"action.{status}", f"action:{item.id}", old={"status": "open"},
                 new={"status": status, "note": item.note})
    return item


def is_overdue(item: ActionItem, today: date) -> bool:
    return item.status == "open" and item.due is not None and item.due < today
