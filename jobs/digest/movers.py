"""Biggest movers and the at-risk list, from statuses the engine already computed (no queries).

Movers: among the team's headline KPIs and every member's role KPIs, the three largest relative changes
of the KPI value against the previous period, by absolute size (a −40 % fall outranks a +25 % rise). A
change counts only when both periods have a value, the previous one is not zero and the value moved. Ties:
by name.

At risk: team and member KPIs whose pacing-period (month-to-date) status is at risk or off track, off
track first, then lowest pace first; each carries its required daily run-rate (additive KPIs).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.kpi.attainment import KpiStatus, Status
from storage.kpi.engine import MemberScore
from storage.kpi.registry import KpiDef, RoleDef

MOVER_COUNT = 3
RISKY = (Status.OFF_TRACK, Status.AT_RISK)


@dataclass(frozen=True)
class RoleReview:
    role: RoleDef
    kpis: list[KpiDef]
    review: list[MemberScore]  # members × KPIs for the reviewed period
    previous: list[MemberScore]  # the period before it
    pacing: list[MemberScore]  # the pacing period to date


@dataclass(frozen=True)
class Mover:
    who: str  # member key, '' for the team
    label: str
    kpi: KpiDef
    previous: float
    current: float

    @property
    def change(self) -> float:
        return (self.current - self.previous) / abs(self.previous)

    @property
    def improved(self) -> bool:
        return self.change < 0 if self.kpi.lower_is_better else self.change > 0


@dataclass(frozen=True)
class RiskItem:
    who: str  # member key, '' for the team
    label: str
    status: KpiStatus  # pacing period


def biggest_movers(
    team_review: list[KpiStatus], roles: list[RoleReview], *, team_label: str, count: int = MOVER_COUNT,
    previous_complete: bool = True,
) -> list[Mover]:
    """`previous_complete` False: the data starts after the previous period's first day, so members
    are not compared with it (the team's statuses say so themselves, through previous_from)."""
    candidates: dict[tuple[str, str], Mover] = {}
    for st in team_review:
        if st.previous_from is None:
            _add_mover(candidates, "", team_label, st.kpi, st.previous_actual, st.actual)
    for role in roles if previous_complete else []:
        before = {score.member: score for score in role.previous}
        for score in role.review:
            earlier = before.get(score.member)
            if earlier is None:
                continue
            for now_st, then_st in zip(score.statuses, earlier.statuses, strict=True):
                _add_mover(candidates, score.member, score.display_name, now_st.kpi, then_st.actual, now_st.actual)
    ranked = sorted(candidates.values(), key=lambda m: (-abs(m.change), m.label, m.kpi.id))
    return ranked[:count]


def _add_mover(
    into: dict[tuple[str, str], Mover], who: str, label: str, kpi: KpiDef,
    previous: float | None, current: float | None,
) -> None:
    if previous is None or current is None or previous == 0 or current == previous:  # no change is no mover
        return
    into.setdefault((who, kpi.id), Mover(who, label, kpi, previous, current))


def at_risk(team_pacing: list[KpiStatus], roles: list[RoleReview], *, team_label: str) -> list[RiskItem]:
    items: dict[tuple[str, str], RiskItem] = {}
    for st in team_pacing:
        if st.status in RISKY:
            items.setdefault(("", st.kpi.id), RiskItem("", team_label, st))
    for role in roles:
        for score in role.pacing:
            for st in score.statuses:
                if st.status in RISKY:
                    items.setdefault((score.member, st.kpi.id), RiskItem(score.member, score.display_name, st))

    def order(item: RiskItem) -> tuple[int, float, str, str]:
        pace = item.status.pace_attainment
        return (0 if item.status.status == Status.OFF_TRACK else 1, pace if pace is not None else 0.0,
                item.label, item.status.kpi.id)

    return sorted(items.values(), key=order)
