"""Is an alert rule's condition true right now?

value mode: the KPI's value on each of the last N complete days (the days before today, team timezone),
each compared with OP threshold — `ad_spend > 5000 for 1 days` is a daily budget cap, `roas < 2 for 3
days` a sustained slump. A day without data never satisfies the condition.
pace mode: the month-to-date pace attainment compared with OP threshold (a fraction: 0.9 = 90 %); no
target or no data → not true.
stoploss mode: today's value so far (pushed running totals) compared with OP threshold, counted only once
today's guard KPI has reached its own threshold (`roas < 1.5 when ad_spend >= 500 today`): below the
guarded volume a poor ratio is noise. Missing data on either side → not true.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from storage.kpi.attainment import KpiStatus
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.models import AlertRule
from storage.repositories import facts as fact_repo

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True)
class Observation:
    holds: bool
    value: float | None  # value mode: the latest day's value; pace mode: the pace attainment
    daily: list[tuple[date, float | None]]  # value mode: each of the last N days, oldest first
    status: KpiStatus | None  # pace mode: the month-to-date status
    data_through: date | None
    guard_value: float | None = None  # stoploss mode: today's guard KPI (the volume that arms the rule)


def rule_scope(rule: AlertRule) -> Scope:
    """The rule's scope; a role or member inside one shop keeps its shop."""
    if rule.scope_kind == "role":
        return Scope.role(rule.scope_key).in_shop(rule.shop)
    if rule.scope_kind == "member":
        return Scope.member(rule.scope_key).in_shop(rule.shop)
    if rule.scope_kind == "shop":
        return Scope.of_shop(rule.scope_key)
    return Scope.team()


def observe(engine: KpiEngine, kpi: KpiDef, rule: AlertRule, guard: KpiDef | None = None) -> Observation:
    compare = OPERATORS[rule.op]
    scope = rule_scope(rule)
    today = engine.today()
    if rule.mode == "stoploss":
        assert guard is not None and rule.guard_op is not None and rule.guard_threshold is not None
        with engine.db.session() as session:
            sums = fact_repo.daily_sums(session, {*kpi.metrics, *guard.metrics}, scope, today, today).get(today, {})
        value, volume = day_value(kpi, sums), day_value(guard, sums)
        holds = (value is not None and volume is not None and OPERATORS[rule.guard_op](volume, rule.guard_threshold)
                 and compare(value, rule.threshold))
        return Observation(holds, value, [(today, value)], None, today if sums else None, volume)
    if rule.mode == "pace":
        status = engine.status(kpi, scope, engine.calendar.month(today))
        pace = status.pace_attainment
        return Observation(pace is not None and compare(pace, rule.threshold), pace, [], status,
                           status.data_through)
    first, last = today - timedelta(days=rule.days), today - timedelta(days=1)
    with engine.db.session() as session:
        per_day = fact_repo.daily_sums(session, kpi.metrics, scope, first, last)
    daily: list[tuple[date, float | None]] = []
    for offset in range(rule.days):
        day = first + timedelta(days=offset)
        daily.append((day, day_value(kpi, per_day.get(day, {}))))
    holds = all(value is not None and compare(value, rule.threshold) for _, value in daily)
    through = max((day for day in per_day), default=None)
    return Observation(holds, daily[-1][1] if daily else None, daily, None, through)


def day_value(kpi: KpiDef, sums: dict[str, float]) -> float | None:
    """The KPI on one day's metric sums; a day missing one of its metrics has no value (an unreported
    ad_gmv is not ROAS 0)."""
    sums = dict.fromkeys(kpi.zero_when_missing, 0.0) | sums
    return kpi.formula.evaluate(sums) if all(m in sums for m in kpi.metrics) else None
