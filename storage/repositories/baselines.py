"""Named baselines: one reference period per (KPI, scope)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.models import utcnow
from storage.models_review import Baseline


def get_baseline(session: Session, kpi: str, scope: Scope) -> Baseline | None:
    return session.exec(select(Baseline).where(
        Baseline.kpi == kpi, Baseline.scope_kind == scope.kind, Baseline.scope_key == scope.key,
    )).first()


def set_baseline(session: Session, kpi: str, scope: Scope, period: Period, set_by: str) -> str | None:
    """Create or replace; returns the old period key (None when new)."""
    existing = get_baseline(session, kpi, scope)
    old = existing.period_key if existing else None
    row = existing or Baseline(kpi=kpi, scope_kind=scope.kind, scope_key=scope.key, period_kind=period.kind,
                               period_key=period.key, period_start=period.start, period_end=period.end,
                               set_by=set_by)
    row.period_kind, row.period_key = period.kind, period.key
    row.period_start, row.period_end = period.start, period.end
    row.set_by, row.set_at = set_by, utcnow()
    session.add(row)
    session.flush()
    return old


def list_baselines(session: Session) -> list[Baseline]:
    return list(session.exec(select(Baseline).order_by(col(Baseline.kpi), col(Baseline.scope_kind),
                                                       col(Baseline.scope_key))))


def baselines_for(session: Session, kpis: list[str], scope: Scope) -> dict[str, Baseline]:
    """The named baselines of `kpis` in `scope`, by KPI id: one query."""
    rows = session.exec(select(Baseline).where(
        col(Baseline.kpi).in_(kpis), Baseline.scope_kind == scope.kind, Baseline.scope_key == scope.key,
    ))
    return {row.kpi: row for row in rows}
