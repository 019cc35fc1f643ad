"""Targets per (KPI, scope, period)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.models import Target, utcnow


def get_target(session: Session, kpi: str, scope: Scope, period: Period) -> Target | None:
    return session.exec(
        select(Target).where(
            Target.kpi == kpi, Target.scope_kind == scope.kind, Target.scope_key == scope.key,
            Target.period_key == period.key,
        )
    ).first()


def set_target(session: Session, kpi: str, scope: Scope, period: Period, value: float, set_by: str) -> float | None:
    """Create or replace; returns the old value (None when new)."""
    existing = get_target(session, kpi, scope, period)
    if existing is not None:
        old = existing.value
        existing.value, existing.set_by, existing.set_at = value, set_by, utcnow()
        session.add(existing)
        return old
    session.add(Target(
        kpi=kpi, scope_kind=scope.kind, scope_key=scope.key, period_kind=period.kind,
        period_key=period.key, period_start=period.start, period_end=period.end,
        value=value, set_by=set_by,
    ))
    return None


def clear_target(session: Session, kpi: str, scope: Scope, period: Period) -> float | None:
    existing = get_target(session, kpi, scope, period)
    if existing is None:
        return None
    session.delete(existing)
    return existing.value


class TargetRow(NamedTuple):
    kpi: str
    scope_kind: str
    scope_key: str
    period_key: str
    value: float


def target_rows(
    session: Session, kpis: Iterable[str], start: date, end: date, *, scope_kind: str | None = None,
    scope_key: str | None = None,
) -> list[TargetRow]:
    """Targets of these KPIs whose period overlaps [start, end], optionally of one scope kind or one
    scope: plain rows (no ORM objects), one query."""
    table = Target.__table__  # type: ignore[attr-defined]
    stmt = sa_select(table.c.kpi, table.c.scope_kind, table.c.scope_key, table.c.period_key, table.c.value).where(
        table.c.kpi.in_(list(kpis)), table.c.period_start <= end, table.c.period_end >= start,
    )
    if scope_kind is not None:
        stmt = stmt.where(table.c.scope_kind == scope_kind)
    if scope_key is not None:
        stmt = stmt.where(table.c.scope_key == scope_key)
    return [TargetRow(*row) for row in session.execute(stmt)]


def list_targets(session: Session, scope: Scope | None, start: date, end: date) -> list[Target]:
    stmt = select(Target).where(Target.period_start <= end, Target.period_end >= start)
    if scope is not None:
        stmt = stmt.where(Target.scope_kind == scope.kind, Target.scope_key == scope.key)
    return list(session.exec(stmt.order_by(Target.kpi, Target.scope_kind, Target.scope_key, Target.period_start)))
