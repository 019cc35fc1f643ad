"""Notes: operational changes and events, by day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.kpi.scope import Scope
from storage.models_review import Note


def add_note(
    session: Session, start: date, text: str, created_by: str, *, end: date | None = None,
    kpis: list[str] | None = None, scope: Scope | None = None, promo: bool = False,
) -> Note:
    scope = scope or Scope.team()
    note = Note(start_date=start, end_date=end or start, text=text, kpis=",".join(kpis or []),
                scope_kind=scope.kind, scope_key=scope.key, promo=promo, created_by=created_by)
    session.add(note)
    session.flush()
    return note


def get_note(session: Session, note_id: int) -> Note | None:
    return session.get(Note, note_id)


_BETWEEN = (select(Note).where(col(Note.start_date) <= bindparam("end"), col(Note.end_date) >= bindparam("start"))
            .order_by(col(Note.start_date), col(Note.id)))  # built once: every review answer reads it


def notes_between(session: Session, start: date, end: date) -> list[Note]:
    """Notes touching [start, end], oldest first."""
    return list(session.exec(_BETWEEN, params={"start": start, "end": end}))


def applies_to(note: Note, scope: Scope, kpi: str | None = None) -> bool:
    """A team note concerns every scope; a role's or member's only theirs. No KPIs listed = every KPI."""
    in_scope = note.scope_kind == "team" or (note.scope_kind, note.scope_key) == (scope.kind, scope.key)
    return in_scope and (kpi is None or not note.kpi_ids or kpi in note.kpi_ids)


def promo_days(notes: list[Note], scope: Scope) -> set[date]:
    days: set[date] = set()
    for note in notes:
        if note.promo and applies_to(note, scope):
            days.update(note.start_date + timedelta(days=i) for i in range((note.end_date - note.start_date).days + 1))
    return days
