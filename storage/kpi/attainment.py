"""Attainment, pacing, projection, run-rate and status (SPEC §5) from sums already aggregated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.kpi.target_book import ResolvedTarget


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

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (like for like), e.g. 0.12 = +12 %."""
        if self.actual is None or not self.previous_actual:
            return None
        return (self.actual - self.previous_actual) / abs(self.previous_actual)


def evaluate(
    kpi: KpiDef, scope: Scope, period: Period, sums: dict[str, float], through: date | None,
    today: date, target: ResolvedTarget | None, previous_actual: float | None = None,
) -> KpiStatus:
    finished = period.end < today
    data_through = min(through, today, period.end) if through else None
    actual = kpi.formula.evaluate(sums) if data_through else None
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
        if kpi.additive:
            projection = actual / elapsed if elapsed > 0 else None
            if target_value is not None and elapsed > 0:
                pace = _attainment(kpi, actual, target_value * elapsed)
            if target_value is not None and data_through is not None and actual < target_value:
                remaining_days = (period.end - data_through).days
                if remaining_days > 0:
                    run_rate = max(0.0, target_value - actual) / remaining_days
        else:
            projection = actual
            pace = attainment
    return KpiStatus(
        kpi=kpi, scope=scope, period=period, actual=actual, target=target, attainment=attainment,
        pace_attainment=pace, projection=projection, run_rate=run_rate,
        status=_status(kpi, actual, target_value, pace), data_through=data_through,
        elapsed=elapsed, finished=finished, previous_actual=previous_actual, sums=sums,
    )


def _attainment(kpi: KpiDef, actual: float | None, target: float | None) -> float | None:
    if actual is None or target is None:
        return None
    if kpi.lower_is_better:
        return target / actual if actual > 0 else None
    return actual / target if target > 0 else None


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
    """Weighted mean of pace attainment (capped so one KPI cannot carry the score)."""
    total = weight_sum = 0.0
    for status in statuses:
        weight = weights.get(status.kpi.id, 0.0)
        if status.pace_attainment is None or weight <= 0:
            continue
        total += weight * min(status.pace_attainment, cap)
        weight_sum += weight
    return total / weight_sum if weight_sum else None
