"""Targets per (KPI, scope, period)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, col, select

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


def targets_overlapping(session: Session, kpis: Iterable[str], start: date, end: date) -> list[Target]:
    """Every target of these KPIs whose period overlaps [start, end] (one query)."""
    return list(session.exec(
        select(Target).where(
            col(Target.kpi).in_(list(kpis)), Target.period_start <= end, Target.period_end >= start,
        )
    ))


def list_targets(session: Session, scope: Scope | None, start: date, end: date) -> list[Target]:
    stmt = select(Target).where(Target.period_start <= end, Target.period_end >= start)
    if scope is not None:
        stmt = stmt.where(Target.scope_kind == scope.kind, Target.scope_key == scope.key)
    return list(session.exec(stmt.order_by(Target.kpi, Target.scope_kind, Target.scope_key, Target.period_start)))
