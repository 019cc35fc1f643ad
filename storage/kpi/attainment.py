"""Attainment, pacing, projection, run-rate and status (SPEC §5) from sums already aggregated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.kpi.target_book import ResolvedTarget
from storage.kpi.through import DataThrough


class Status(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"


@dataclass(frozen=True)
class KpiStatus:
    kpi: KpiDef
    scope: Scope
    period: Period
    actual: float | None
    target: ResolvedTarget | None
    attainment: float | None
    pace_attainment: float | None
    projection: float | None
    run_rate: float | None
    status: Status
    data_through: date | None
    elapsed: float  # fraction of the period elapsed through the data-through date
    finished: bool
    previous_actual: float | None = None
    sums: dict[str, float] | None = None
    missing: tuple[str, ...] = ()  # metrics of the formula with no rows: the KPI has no data
    later_sources: tuple[tuple[str, date], ...] = ()  # sources with rows after data_through (their newest)
    lagging_sources: tuple[tuple[str, date], ...] = ()  # the sources holding data_through back
    previous_from: date | None = None  # the previous period has data from this day only: no comparison
    previous_period: Period | None = None

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (like for like), e.g. 0.12 = +12 %."""
        if self.actual is None or not self.previous_actual or self.previous_from is not None:
            return None
        return (self.actual - self.previous_actual) / abs(self.previous_actual)


def evaluate(
    kpi: KpiDef, scope: Scope, period: Period, sums: dict[str, float], through: date | DataThrough | None,
    today: date, target: ResolvedTarget | None, previous_actual: float | None = None, *,
    through_sums: dict[str, float] | None = None, missing: tuple[str, ...] = (), previous_from: date | None = None,
    previous_period: Period | None = None,
) -> KpiStatus:
    """`sums` are every row's (the headline actual); `through_sums` the rows through the data-through date,
    for pace, projection and run-rate (None: the same as `sums`)."""
    if not isinstance(through, DataThrough):
        through = DataThrough(through)
    finished = period.end < today
    data_through = min(through.day, today, period.end) if through.day else None
    actual = kpi.formula.evaluate(sums) if data_through and not missing else None
    if finished:
        elapsed = 1.0
    elif data_through:
        elapsed = ((data_through - period.start).days + 1) / period.days
    else:
        elapsed = 0.0
    target_value = target.value if target else None
    attainment = _attainment(kpi, actual, target_value)
    pace = projection = run_rate = None
    if actual is not None:
        paced = kpi.formula.evaluate(through_sums) if through_sums is not None and not finished else actual
        if kpi.additive and paced is not None:
            projection = paced / elapsed if elapsed > 0 else None
            if target_value is not None and elapsed > 0:
                pace = _attainment(kpi, paced, target_value * elapsed)
            run_rate = _run_rate(paced, target_value, data_through, period)
        else:
            projection = actual
            pace = attainment
    status = (_budget_status(kpi, actual, target_value, projection) if kpi.budget
              else _status(kpi, actual, target_value, pace))
    return KpiStatus(
        kpi=kpi, scope=scope, period=period, actual=actual, target=target, attainment=attainment,
        pace_attainment=pace, projection=projection, run_rate=run_rate,
        status=status, data_through=data_through,
        elapsed=elapsed, finished=finished, previous_actual=previous_actual, sums=sums, missing=missing,
        later_sources=through.later, lagging_sources=through.lagging, previous_from=previous_from,
        previous_period=previous_period,
    )


def _run_rate(paced: float, target: float | None, through: date | None, period: Period) -> float | None:
    """Per day still needed to reach the target (a budget: still left to spend per day)."""
    if target is None or through is None or paced >= target:
        return None
    remaining_days = (period.end - through).days
    return max(0.0, target - paced) / remaining_days if remaining_days > 0 else None


def _budget_status(kpi: KpiDef, actual: float | None, target: float | None, projection: float | None) -> Status:
    """A spending cap: within budget while the projected spend stays under it; at risk up to the
    tolerance above; over budget past that, or once the spend already exceeds the cap."""
    if actual is None:
        return Status.NO_DATA
    if not target:
        return Status.NO_TARGET
    projected = actual if projection is None else max(projection, actual)
    if actual > target:
        return Status.OFF_TRACK
    if projected <= target:
        return Status.ON_TRACK
    if projected <= target * (1 + kpi.over_tolerance):
        return Status.AT_RISK
    return Status.OFF_TRACK


def _attainment(kpi: KpiDef, actual: float | None, target: float | None) -> float | None:
    if actual is None or target is None:
        return None
    if kpi.lower_is_better:
        return target / actual if actual > 0 else None
    return actual / target if target > 0 else None  # a budget: utilisation


def _status(kpi: KpiDef, actual: float | None, target: float | None, pace: float | None) -> Status:
    if actual is None:
        return Status.NO_DATA
    if target is None:
        return Status.NO_TARGET
    if pace is None:
        # lower-is-better at zero (no returns at all) beats any target; a zero target cannot be paced
        return Status.ON_TRACK if kpi.lower_is_better and actual == 0 else Status.NO_TARGET
    if pace >= 1:
        return Status.ON_TRACK
    if pace >= kpi.warn:
        return Status.AT_RISK
    return Status.OFF_TRACK


def composite_score(statuses: list[KpiStatus], weights: dict[str, float], cap: float = 1.5) -> float | None:
    """Weighted mean of pace attainment (capped so one KPI cannot carry the score). Trial KPIs do not
    count; a budget scores 1 within budget and target / projected spend above it."""
    total = weight_sum = 0.0
    for status in statuses:
        weight = weights.get(status.kpi.id, 0.0)
        score = _score(status)
        if score is None or weight <= 0 or status.kpi.trial:
            continue
        total += weight * min(score, cap)
        weight_sum += weight
    return total / weight_sum if weight_sum else None


def _score(status: KpiStatus) -> float | None:
    if not status.kpi.budget:
        return status.pace_attainment
    target = status.target.value if status.target else None
    spend = status.projection if status.projection is not None else status.actual
    if not target or spend is None:
        return None
    return min(1.0, target / spend) if spend > 0 else 1.0
