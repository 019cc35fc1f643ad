"""Targets per (KPI, scope, period)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class TargetScope:
    """The targets an engine question needs, read in the figures' statement (one round trip): one scope
    kind inside one shop ('' = not inside a shop), one key or every key (None), periods overlapping
    [start, end]."""

    kind: str
    shop: str
    start: date
    end: date
    key: str | None = None

    def branch(self) -> str:
        """A UNION ALL branch of a six-column statement: ('target', scope key, KPI, period key, value, NULL),
        reading :target_kpis (expanding), :target_start / _end (dates), :target_kind, :target_shop, :target_key."""
        return (" UNION ALL SELECT 'target', scope_key, kpi, period_key, value, NULL FROM target"
                " WHERE kpi IN :target_kpis AND period_start <= :target_end AND period_end >= :target_start"
                " AND scope_kind = :target_kind AND shop = :target_shop"
                + (" AND scope_key = :target_key" if self.key is not None else ""))

    def params(self, kpis: Iterable[str]) -> dict[str, object]:
        return {"target_kpis": list(kpis), "target_start": self.start, "target_end": self.end,
                "target_kind": self.kind, "target_shop": self.shop, "target_key": self.key}

    def row(self, kpi: str, key: str, period_key: str, value: float) -> TargetRow:
        return TargetRow(kpi, self.kind, key, period_key, value, self.shop)


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
