"""The KPI engine: each question is a bounded number of SQL aggregates (independent of how many
days or members there are), then the formulas of SPEC §5 applied to the sums."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.db import Database
from storage.kpi.attainment import KpiStatus, composite_score, evaluate
from storage.kpi.periods import Calendar, Period, today_in
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.kpi.target_book import TargetBook
from storage.repositories import facts as fact_repo
from storage.repositories import members as member_repo
from storage.repositories.targets import TargetRow, target_rows


@dataclass(frozen=True)
class BoardRow:
    member: str
    display_name: str
    status: KpiStatus


@dataclass(frozen=True)
class MemberScore:
    member: str
    display_name: str
    statuses: list[KpiStatus]
    composite: float | None


class KpiEngine:
    def __init__(
        self, db: Database, registry: Registry, *, tz: ZoneInfo, week_start: int = 0,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.tz = tz
        self.calendar = Calendar(week_start)
        self._today = today or (lambda: today_in(tz))

    def today(self) -> date:
        return self._today()

    # --- questions -------------------------------------------------------------------------

    def status(self, kpi: KpiDef, scope: Scope, period: Period) -> KpiStatus:
        return self.statuses([kpi], scope, period)[0]

    def statuses(self, kpis: list[KpiDef], scope: Scope, period: Period) -> list[KpiStatus]:
        """Several KPIs for one scope and period: 2 queries whatever the number of KPIs (4 when a team or
        role target is derived from the members')."""
        today = self.today()
        metrics = _metrics_of(kpis)
        with self.db.session() as session:
            current, previous = fact_repo.sums_with_previous(
                session, metrics, scope, period, self.calendar.previous(period), today
            )
            book = self._target_book(session, kpis, period, scope)
            targets = [book.resolve(kpi, scope, period) for kpi in kpis]  # may load member targets
        out = []
        for kpi, target in zip(kpis, targets, strict=True):
            through = current.through_for(kpi.metrics)
            prev_actual = None
            if previous is not None and previous.through_for(kpi.metrics):
                prev_actual = kpi.formula.evaluate(_only(previous.sums, kpi))
            out.append(evaluate(kpi, scope, period, _only(current.sums, kpi), through, today, target, prev_actual))
        return out

    def board(self, kpi: KpiDef, role: str | None, period: Period) -> list[BoardRow]:
        """Members ranked by the KPI (best first, direction-aware); members without data last."""
        scores = self.member_scores([kpi], role, period)
        rows = [BoardRow(s.member, s.display_name, s.statuses[0]) for s in scores]

        def rank(row: BoardRow) -> tuple[int, float]:
            value = row.status.actual
            if value is None:
                return (1, 0.0)
            return (0, value if kpi.lower_is_better else -value)

        return sorted(rows, key=rank)

    def member_scores(
        self, kpis: list[KpiDef], role: str | None, period: Period, weights: dict[str, float] | None = None,
    ) -> list[MemberScore]:
        """Every member of a role (or every member with data) × KPIs, plus the composite score.

        Queries: the role's members with their names and sums (one GROUP BY), the member targets."""
        today = self.today()
        metrics = _metrics_of(kpis)
        with self.db.session() as session:
            if role is not None:
                names, sums = fact_repo.role_member_sums(session, metrics, role, period.start, period.end)
            else:
                sums = fact_repo.member_period_sums(session, metrics, period.start, period.end)
                known = member_repo.display_names(session, sorted(sums))
                names = {key: known.get(key, key) for key in sorted(sums)}
            window = self._target_window(period)
            book = TargetBook(self.calendar, target_rows(session, [k.id for k in kpis], *window, scope_kind="member"),
                              role_members={})
        no_rows = fact_repo.MetricSums({}, {})
        kpi_metrics = [(kpi, kpi.metrics) for kpi in kpis]
        weights = weights or {k.id: 1.0 for k in kpis}
        out = []
        for member, name in names.items():
            scope = Scope.member(member)
            found = sums.get(member, no_rows)
            statuses = [
                evaluate(kpi, scope, period, {m: found.sums[m] for m in metrics if m in found.sums},
                         found.through_for(metrics), today, book.resolve(kpi, scope, period))
                for kpi, metrics in kpi_metrics
            ]
            out.append(MemberScore(member, name, statuses, composite_score(statuses, weights)))
        return out

    def daily(self, kpi: KpiDef, scope: Scope, period: Period) -> dict[date, dict[str, float]]:
        with self.db.session() as session:
            return fact_repo.daily_sums(session, kpi.metrics, scope, period.start, period.end)

    # --- helpers ---------------------------------------------------------------------------

    def _target_window(self, period: Period) -> tuple[date, date]:
        """Targets that can matter: the quarters the period touches (month ← quarter derivations)."""
        return self.calendar.quarter(period.start).start, self.calendar.quarter(period.end).end

    def _target_book(self, session: Session, kpis: list[KpiDef], period: Period, scope: Scope) -> TargetBook:
        """The scope's own targets; members' targets and the role map only if a sum needs them."""
        kpi_ids, window = [k.id for k in kpis], self._target_window(period)
        own = target_rows(session, kpi_ids, *window, scope_kind=scope.kind, scope_key=scope.key)
        if scope.kind == "member":
            return TargetBook(self.calendar, own, role_members={})

        def load_members() -> tuple[list[TargetRow], dict[str, list[str]]]:
            role_members: dict[str, list[str]] = {}
            for member, roles in member_repo.role_map(session).items():
                for role in roles:
                    role_members.setdefault(role, []).append(member)
            return target_rows(session, kpi_ids, *window, scope_kind="member"), role_members

        return TargetBook(self.calendar, own, load_members=load_members)


def _metrics_of(kpis: list[KpiDef]) -> list[str]:
    seen: dict[str, None] = {}
    for kpi in kpis:
        for metric in kpi.metrics:
            seen[metric] = None
    return list(seen)


def _only(sums: dict[str, float], kpi: KpiDef) -> dict[str, float]:
    return {m: sums[m] for m in kpi.metrics if m in sums}


__all__ = ["BoardRow", "KpiEngine", "MemberScore", "composite_score"]
