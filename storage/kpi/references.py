"""What a period's KPI value is compared with: the previous period (like for like), the same period a year
before, the average of the previous 4 periods, and a named baseline.

A reference is one or more date windows whose sums, times `scale`, stand against the current window's:
- previous / year: the first N days of that period, N = the days the current period has data for;
- avg4: the first N days of each of the 4 previous periods, averaged over those with data;
- baseline: the whole named period, × N / its days (a per-day rate for summed KPIs; ratios are unchanged).
Formulas are ratios of sums, so scaling every sum alike leaves a ratio KPI as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from storage.kpi.periods import Calendar, Period

PREVIOUS, YEAR, AVG4, BASELINE = "previous", "year", "avg4", "baseline"
KINDS = (PREVIOUS, YEAR, AVG4, BASELINE)


@dataclass(frozen=True)
class Reference:
    kind: str
    periods: tuple[Period, ...]  # the period(s) it comes from, for labels
    windows: tuple[tuple[date, date], ...]
    scale: float


def elapsed_days(period: Period, through: date | None, today: date) -> int:
    """Days of `period` the comparison covers: all of a finished one, else through its newest data."""
    if period.end < today or through is None:
        return period.days
    return max(1, min(period.days, (min(through, today, period.end) - period.start).days + 1))


def year_before(calendar: Calendar, period: Period) -> Period:
    """The same period a year before: 52 weeks back for a day or week (same weekdays), else the calendar's."""
    if period.kind in ("day", "week"):
        return calendar.of_kind(period.kind, period.start - timedelta(weeks=52))
    return calendar.of_kind(period.kind, _minus_year(period.start))


def _minus_year(day: date) -> date:
    return day.replace(year=day.year - 1, day=min(day.day, 28)) if day.month == 2 else day.replace(year=day.year - 1)


def _first_days(period: Period, days: int) -> tuple[date, date]:
    return period.start, period.start + timedelta(days=min(days, period.days) - 1)


def reference(
    kind: str, calendar: Calendar, period: Period, days: int, baseline: Period | None = None,
) -> Reference | None:
    """The reference of `kind` for the first `days` days of `period` (None: a baseline that is not set)."""
    if kind == PREVIOUS:
        previous = calendar.previous(period)
        return Reference(kind, (previous,), (_first_days(previous, days),), 1.0)
    if kind == YEAR:
        before = year_before(calendar, period)
        return Reference(kind, (before,), (_first_days(before, days),), 1.0)
    if kind == AVG4:
        periods, current = [], period
        for _ in range(4):
            current = calendar.previous(current)
            periods.append(current)
        return Reference(kind, tuple(periods), tuple(_first_days(p, days) for p in periods), 1.0)
    if kind == BASELINE and baseline is not None:
        return Reference(kind, (baseline,), ((baseline.start, baseline.end),), days / baseline.days)
    return None


def scaled(window_sums: list[dict[str, float]], scale: float) -> dict[str, float] | None:
    """The average of the windows that have rows, scaled; None when none has (nothing to compare with)."""
    with_data = [sums for sums in window_sums if sums]
    if not with_data:
        return None
    if len(with_data) == 1 and scale == 1.0:  # the usual case (the previous period): x · 1 / 1 is x
        return dict(with_data[0])
    total: dict[str, float] = {}
    for sums in with_data:
        for metric, value in sums.items():
            total[metric] = total.get(metric, 0.0) + value
    return {metric: value * scale / len(with_data) for metric, value in total.items()}
