"""Small multiples: one small line panel per KPI over the same months, side by side, so links between
them (CAC up while repeat rate falls …) are visible at a glance. Each point is labelled with its value
and each month with its change against the one before (green = better, red = worse, by direction)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib loads with the first chart, not with the module
    from matplotlib.axes import Axes

from jobs.charts.fonts import chart_font
from jobs.charts.models import ChartWords
from jobs.charts.render import (
    ACCENT,
    INK,
    MUTED,
    SMALL_SIZE,
    STATUS_COLOURS,
    _add_note,
    _add_title,
    _fit,
    _new_figure,
    _render_empty,
    _style_axes,
    _to_png,
    _words,
)

MAX_PANELS = 6
_COLUMNS = 3


@dataclass
class Panel:
    label: str
    values: list[float | None]  # one per month; None = missing (a gap, not a zero)
    value_labels: list[str]  # formatted values, one per month
    changes: list[float | None]  # change against the previous month (its sign and direction colour it)
    change_labels: list[str]  # formatted changes, one per month ('' = none)
    lower_is_better: bool = False
    # per month: True = the month's data starts late (hollow grey point, dotted links, no change)
    partial: list[bool] = field(default_factory=list)


@dataclass
class SmallMultiplesData:
    title: str
    x_labels: list[str]  # month labels, oldest first
    panels: list[Panel]
    lang: str
    note: str = ""
    words: ChartWords | None = None


def render_small_multiples(data: SmallMultiplesData) -> bytes:
    panels = data.panels[:MAX_PANELS]
    if not panels or not data.x_labels:
        return _render_empty(data.title, _words(data.words, data.lang))
    figure = _new_figure()
    _add_title(figure, data.title)
    rows = math.ceil(len(panels) / _COLUMNS)
    note_lines = data.note.count("\n") + 1 if data.note else 0
    left, right, top, bottom = 0.05, 0.965, 0.85, 0.075 + 0.035 * note_lines
    gap_x, gap_y = 0.055, 0.14
    width = (right - left - gap_x * (_COLUMNS - 1)) / _COLUMNS
    height = (top - bottom - gap_y * (rows - 1)) / rows
    for index, panel in enumerate(panels):
        row, column = divmod(index, _COLUMNS)
        axes = figure.add_axes((left + column * (width + gap_x), top - (row + 1) * height - row * gap_y, width, height))
        _draw_panel(axes, panel, data.x_labels)
    if data.note:
        _add_note(figure, data.note)
    return _to_png(figure)


def _draw_panel(axes: Axes, panel: Panel, x_labels: list[str]) -> None:
    _style_axes(axes, tick_size=7.0)
    axes.set_yticks([])
    count = len(x_labels)
    xs = list(range(count))
    values = [panel.values[i] if i < len(panel.values) else None for i in xs]
    ys = [v if v is not None and math.isfinite(v) else math.nan for v in values]
    partial = [i < len(panel.partial) and panel.partial[i] for i in xs]
    # Solid line between complete months; a partial month is a hollow grey point joined by dotted lines.
    solid = [math.nan if partial[i] else y for i, y in enumerate(ys)]
    axes.plot(xs, solid, color=ACCENT, linewidth=1.8, marker="o", markersize=3.5, zorder=3)
    for i in (i for i in xs if partial[i] and not math.isnan(ys[i])):
        for j in (i - 1, i + 1):
            if 0 <= j < count and not math.isnan(ys[j]):
                axes.plot([i, j], [ys[i], ys[j]], color=MUTED, linewidth=1.2, linestyle=":", zorder=2)
        axes.plot([i], [ys[i]], linestyle="none", marker="o", markersize=4.5, markerfacecolor="white",
                  markeredgecolor=MUTED, markeredgewidth=1.3, zorder=4)
    known = [y for y in ys if not math.isnan(y)]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    span = (high - low) or (abs(high) or 1.0)
    # The bottom band (under the lowest point) holds the change labels, so they never sit on the line.
    axes.set_ylim(low - span * 0.75, high + span * 0.45)
    axes.set_xlim(-0.5, count - 0.5)
    axes.set_xticks(xs, [_fit(label, 7.0, 60) for label in x_labels])
    axes.set_title(_fit(panel.label, SMALL_SIZE + 0.5, 330), loc="left", color=INK,
                   fontproperties=chart_font(SMALL_SIZE + 0.5), pad=4)
    for i, y in enumerate(ys):
        if math.isnan(y):
            axes.text(i, 0.3, "—", transform=axes.get_xaxis_transform(), ha="center", va="center", color=MUTED,
                      fontproperties=chart_font(7.0))
            continue
        label = panel.value_labels[i] if i < len(panel.value_labels) else ""
        axes.annotate(label, (i, y), xytext=(0, 5), textcoords="offset points", ha="center", va="bottom",
                      color=MUTED if partial[i] else INK, fontproperties=chart_font(6.5), zorder=4)
        change = panel.changes[i] if i < len(panel.changes) else None
        text = panel.change_labels[i] if i < len(panel.change_labels) else ""
        if partial[i] and text:  # says why there is no change
            axes.text(i, 0.04, text, transform=axes.get_xaxis_transform(), ha="center", va="bottom",
                      color=MUTED, fontproperties=chart_font(6.0), style="italic", zorder=4)
        elif change is not None and math.isfinite(change) and text:
            better = (change < 0) if panel.lower_is_better else (change > 0)
            colour = MUTED if change == 0 else STATUS_COLOURS["on_track" if better else "off_track"]
            axes.text(i, 0.04, text, transform=axes.get_xaxis_transform(), ha="center", va="bottom",
                      color=colour, fontproperties=chart_font(6.5), zorder=4)
