"""The waterfall of a `why` answer: the reference value, one floating bar per factor's contribution (green up,
red down), and the current value. Same canvas, fonts and guarantees as jobs/charts/render.py: a PNG of
CHART_WIDTH_PX × CHART_HEIGHT_PX whatever the data, never an exception on odd values.

Every value on it (bar labels and the axis) is written as the `why` reply writes it: the KPI's unit through
jobs.present.formatting (`kpi_value`, whose counts and money are `number`), so the chart and the table beside
it print the same `+$9,704.44`, `$201.2K`, `5.0%`."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.charts.fonts import chart_font
from jobs.charts.models import ChartWords
from jobs.charts.render import (
    ACCENT,
    CHART_WIDTH_PX,
    GRID,
    INK,
    LABEL_SIZE,
    MUTED,
    SMALL_SIZE,
    STATUS_COLOURS,
    TARGET_GREY,
    _add_note,
    _add_title,
    _finite,
    _label,
    _new_figure,
    _px_per_unit,
    _render_empty,
    _style_axes,
    _to_png,
    text_units,
)
from jobs.present.formatting import kpi_value, signed_kpi_value

MAX_STEPS = 8
UP, DOWN = STATUS_COLOURS["on_track"], STATUS_COLOURS["off_track"]


@dataclass
class WaterfallChartData:
    title: str
    start_label: str  # e.g. "W47"
    start_value: float | None
    steps: list[tuple[str, float | None]]  # (factor label, contribution)
    end_label: str  # e.g. "W48"
    end_value: float | None
    lang: str
    value_label: str = ""  # y-axis label, e.g. "GMV (USD)"
    note: str = ""  # a muted line at the bottom, e.g. the notes of those days
    words: ChartWords | None = None
    unit: str = "count"  # the KPI's unit: how every value is written (as in the reply's text)
    currency: str = ""  # the team's currency, for a currency KPI


def waterfall_labels(data: WaterfallChartData) -> list[str]:
    """The label over each bar, as drawn: the start value, each factor's signed contribution, the end value."""
    unit, currency, lang = data.unit, data.currency, data.lang
    contributions = [v for _, value in data.steps[:MAX_STEPS] if (v := _finite(value)) is not None]
    return [kpi_value(_finite(data.start_value), unit, currency, lang),
            *(signed_kpi_value(v, unit, currency, lang) for v in contributions),
            kpi_value(_finite(data.end_value), unit, currency, lang)]


def render_waterfall(data: WaterfallChartData) -> bytes:
    from matplotlib.ticker import FuncFormatter
    words = data.words or ChartWords.for_lang(data.lang)
    start, end = _finite(data.start_value), _finite(data.end_value)
    steps = [(label, value) for label, value in data.steps[:MAX_STEPS] if _finite(value) is not None]
    if start is None or end is None:
        return _render_empty(data.title, words)

    figure = _new_figure()
    figure.subplots_adjust(left=0.10, right=0.97, top=0.84, bottom=0.16 if data.note else 0.12)
    axes = figure.add_subplot()
    _style_axes(axes)
    axes.grid(axis="y", color=GRID, linewidth=0.8)

    labels = [data.start_label, *(label for label, _ in steps), data.end_label]
    running, tops, bottoms = start, [start], [0.0]
    colours = [TARGET_GREY]
    for _, value in steps:
        assert value is not None
        bottoms.append(running if value >= 0 else running + value)
        tops.append(running + value if value >= 0 else running)
        colours.append(UP if value >= 0 else DOWN)
        running += value
    bottoms.append(0.0)
    tops.append(end)
    colours.append(ACCENT)
    positions = list(range(len(labels)))
    axes.bar(positions, [t - b for t, b in zip(tops, bottoms, strict=True)], bottom=bottoms, color=colours,
             width=0.62, zorder=3)
    for i in range(len(labels) - 1):  # connectors at each running total
        level = tops[i] if i == 0 or (steps[i - 1][1] or 0) >= 0 else bottoms[i]
        axes.plot([i + 0.31, i + 0.69], [level, level], color=MUTED, linewidth=0.8, zorder=2)

    span = max(tops) - min(0.0, min(bottoms))
    for i, (top, text) in enumerate(zip(tops, waterfall_labels(data), strict=True)):
        axes.text(i, top + span * 0.015, text, ha="center", va="bottom", color=INK,
                  fontproperties=chart_font(SMALL_SIZE), zorder=4)
    axes.set_xticks(positions)
    max_units = max(6, int(CHART_WIDTH_PX * 0.87 / len(labels) / _px_per_unit(LABEL_SIZE)) - 1)
    axes.set_xticklabels([_two_lines(label, max_units) for label in labels], fontproperties=chart_font(LABEL_SIZE),
                         color=MUTED)
    low = min(0.0, min(bottoms))
    # Bars start at zero (an honest height for start and end); headroom for the value labels.
    axes.set_ylim(low, max(tops) + span * 0.12 if span > 0 else 1.0)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: kpi_value(y, data.unit, data.currency, data.lang)))
    if data.value_label:
        axes.set_ylabel(_label(data.value_label, 40), color=MUTED, fontproperties=chart_font(LABEL_SIZE))
    _add_title(figure, data.title)
    if data.note:
        _add_note(figure, _label(data.note, 150))
    return _to_png(figure)


def _two_lines(label: str, max_units: int) -> str:
    """A factor name on up to two lines (broken at the space nearest the middle), each cut to `max_units`."""
    if text_units(label) <= max_units or " " not in label:
        return _label(label, max_units)
    spaces = [i for i, char in enumerate(label) if char == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return f"{_label(label[:cut], max_units)}\n{_label(label[cut + 1:], max_units)}"
