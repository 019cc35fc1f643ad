"""Targets per (KPI, scope, period)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from sqlalchemy import Date, TextClause, bindparam, text
from sqlmodel import Session, col, select

from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.models import Target, utcnow


def get_target(session: Session, kpi: str, scope: Scope, period: Period) -> Target | None:
    return session.exec(
        select(Target).where(
            Target.kpi == kpi, Target.scope_kind == scope.kind, Target.scope_key == scope.key,
            Target.shop == scope.inner_shop, Target.period_key == period.key,
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
        kpi=kpi, scope_kind=scope.kind, scope_key=scope.key, shop=scope.inner_shop, period_kind=period.kind,
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
    shop: str = ""  # a role's or member's target inside one shop


_TARGET_ROWS = ("SELECT kpi, scope_kind, scope_key, period_key, value, shop FROM target"
                " WHERE kpi IN :kpis AND period_start <= :end AND period_end >= :start")


def _target_reading(extra: str) -> TextClause:
    return text(_TARGET_ROWS + extra).bindparams(
        bindparam("kpis", expanding=True), bindparam("start", type_=Date()), bindparam("end", type_=Date())
    )


# Built once (like the fact sums): every chat question reads targets. Keyed by (one kind, one key, one shop).
TARGET_ROWS = {
    (kind, key, shop): _target_reading((" AND scope_kind = :kind" if kind else "")
                                       + (" AND scope_key = :key" if key else "")
                                       + (" AND shop = :shop" if shop else ""))
    for kind in (False, True) for key in (False, True) for shop in (False, True)
}


def target_rows(
    session: Session, kpis: Iterable[str], start: date, end: date, *, scope_kind: str | None = None,
    scope_key: str | None = None, shop: str | None = None,
) -> list[TargetRow]:
    """Targets of these KPIs whose period overlaps [start, end], optionally of one scope kind, one scope
    key, one shop ('' = not inside a shop): plain rows (no ORM objects), one query."""
    statement = TARGET_ROWS[(scope_kind is not None, scope_key is not None, shop is not None)]
    params = {"kpis": list(kpis), "start": start, "end": end, "kind": scope_kind, "key": scope_key, "shop": shop}
    return [TargetRow(*row) for row in session.connection().execute(statement, params)]


def list_targets(session: Session, scope: Scope | None, start: date, end: date) -> list[Target]:
    stmt = select(Target).where(Target.period_start <= end, Target.period_end >= start)
    if scope is not None:
        stmt = stmt.where(Target.scope_kind == scope.kind, Target.scope_key == scope.key,
                          Target.shop == scope.inner_shop)
    return list(session.exec(stmt.order_by(Target.kpi, Target.scope_kind, Target.scope_key, Target.shop,
                                           col(Target.period_start))))
