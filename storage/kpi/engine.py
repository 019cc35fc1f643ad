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
from storage.kpi.target_book import ResolvedTarget, TargetBook
from storage.repositories import facts as fact_repo
from storage.repositories import members as member_repo
from storage.repositories.figures import Figures, Grouping, GroupRead, KpiRead, read_figures
from storage.repositories.targets import TargetRow, TargetScope, target_rows


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
        today: Callable[[], date] | None = None, calendar: Calendar | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.tz = tz
        self.calendar = calendar or Calendar(week_start)  # the bot's knows years and rolling windows too
        self._today = today or (lambda: today_in(tz))

    def today(self) -> date:
        return self._today()

    # --- questions -------------------------------------------------------------------------

    def status(self, kpi: KpiDef, scope: Scope, period: Period) -> KpiStatus:
        return self.statuses([kpi], scope, period)[0]

    def statuses(self, kpis: list[KpiDef], scope: Scope, period: Period) -> list[KpiStatus]:
        """Several KPIs for one scope and period: figures, data-through, pace sums, the previous period
        like for like and the scope's own targets in one statement (3 more queries when a team or role target
        is derived from its members' or shops')."""
        today = self.today()
        previous = self.calendar.previous(period)
        with self.db.reading() as session:
            figures = self._read(session, kpis, Grouping.of_scope(scope), period, today,
                                 previous=(previous.start, previous.end),
                                 targets=self._targets(period, scope.kind, scope.inner_shop, scope.key))
            found = figures.groups.get("", GroupRead())
            book = self._target_book(session, kpis, period, scope, figures.targets)
            targets = [book.resolve(kpi, scope, period) for kpi in kpis]  # may load member targets
        return [self._evaluate(kpi, scope, period, today, found, target, previous)
                for kpi, target in zip(kpis, targets, strict=True)]

    def board(self, kpi: KpiDef, role: str | None, period: Period, shop: str = "") -> list[BoardRow]:
        """Members ranked by the KPI (best first, direction-aware); members without data last. With `shop`:
        their rows and targets in that shop."""
        scores = self.member_scores([kpi], role, period, shop=shop)
        rows = [BoardRow(s.member, s.display_name, s.statuses[0]) for s in scores]

        return sorted(rows, key=lambda row: _rank(kpi, row))

    def shop_board(self, kpi: KpiDef, period: Period) -> list[BoardRow]:
        """Shops side by side (横向对比), best first: every declared shop and every shop named by data, each
        paced on its own data-through date (the same rule as a single answer).
        Queries: one statement (the shops' figures and targets)."""
        today = self.today()
        with self.db.reading() as session:
            groups, rows = self._read(session, [kpi], Grouping.shops(), period, today,
                                      targets=self._targets(period, "shop", ""))
        book = TargetBook(self.calendar, rows, role_members={})
        names = {key: shop.name for key, shop in self.registry.shops.items()} | {k: k for k in sorted(groups)
                                                                                 if k not in self.registry.shops}
        out = []
        for shop, name in names.items():
            scope = Scope.of_shop(shop)
            status = self._evaluate(kpi, scope, period, today, groups.get(shop, GroupRead()),
                                    book.resolve(kpi, scope, period))
            out.append(BoardRow(shop, name, status))
        return sorted(out, key=lambda row: _rank(kpi, row))

    def member_scores(
        self, kpis: list[KpiDef], role: str | None, period: Period, weights: dict[str, float] | None = None,
        *, shop: str = "",
    ) -> list[MemberScore]:
        """Every member of a role (or every member with data) × KPIs, plus the composite score; each
        member paced on their own data-through date (the same rule as a single answer).

        Queries: one statement (the members' figures and targets, the role's members and names); without a
        role, the names of the members with data."""
        today = self.today()
        with self.db.reading() as session:
            groups, rows = self._read(session, kpis, Grouping.members(role, shop), period, today,
                                      targets=self._targets(period, "member", shop))
            if role is not None:
                names = {key: groups[key].name or key for key in sorted(groups) if groups[key].holder}
            else:
                known = member_repo.display_names(session, sorted(groups))
                names = {key: known.get(key, key) for key in sorted(groups)}
        book = TargetBook(self.calendar, rows, role_members={})
        weights = weights or {k.id: 1.0 for k in kpis}
        out = []
        for member, name in names.items():
            scope = Scope.member(member).in_shop(shop) if shop else Scope.member(member)
            found = groups.get(member, GroupRead())
            statuses = [self._evaluate(kpi, scope, period, today, found, book.resolve(kpi, scope, period))
                        for kpi in kpis]
            out.append(MemberScore(member, name, statuses, composite_score(statuses, weights)))
        return out

    def daily(self, kpi: KpiDef, scope: Scope, period: Period) -> dict[date, dict[str, float]]:
        with self.db.reading() as session:
            return fact_repo.daily_sums(session, kpi.metrics, scope, period.start, period.end)

    # --- helpers ---------------------------------------------------------------------------

    def _read(
        self, session: Session, kpis: list[KpiDef], grouping: Grouping, period: Period, today: date,
        previous: tuple[date, date] | None = None, targets: TargetScope | None = None,
    ) -> Figures:
        metrics = _metrics_of(kpis)
        rules = {m: self.registry.rule(m).aggregate for m in metrics}
        levels = {kind: [m for m, aggregate in rules.items() if aggregate == kind] for kind in ("last", "mean")}
        return read_figures(session, {k.id: k.metrics for k in kpis}, grouping, period.start, period.end,
                            today, previous=previous, targets=targets, **levels)

    def _evaluate(
        self, kpi: KpiDef, scope: Scope, period: Period, today: date, found: GroupRead,
        target: ResolvedTarget | None, previous: Period | None = None,
    ) -> KpiStatus:
        read = found.kpi(kpi.id)
        values = _with_zeros(found.values, kpi)
        prev_actual, prev_from = _previous(kpi, read, previous) if previous and read.through.day else (None, None)
        return evaluate(
            kpi, scope, period, values, read.through, today, target, prev_actual,
            through_sums=_with_zeros(read.through_sums, kpi) if read.through.day and kpi.additive else None,
            missing=tuple(m for m in kpi.metrics if m not in values), previous_from=prev_from,
            previous_period=previous,
        )

    def _target_window(self, period: Period) -> tuple[date, date]:
        """Targets that can matter: the quarters the period touches (month ← quarter derivations)."""
        return self.calendar.quarter(period.start).start, self.calendar.quarter(period.end).end

    def _targets(self, period: Period, kind: str, shop: str, key: str | None = None) -> TargetScope:
        """The targets of one scope kind in one shop (every key, or one) that can matter for `period`."""
        return TargetScope(kind, shop, *self._target_window(period), key=key)

    def _target_book(
        self, session: Session, kpis: list[KpiDef], period: Period, scope: Scope, own: list[TargetRow],
    ) -> TargetBook:
        """The scope's own targets (read with the figures); members' targets (in the scope's shop, if any)
        and the role map only if a sum needs them; the shops' targets for the team."""
        kpi_ids, window = [k.id for k in kpis], self._target_window(period)
        if scope.kind == "member":
            return TargetBook(self.calendar, own, role_members={})

        def load_members() -> tuple[list[TargetRow], dict[str, list[str]]]:
            role_members: dict[str, list[str]] = {}
            for member, roles in member_repo.role_map(session).items():
                for role in roles:
                    role_members.setdefault(role, []).append(member)
            return target_rows(session, kpi_ids, *window, scope_kind="member", shop=scope.shop), role_members

        def load_shops() -> tuple[list[TargetRow], list[str]]:
            shops = sorted(set(self.registry.shops) | set(fact_repo.shops_with_data(session)))
            return (target_rows(session, kpi_ids, *window, scope_kind="shop") if shops else []), shops

        return TargetBook(self.calendar, own, load_members=load_members,
                          load_shops=load_shops if scope.kind == "team" else None)


def _rank(kpi: KpiDef, row: BoardRow) -> tuple[int, float]:
    """Best first (direction-aware); rows without data last."""
    value = row.status.actual
    if value is None:
        return (1, 0.0)
    return (0, value if kpi.lower_is_better else -value)


def _metrics_of(kpis: list[KpiDef]) -> list[str]:
    seen: dict[str, None] = {}
    for kpi in kpis:
        for metric in kpi.metrics:
            seen[metric] = None
    return list(seen)


def _only(sums: dict[str, float], kpi: KpiDef) -> dict[str, float]:
    return {m: sums[m] for m in kpi.metrics if m in sums}


def _with_zeros(sums: dict[str, float], kpi: KpiDef) -> dict[str, float]:
    """The KPI's metrics that have rows, and 0 for those declared missing_is_zero that have none."""
    out = _only(sums, kpi)
    for metric in kpi.zero_when_missing:
        out.setdefault(metric, 0.0)
    return out


def _previous(kpi: KpiDef, cut: KpiRead, previous: Period) -> tuple[float | None, date | None]:
    """The previous period's value like for like (levels: their `last` / `mean` over the same cut), or —
    when its data starts after its first day — the day it starts (no comparison then)."""
    values = _with_zeros(cut.previous | cut.previous_levels, kpi)
    if any(m not in values for m in kpi.metrics):
        return None, None
    starts = [cut.previous_first[m] for m in kpi.metrics if m in cut.previous_first]
    if starts and max(starts) > previous.start:
        return None, max(starts)
    return kpi.formula.evaluate(values), None


__all__ = ["BoardRow", "KpiEngine", "MemberScore", "composite_score"]
