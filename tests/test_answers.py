"""Pieces of the issue-13 answers that need no database: trend points and the series chart."""

from __future__ import annotations

from datetime import date, timedelta

from jobs.charts.series import SeriesChartData, render_series
from jobs.present.answers import trend_points
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry

REGISTRY = load_registry(None)
CAL = Calendar()


def test_daily_points_leave_days_without_rows_as_gaps_not_zeros() -> None:
    week = CAL.week(date(2026, 11, 16))  # Mon 16 … Sun 22
    daily = {date(2026, 11, 16): {"gmv": 100.0}, date(2026, 11, 18): {"gmv": 50.0}}
    days, values, weekly = trend_points(REGISTRY.kpis["gmv"], week, daily, through=date(2026, 11, 18))
    assert not weekly
    assert days == [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)]  # stops at the data-through day
    assert values == [100.0, None, 50.0]


def test_a_ratio_is_the_ratio_of_the_bucket_sums_never_an_average_of_daily_ratios() -> None:
    quarter = CAL.quarter(date(2026, 10, 1))  # 92 days → weekly points
    daily = {date(2026, 10, 1): {"gmv": 300.0, "orders": 100.0},  # AOV 3
             date(2026, 10, 2): {"gmv": 100.0, "orders": 100.0},  # AOV 1
             date(2026, 10, 3): {"gmv": 0.0, "orders": 200.0}}  # AOV 0
    days, values, weekly = trend_points(REGISTRY.kpis["aov"], quarter, daily, through=date(2026, 10, 14))
    assert weekly
    assert days == [date(2026, 10, 1), date(2026, 10, 8)]
    # week of Oct 1: (300 + 100 + 0) / (100 + 100 + 200) = 1.0; the mean of daily AOVs would be 1.33
    assert values == [1.0, None]


def test_the_series_chart_is_a_png_even_with_gaps_or_nothing() -> None:
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(5)]
    png = render_series(SeriesChartData("GMV · Nov", days, [1.0, None, 3.0, 2.0, None], "en"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    empty = render_series(SeriesChartData("GMV走势", days, [None] * 5, "zh"))
    assert empty[:8] == b"\x89PNG\r\n\x1a\n"
