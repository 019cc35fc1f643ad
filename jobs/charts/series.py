"""A KPI over time: one line of points (days, or weeks for long periods), gaps where data is missing.

Built on the shared figure plumbing of `jobs.charts.render` (size, fonts, title, axes style), so a
trend chart looks like the digest's charts. Never raises on odd data: no points → the "no data" card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jobs.charts.models import ChartWords
from jobs.charts.render import (
    ACCENT,
    LABEL_SIZE,
    _add_title,
    _finite,
    _new_figure,
    _render_empty,
    _style_axes,
    _to_png,
    axis_number_formatter,
)


@dataclass(frozen=True)
class SeriesChartData:
    title: str
    days: list[date]  # the first day of each point
    values: list[float | None]  # None = no data that day / week (a gap, not a zero)
    lang: str = "en"
    percent: bool = False  # values are ratios to show as %


def render_series(data: SeriesChartData) -> bytes:
    from matplotlib import dates as mdates
    from matplotlib.ticker import FuncFormatter
    words = ChartWords.for_lang(data.lang)
    points = [(day, _finite(value)) for day, value in zip(data.days, data.values, strict=False)]
    if not any(value is not None for _, value in points):
        return _render_empty(data.title, words)
    figure = _new_figure()
    _add_title(figure, data.title)
    axes = figure.add_axes((0.08, 0.12, 0.88, 0.72))
    _style_axes(axes)
    axes.grid(axis="y", color="#e3e6ea", linewidth=0.8)
    xs = [mdates.date2num(day) for day, _ in points]
    ys = [float("nan") if value is None else value for _, value in points]
    axes.plot(xs, ys, color=ACCENT, linewidth=2.0, marker="o", markersize=3.5)
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    if data.percent:
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.1f}%"))
    else:
        axes.yaxis.set_major_formatter(axis_number_formatter(data.lang))
    axes.tick_params(labelsize=LABEL_SIZE)
    axes.set_ylim(bottom=min(0.0, min(y for y in ys if y == y)))
    return _to_png(figure)
