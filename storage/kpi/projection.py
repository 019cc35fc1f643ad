"""Weekday-aware projection to period end for summed KPIs (live teams sell more at weekends: a straight line
misleads on a Monday).

For each day, its *typical* value is the median of the last 8 same weekdays with data up to the data-through
day. The period so far runs at `scale` = actual so far / typical of the days so far; the projection adds
scale × typical for each remaining day. Its range is the 10th–90th percentile of how past periods of the
same kind ended against their own projection made at the same point (same number of days in).
Pace attainment stays as SPEC §5 defines it; this only changes the projection shown beside it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from storage.kpi.periods import Period

WEEKS = 8
MIN_WEEKS = 4  # same weekdays needed for a typical value ("at least 4 weeks of history")
MIN_PAST_PERIODS = 3  # past periods needed for a range


@dataclass(frozen=True)
class Projection:
    value: float
    actual: float  # so far
    scale: float  # how this period runs against its typical days
    low: float | None = None  # 10th percentile of past periods' end / projection, × value
    high: float | None = None


def typical(daily: dict[date, float], day: date, through: date) -> float | None:
    """Median of the last WEEKS same weekdays before `day` that are on or before `through` and have data."""
    found: list[float] = []
    past = day - timedelta(weeks=1)
    while past > through:
        past -= timedelta(weeks=1)
    for _ in range(WEEKS * 2):  # look back past gaps, but not forever
        if past in daily:
            found.append(daily[past])
            if len(found) == WEEKS:
                break
        past -= timedelta(weeks=1)
    return statistics.median(found) if len(found) >= MIN_WEEKS else None


def project(daily: dict[date, float], period: Period, through: date) -> Projection | None:
    """The period's end value from days up to `through`; None without enough history for every day."""
    through = min(through, period.end)
    if through < period.start:
        return None
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    elapsed = [d for d in days if d <= through]
    remaining = [d for d in days if d > through]
    actual = sum(daily.get(d, 0.0) for d in elapsed)
    typical_elapsed = [typical(daily, d, through) for d in elapsed]
    typical_remaining = [typical(daily, d, through) for d in remaining]
    if any(t is None for t in typical_elapsed + typical_remaining):
        return None
    expected_so_far = sum(typical_elapsed)  # type: ignore[arg-type]
    if expected_so_far <= 0:
        return None
    scale = actual / expected_so_far
    return Projection(actual + scale * sum(typical_remaining), actual, scale)  # type: ignore[arg-type]


def project_with_range(
    daily: dict[date, float], period: Period, through: date, previous: Callable[[Period], Period],
    past_periods: int = 8,
) -> Projection | None:
    """`project`, plus the range from up to `past_periods` earlier periods of the same kind."""
    found = project(daily, period, through)
    if found is None:
        return None
    days_in = (min(through, period.end) - period.start).days
    ratios: list[float] = []
    past = period
    for _ in range(past_periods):
        past = previous(past)
        at_same_point = project(daily, past, past.start + timedelta(days=days_in))
        ended = [daily.get(past.start + timedelta(days=i)) for i in range(past.days)]
        if at_same_point is None or at_same_point.value <= 0 or any(v is None for v in ended):
            continue
        ratios.append(sum(ended) / at_same_point.value)  # type: ignore[arg-type]
    if len(ratios) < MIN_PAST_PERIODS:
        return found
    deciles = statistics.quantiles(ratios, n=10, method="inclusive")
    return Projection(found.value, found.actual, found.scale, found.value * deciles[0], found.value * deciles[-1])
