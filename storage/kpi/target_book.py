"""Target lookup with derivation (SPEC §5), over targets loaded in one query.

Order: an explicit target; else derived in time at the same scope (day and week from the months
they overlap, month from its quarter — prorated by days for additive KPIs, taken as is for ratio
KPIs); else, for additive KPIs: the team's as the sum of its shops' targets, and a team's, a role's, a
shop's or a role-in-a-shop's as the sum of its members' targets (in that shop, for the last two) — each
only when every shop or member has one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from storage.kpi.periods import Calendar, Period
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope


class TargetLike(Protocol):
    @property
    def kpi(self) -> str: ...
    @property
    def scope_kind(self) -> str: ...
    @property
    def scope_key(self) -> str: ...
    @property
    def period_key(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def shop(self) -> str: ...


# Loads every member's targets and the members of each role, for the sum-of-members derivation.
MemberLoader = Callable[[], tuple[Sequence[TargetLike], dict[str, list[str]]]]
# Loads every shop's targets and the shops there are (declared or named by data), for the team's.
ShopLoader = Callable[[], tuple[Sequence[TargetLike], list[str]]]


@dataclass(frozen=True)
class ResolvedTarget:
    value: float
    derived_from: str | None = None  # None = set explicitly; "month" | "quarter" | "members" | "shops"
    sources: tuple[str, ...] = ()  # period keys, or member keys, it came from

    @property
    def derived(self) -> bool:
        return self.derived_from is not None


@dataclass
class TargetBook:
    """Targets loaded for one question. Member targets and role membership, needed only when a team
    or role target must be summed from its members, come from `load_members` on first need."""

    calendar: Calendar
    targets: Sequence[TargetLike]
    role_members: dict[str, list[str]] | None = None  # role → member keys; None = not loaded yet
    load_members: MemberLoader | None = None
    load_shops: ShopLoader | None = None
    _shops: list[str] | None = field(default=None, repr=False)
    _index: dict[tuple[str, str, str, str, str], float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._add(self.targets)

    def _add(self, targets: Sequence[TargetLike]) -> None:
        for t in targets:
            self._index[(t.kpi, t.scope_kind, t.scope_key, t.shop, t.period_key)] = t.value

    def _get(self, kpi: KpiDef, scope: Scope, period_key: str) -> float | None:
        return self._index.get((kpi.id, scope.kind, scope.key, scope.inner_shop, period_key))

    def _members_of(self, scope: Scope) -> list[str]:
        if self.role_members is None:
            targets, self.role_members = self.load_members() if self.load_members else ([], {})
            self._add(targets)
        if scope.kind == "role":
            return self.role_members.get(scope.key, [])
        return sorted({m for keys in self.role_members.values() for m in keys})

    def resolve(self, kpi: KpiDef, scope: Scope, period: Period) -> ResolvedTarget | None:
        explicit = self._get(kpi, scope, period.key)
        if explicit is not None:
            return ResolvedTarget(explicit)
        in_time = self._derive_in_time(kpi, scope, period)
        if in_time is not None:
            return in_time
        if kpi.additive and scope.kind == "team" and (from_shops := self._sum_of_shops(kpi, period)):
            return from_shops
        if kpi.additive and scope.kind in ("team", "role", "shop"):
            return self._sum_of_members(kpi, scope, period)
        return None

    def _sum_of_shops(self, kpi: KpiDef, period: Period) -> ResolvedTarget | None:
        """The team's target as the sum of its shops' — only when every shop has one."""
        if self._shops is None:
            targets, self._shops = self.load_shops() if self.load_shops else ([], [])
            self._add(targets)
        total = 0.0
        for shop in self._shops:
            found = self.resolve_at_scope(kpi, Scope.of_shop(shop), period)
            if found is None:
                return None
            total += found.value
        return ResolvedTarget(total, "shops", tuple(self._shops)) if self._shops else None

    def _derive_in_time(self, kpi: KpiDef, scope: Scope, period: Period) -> ResolvedTarget | None:
        if period.kind in ("day", "week"):
            months = self._months_overlapping(period)
            if not kpi.additive:
                # A ratio target is taken as is from the month holding most of the period.
                anchor = period.start + timedelta(days=min(3, period.days - 1))
                month = self.calendar.month(anchor)
                found = self.resolve_at_scope(kpi, scope, month)
                return ResolvedTarget(found.value, "month", (month.key,)) if found else None
            total = 0.0
            for month in months:
                found = self.resolve_at_scope(kpi, scope, month)
                if found is None:
                    return None
                total += found.value * period.overlap_days(month) / month.days
            return ResolvedTarget(total, "month", tuple(m.key for m in months))
        if period.kind == "month":
            quarter = self.calendar.quarter(period.start)
            quarter_value = self._get(kpi, scope, quarter.key)
            if quarter_value is None:
                return None
            value = quarter_value * period.days / quarter.days if kpi.additive else quarter_value
            return ResolvedTarget(value, "quarter", (quarter.key,))
        return None

    def resolve_at_scope(self, kpi: KpiDef, scope: Scope, period: Period) -> ResolvedTarget | None:
        """Explicit or derived in time, without summing members (used inside time derivation)."""
        explicit = self._get(kpi, scope, period.key)
        if explicit is not None:
            return ResolvedTarget(explicit)
        return self._derive_in_time(kpi, scope, period)

    def _sum_of_members(self, kpi: KpiDef, scope: Scope, period: Period) -> ResolvedTarget | None:
        """Only when every member of the role (team, shop: every member holding a role) has a target:
        a sum over some members would be compared with everyone's actual. Inside a shop (a shop, or a
        role in a shop) the members' targets in that shop."""
        members = self._members_of(scope)
        total = 0.0
        for member in members:
            found = self.resolve_at_scope(kpi, Scope.member(member).in_shop(scope.shop) if scope.shop
                                          else Scope.member(member), period)
            if found is None:
                return None
            total += found.value
        if not members:
            return None
        return ResolvedTarget(total, "members", tuple(members))

    def _months_overlapping(self, period: Period) -> list[Period]:
        months = [self.calendar.month(period.start)]
        while months[-1].end < period.end:
            months.append(self.calendar.next(months[-1]))
        return months
