"""Chart renderers: neutral dataclasses in, PNG bytes out.

Every chart is CHART_WIDTH_PX × CHART_HEIGHT_PX (1200 × 675, 16:9) at CHART_DPI (150): sharp
on high-density screens and still legible when Slack or Feishu scale the preview down to
~500 px wide. Figures are built with the object-oriented API on their own Agg canvas (never
pyplot) and fonts are passed per artist, so renders are independent of global state and
safe to run in parallel threads. Margins are fixed with `subplots_adjust`/explicit axes
boxes instead of `tight_layout`, which roughly doubles render time.

Renderers never raise on odd data: empty lists, ragged or mismatched lists, all-None values
and zeros all give a PNG (at worst the title and a "no data" note).
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib is imported by the functions that draw: answers without a chart never load it
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import Formatter

from jobs.charts.fonts import chart_font, drop_unrenderable, font_families
from jobs.charts.models import (
    AttainmentChartData,
    ChartWords,
    FunnelChartData,
    PaceChartData,
    RadarChartData,
)
from jobs.present.formatting import axis_numbers, percent
from jobs.present.formatting import number as format_number
from jobs.present.i18n import lang_code

CHART_WIDTH_PX = 1200
CHART_HEIGHT_PX = 675
CHART_DPI = 150

MAX_ATTAINMENT_ROWS = 20  # members beyond this are left off, with a "1–20 / 32" note
MIN_ATTAINMENT_ROW_SLOTS = 3  # fewer members are centred in this many row heights
MAX_ATTAINMENT_PANELS = 6  # KPIs beyond this are left off, with a "1–6 / 9" note
MAX_FUNNEL_STAGES = 12
MIN_FUNNEL_WIDTH = 0.1  # narrowest non-zero funnel bar, as a fraction of the widest
_FUNNEL_LEFT = 0.20  # figure fraction reserved for stage labels
MAX_RADAR_SERIES = 8
RADAR_MAX_SCORE = 1.5

STATUS_COLOURS = {
    "on_track": "#2e9e5b",
    "at_risk": "#e0a100",
    "off_track": "#d64545",
    "no_target": "#d3d8de",  # jobs.present.reply.Mark.NO_TARGET: a value but nothing to judge it by
}
NO_DATA_COLOUR = "#b8bec6"  # None, "no_data" or any unknown status
INK = "#1f2328"
MUTED = "#5f6b7a"
GRID = "#e3e6ea"
ACCENT = "#2f6fd6"  # actual values, funnel bars
TARGET_GREY = "#8a939e"
BELOW_THRESHOLD = STATUS_COLOURS["off_track"]
SERIES_COLOURS = (
    "#2f6fd6", "#e07b39", "#8e5cc4", "#1f9aa8", "#c9487a", "#7a8b2f", "#8c6d4f", "#5a6b8c",
)

TITLE_SIZE = 14.0
LABEL_SIZE = 9.5
SMALL_SIZE = 8.5

_LEFT_MARGIN = 0.035  # figure fraction where the title and notes start
_TITLE_Y = 0.955
_MEMBER_LABEL_PX_PER_UNIT = 9.4  # measured: 9.5 pt at 150 dpi, CJK 19 px and Latin ~9-11 px
_LEGEND_HANDLE_EM = 1.4
_LEGEND_PAD_EM = 0.5
_LEGEND_SPACING_EM = 1.2


# ---------------------------------------------------------------- formatting helpers


def format_percent(ratio: float | None) -> str:
    """1.0 → "100.0%"; None or NaN → "—"."""
    if ratio is None or not math.isfinite(ratio):
        return "—"
    return percent(ratio)  # as chat text prints it


def text_units(text: str) -> int:
    """Display width in half-width units: CJK and other wide characters count 2."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def truncate(text: str, max_units: int) -> str:
    """Cut `text` to at most `max_units` display units, ending with "…" when cut."""
    if text_units(text) <= max_units:
        return text
    kept: list[str] = []
    used = 1  # room for the ellipsis
    for char in text:
        width = text_units(char)
        if used + width > max_units:
            break
        kept.append(char)
        used += width
    return "".join(kept).rstrip() + "…"


def _px_per_unit(size: float) -> float:
    """Rough pixels per half-width unit: DejaVu averages ~0.6 em, CJK is 1 em (two units)."""
    return 0.6 * size * CHART_DPI / 72


def _text_width_px(text: str, size: float) -> float:
    return text_units(text) * _px_per_unit(size)


def _fit(text: str, size: float, max_px: float) -> str:
    """`text` cut with "…" to about `max_px` wide, ready for an artist."""
    return _label(text, max(4, int(max_px / _px_per_unit(size))))


def _plain(text: str) -> str:
    """Escape "$" so user labels such as "GMV ($)" are never parsed as mathtext."""
    return text.replace("$", r"\$")


def _label(text: str, max_units: int) -> str:
    """A caller's label made safe to draw: unrenderable characters dropped, cut to size, "$" escaped."""
    return _plain(truncate(drop_unrenderable(str(text)), max_units))


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _item(values: Sequence[Any] | None, index: int) -> Any:
    """values[index], or None when the list is missing or too short."""
    if values is None or index >= len(values):
        return None
    return values[index]


# ---------------------------------------------------------------- figure plumbing


def axis_number_formatter(lang: str) -> Formatter:
    """Number ticks through the one formatter, one unit per axis (0, 5K, 10K — never 5,000 next to 10K)."""
    from matplotlib.ticker import Formatter as Base

    class _AxisNumbers(Base):
        def format_ticks(self, values: Sequence[float]) -> list[str]:
            return axis_numbers(list(values), lang)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return format_number(x, lang)

    return _AxisNumbers()


def _new_figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(
        figsize=(CHART_WIDTH_PX / CHART_DPI, CHART_HEIGHT_PX / CHART_DPI),
        dpi=CHART_DPI,
        facecolor="white",
    )
    FigureCanvasAgg(figure)
    return figure


def _to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI, facecolor="white")
    return buffer.getvalue()


def _add_title(figure: Figure, title: str, legend_handles: Sequence[Artist] = ()) -> None:
    """Title top left and, when given, a one-row legend top right; the title yields space."""
    legend_px = _legend_width_px(legend_handles)
    title_px = CHART_WIDTH_PX * (1 - 2 * _LEFT_MARGIN) - legend_px - (30 if legend_px else 0)
    figure.text(
        _LEFT_MARGIN, _TITLE_Y, _fit(title, TITLE_SIZE, title_px),
        ha="left", va="top", color=INK, fontproperties=chart_font(TITLE_SIZE),
    )
    if legend_handles:
        figure.legend(
            handles=legend_handles, loc="upper right",
            bbox_to_anchor=(1 - _LEFT_MARGIN + 0.01, _TITLE_Y + 0.012),
            ncols=len(legend_handles), frameon=False, prop=chart_font(SMALL_SIZE),
            handlelength=_LEGEND_HANDLE_EM, handleheight=0.9, columnspacing=_LEGEND_SPACING_EM,
            handletextpad=_LEGEND_PAD_EM, labelcolor=INK,
        )


def _legend_width_px(handles: Sequence[Artist]) -> float:
    em_px = SMALL_SIZE * CHART_DPI / 72
    per_entry_px = (_LEGEND_HANDLE_EM + _LEGEND_PAD_EM + _LEGEND_SPACING_EM) * em_px
    return sum(per_entry_px + _text_width_px(str(handle.get_label()), SMALL_SIZE) for handle in handles)


def _add_note(figure: Figure, note: str) -> None:
    """A small muted line in the bottom-left corner (e.g. how many rows are shown)."""
    figure.text(
        _LEFT_MARGIN, 0.02, note, ha="left", va="bottom", color=MUTED, fontproperties=chart_font(SMALL_SIZE),
    )


def _shown_of(shown: int, total: int) -> str:
    return f"1–{shown} / {total}"


def _style_axes(axes: Axes, tick_size: float = LABEL_SIZE) -> None:
    """Clean look: no frame except a light baseline, light grid behind the data."""
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    axes.set_axisbelow(True)
    axes.tick_params(
        colors=MUTED, labelsize=tick_size, labelfontfamily=font_families(), length=0, pad=4,
    )


def _blank_axes(figure: Figure, rect: tuple[float, float, float, float]) -> Axes:
    """An Axes with no ticks, spines or background: everything on it is drawn explicitly."""
    axes = figure.add_axes(rect)
    axes.set_axis_off()
    return axes


def _render_empty(title: str, words: ChartWords) -> bytes:
    figure = _new_figure()
    _add_title(figure, title)
    figure.text(
        0.5, 0.47, _label(words.no_data, 60), ha="center", va="center", color=MUTED,
        fontproperties=chart_font(LABEL_SIZE + 2),
    )
    return _to_png(figure)


def _words(data_words: ChartWords | None, lang: str) -> ChartWords:
    return data_words or ChartWords.for_lang(lang)


# ---------------------------------------------------------------- attainment


def render_attainment(data: AttainmentChartData) -> bytes:
    """Members × KPIs attainment: one panel per KPI, one bar per member, target line at 100 %.

    Bars are coloured by status; members keep the caller's order (sort before calling) and
    only the first MAX_ATTAINMENT_ROWS members and MAX_ATTAINMENT_PANELS KPIs are drawn.
    All panels share one axes-less Axes laid out side by side in data units: one Axes per
    panel plus real tick objects would cost several times the render time.
    """
    words = _words(data.words, data.lang)
    members = list(data.member_labels)[:MAX_ATTAINMENT_ROWS]
    kpis = list(data.kpi_labels)[:MAX_ATTAINMENT_PANELS]
    if not members or not kpis:
        return _render_empty(data.title, words)

    rows, columns = range(len(members)), range(len(kpis))
    values = [[_finite(_item(_item(data.attainment, m), k)) for k in columns] for m in rows]
    statuses = [[_item(_item(data.statuses, m), k) for k in columns] for m in rows]
    label_units = min(22, max(6, max(text_units(str(member)) for member in members)))
    left = _LEFT_MARGIN + (label_units * _MEMBER_LABEL_PX_PER_UNIT + 14) / CHART_WIDTH_PX
    axes_width = 1 - _LEFT_MARGIN - left
    layout = _AttainmentLayout(
        rows=len(members), panels=len(kpis), x_max=_attainment_axis_max(values),
        axes_width_px=axes_width * CHART_WIDTH_PX,
    )

    figure = _new_figure()
    _add_title(figure, data.title, _status_handles(statuses, words))
    axes = _blank_axes(figure, (left, 0.07, axes_width, 0.695))  # room above for two-line KPI names
    axes.set_xlim(0, layout.width)
    # First member on top. With few members, centre them in MIN_ATTAINMENT_ROW_SLOTS row slots
    # so one member is not drawn as one fat bar.
    padding = max(MIN_ATTAINMENT_ROW_SLOTS - layout.rows, 0) / 2
    axes.set_ylim(layout.rows - 0.5 + padding, -0.5 - padding)

    _draw_attainment_guides(axes, layout)
    for k, kpi in enumerate(kpis):
        _draw_attainment_panel(axes, layout, k, kpi, [row[k] for row in values], [row[k] for row in statuses])
    member_size = SMALL_SIZE if layout.crowded else LABEL_SIZE
    for row, member in enumerate(members):
        _left_label(axes, row, _label(member, label_units), member_size)

    notes = []
    if len(data.member_labels) > len(members):
        notes.append(_shown_of(len(members), len(data.member_labels)))
    if len(data.kpi_labels) > len(kpis):
        notes.append(f"KPI {_shown_of(len(kpis), len(data.kpi_labels))}")
    if notes:
        _add_note(figure, "   ".join(notes))
    return _to_png(figure)


@dataclass(frozen=True)
class _AttainmentLayout:
    rows: int
    panels: int
    x_max: float  # each panel spans 0..x_max attainment
    axes_width_px: float

    @property
    def gap(self) -> float:
        return self.x_max * 0.16

    @property
    def width(self) -> float:
        return self.panels * self.x_max + (self.panels - 1) * self.gap

    @property
    def crowded(self) -> bool:
        return self.rows > 12

    @property
    def value_size(self) -> float:
        return 7.0 if self.crowded or self.panels > 4 else SMALL_SIZE

    def origin(self, panel: int) -> float:
        return panel * (self.x_max + self.gap)

    def to_px(self, width: float) -> float:
        return width / self.width * self.axes_width_px


def _attainment_axis_max(values: list[list[float | None]]) -> float:
    """Common x-range for all panels: at least 125 %, at most 200 % (longer bars are cut)."""
    present = [value for row in values for value in row if value is not None]
    highest = max(present, default=0.0)
    return min(2.0, max(1.25, highest * 1.12))


def _draw_attainment_guides(axes: Axes, layout: _AttainmentLayout) -> None:
    """Light grid every 50 %, the 100 % target line, and its "100%" label under each panel."""
    top, bottom = -0.5, layout.rows - 0.5
    grid_steps = [step / 2 for step in range(int(layout.x_max * 2) + 1) if step != 2]
    grid = [layout.origin(k) + step for k in range(layout.panels) for step in grid_steps]
    targets = [layout.origin(k) + 1.0 for k in range(layout.panels)]
    axes.vlines(grid, top, bottom, colors=GRID, linewidth=0.8, zorder=1)
    axes.vlines(targets, top, bottom, colors=INK, linewidth=1.0, zorder=3)
    for x in targets:
        axes.annotate(
            "100%", xy=(x, bottom), xytext=(0, -4), textcoords="offset points",
            ha="center", va="top", color=MUTED, fontproperties=chart_font(SMALL_SIZE - 0.5),
        )


def _draw_attainment_panel(
    axes: Axes,
    layout: _AttainmentLayout,
    panel: int,
    kpi_label: str,
    column: list[float | None],
    column_statuses: list[str | None],
) -> None:
    origin = layout.origin(panel)
    widths = [min(max(value or 0.0, 0.0), layout.x_max) for value in column]
    colours = [STATUS_COLOURS.get(status or "", NO_DATA_COLOUR) for status in column_statuses]
    _add_horizontal_bars(
        axes, widths, colours, height=0.66 if layout.crowded else 0.6, lefts=[origin] * len(widths),
    )
    axes.annotate(
        attainment_panel_title(kpi_label, layout.to_px(layout.x_max + layout.gap * 0.6)),
        xy=(origin, -0.5), xytext=(0, 7),
        textcoords="offset points", ha="left", va="bottom", color=INK,
        fontproperties=chart_font(LABEL_SIZE + 0.5),
    )
    for row, (value, width, colour) in enumerate(zip(column, widths, colours, strict=True)):
        _attainment_value_label(axes, layout, origin, row, value, width, colour)


def attainment_panel_title(kpi_label: str, panel_px: float) -> str:
    """The KPI's whole name over its panel, on two lines when one is too narrow ("Viewers per live" /
    "session"), cut with "…" only past two."""
    return _two_lines(kpi_label, max(4, int(panel_px / _px_per_unit(LABEL_SIZE + 0.5))))


def _attainment_value_label(
    axes: Axes,
    layout: _AttainmentLayout,
    origin: float,
    row: int,
    value: float | None,
    width: float,
    bar_colour: str,
) -> None:
    """Value right of the bar end, or inside it (white) when it would run into the next panel."""
    text = format_percent(value)
    pad = layout.x_max * 0.015
    text_px = _text_width_px(text, layout.value_size)
    room_px = layout.to_px(layout.x_max + layout.gap * 0.4 - width - pad)
    inside = text_px > room_px and layout.to_px(width - 2 * pad) > text_px
    axes.text(
        origin + (width - pad if inside else width + pad),
        row,
        text,
        ha="right" if inside else "left",
        va="center",
        color=_text_colour_on(bar_colour) if inside else (MUTED if value is None else INK),
        fontproperties=chart_font(layout.value_size),
        zorder=4,
        # Outside labels get a white backing so the 100 % line never runs through the digits.
        bbox=None if inside else {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
    )


def _text_colour_on(bar_colour: str) -> str:
    """White on the saturated green/red/blue, ink on the light amber and greys (contrast)."""
    light = (STATUS_COLOURS["at_risk"], STATUS_COLOURS["no_target"], NO_DATA_COLOUR)
    return INK if bar_colour in light else "white"


def _status_handles(statuses: list[list[str | None]], words: ChartWords) -> list[Patch]:
    from matplotlib.patches import Patch
    present = {status if status in STATUS_COLOURS else None for row in statuses for status in row}
    entries = [
        ("on_track", words.on_track, STATUS_COLOURS["on_track"]),
        ("at_risk", words.at_risk, STATUS_COLOURS["at_risk"]),
        ("off_track", words.off_track, STATUS_COLOURS["off_track"]),
        ("no_target", words.no_target, STATUS_COLOURS["no_target"]),
        (None, words.no_data, NO_DATA_COLOUR),
    ]
    return [Patch(color=colour, label=_label(label, 30)) for key, label, colour in entries if key in present]


def _add_horizontal_bars(
    axes: Axes, widths: list[float], colours: list[str], height: float, lefts: list[float],
) -> None:
    """One PolyCollection instead of `barh`'s one Rectangle per bar: several times faster."""
    from matplotlib.collections import PolyCollection
    half = height / 2
    boxes = [
        [(left, row - half), (left + width, row - half), (left + width, row + half), (left, row + half)]
        for row, (left, width) in enumerate(zip(lefts, widths, strict=True))
    ]
    axes.add_collection(
        PolyCollection(boxes, facecolors=colours, edgecolors="none", zorder=2), autolim=False,
    )


def _left_label(axes: Axes, row: int, text: str, size: float) -> None:
    """A row label just left of the axes (cheaper than a y tick)."""
    axes.annotate(
        text, xy=(0, row), xycoords=("axes fraction", "data"), xytext=(-8, 0), textcoords="offset points",
        ha="right", va="center", color=INK, fontproperties=chart_font(size),
    )


# ---------------------------------------------------------------- pace


def render_pace(data: PaceChartData) -> bytes:
    """Cumulative actual vs a straight target pace (0 → target over the period) and the projection."""
    from matplotlib import dates as mdates
    words = _words(data.words, data.lang)
    start, end = data.period_start, max(data.period_end, data.period_start + timedelta(days=1))
    actual = [
        (day, value)
        for day, value in zip(data.days, (_finite(v) for v in data.cumulative_actual), strict=False)
        if value is not None
    ]
    target = _finite(data.target)
    projection = _finite(data.projection)
    if not actual and target is None:
        return _render_empty(data.title, words)

    figure = _new_figure()
    figure.subplots_adjust(left=0.10, right=0.83, top=0.84, bottom=0.10)
    axes = figure.add_subplot()
    _style_axes(axes)
    axes.grid(axis="y", color=GRID, linewidth=0.8)

    handles: list[Line2D] = []
    if actual:
        handles += _draw_actual_and_projection(axes, actual, projection, target, start, end, data.lang, words)
    if target is not None:
        handles += axes.plot(
            mdates.date2num([start, end]), [0, target],
            color=TARGET_GREY, linewidth=1.6, label=_label(words.target_pace, 40), zorder=2,
        )
        _end_label(axes, end, target, format_number(target, data.lang), TARGET_GREY)

    _format_pace_axes(axes, start, end, [v for _, v in actual] + [target or 0.0, projection or 0.0], data)
    _mark_notes(axes, data.notes, start, end)
    _add_title(figure, data.title, handles)
    _separate_end_labels(axes)
    return _to_png(figure)


def _mark_notes(axes: Axes, notes: list[tuple[date, str]], start: date, end: date) -> None:
    """A dotted line at each note's day with its label at the top (e.g. "#3": the chat's `note list` has it)."""
    from matplotlib import dates as mdates
    for day, label in notes:
        if not start <= day <= end:
            continue
        x = mdates.date2num(day)
        axes.axvline(x, color=MUTED, linewidth=0.9, linestyle=(0, (2, 2)), zorder=1)
        axes.annotate(_label(label, 12), xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -2),
                      textcoords="offset points", ha="left", va="top", color=MUTED,
                      fontproperties=chart_font(SMALL_SIZE))


def _draw_actual_and_projection(
    axes: Axes,
    actual: list[tuple[date, float]],
    projection: float | None,
    target: float | None,
    start: date,
    end: date,
    lang: str,
    words: ChartWords,
) -> list[Line2D]:
    from matplotlib import dates as mdates
    days, values = zip(*actual, strict=True)
    last_day, last_value = days[-1], values[-1]
    handles = axes.plot(
        mdates.date2num(days), values, color=ACCENT, linewidth=2.4, label=_label(words.actual, 40), zorder=4,
    )
    axes.plot(mdates.date2num(last_day), last_value, "o", color=ACCENT, markersize=5, zorder=5)
    ongoing = last_day < end
    if projection is not None and ongoing:
        handles += axes.plot(
            mdates.date2num([last_day, end]), [last_value, projection],
            color=ACCENT, linewidth=1.8, linestyle=(0, (4, 3)), label=_label(words.projection, 40), zorder=3,
        )
    if projection is not None:
        _end_label(axes, end, projection, _projection_text(projection, target, lang), ACCENT)
    if projection is None or ongoing:
        pace_now = _target_pace_at(last_day, target, start, end)
        below_pace = pace_now is not None and last_value < pace_now
        near_start = (last_day - start).days < 0.15 * (end - start).days
        _point_label(
            axes, last_day, last_value, format_number(last_value, lang), below=below_pace, right=near_start,
        )
    return handles


def _target_pace_at(day: date, target: float | None, start: date, end: date) -> float | None:
    if target is None:
        return None
    return target * (day - start).days / (end - start).days


def _projection_text(projection: float, target: float | None, lang: str) -> str:
    if target is None or target <= 0:
        return format_number(projection, lang)
    return f"{format_number(projection, lang)} ({format_percent(projection / target)})"


def _end_label(axes: Axes, day: date, value: float, text: str, colour: str) -> None:
    from matplotlib import dates as mdates
    axes.annotate(
        text, xy=(mdates.date2num(day), value), xytext=(8, 0), textcoords="offset points",
        ha="left", va="center", color=colour, fontproperties=chart_font(SMALL_SIZE),
        annotation_clip=False, gid="end-label",
    )


def _point_label(axes: Axes, day: date, value: float, text: str, below: bool, right: bool) -> None:
    """Label the latest actual on the side away from the target-pace line (below-right or
    above-left; above-right when the point is too close to the y axis)."""
    from matplotlib import dates as mdates
    to_right = below or right
    axes.annotate(
        text, xy=(mdates.date2num(day), value), xytext=(4 if to_right else -4, -8 if below else 8),
        textcoords="offset points", ha="left" if to_right else "right", va="top" if below else "bottom",
        color=ACCENT, fontproperties=chart_font(SMALL_SIZE),
    )


def _separate_end_labels(axes: Axes) -> None:
    """Nudge the target and projection labels apart when their values are close."""
    from matplotlib.text import Annotation
    labels = [child for child in axes.texts if isinstance(child, Annotation) and child.get_gid() == "end-label"]
    if len(labels) != 2:
        return
    low, high = sorted(labels, key=lambda label: label.xy[1])
    y_min, y_max = axes.get_ylim()
    points_per_unit = axes.bbox.height / (y_max - y_min) * 72 / CHART_DPI
    gap_points = (high.xy[1] - low.xy[1]) * points_per_unit
    needed = 13.0
    if gap_points < needed:
        shift = (needed - gap_points) / 2
        low.xyann = (low.xyann[0], -shift)
        high.xyann = (high.xyann[0], shift)


def _format_pace_axes(
    axes: Axes, start: date, end: date, values: list[float], data: PaceChartData,
) -> None:
    from matplotlib import dates as mdates
    # Half a day of air on the left keeps the first date clear of the "0" value tick.
    axes.set_xlim(mdates.date2num(start) - 0.5, mdates.date2num(end))
    span_days = (end - start).days
    if span_days <= 10:
        axes.xaxis.set_major_locator(mdates.DayLocator())
    else:
        axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=8))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    top = max([0.0, *values])
    lowest = min([0.0, *values])
    axes.set_ylim(lowest * 1.1, top * 1.12 if top > 0 else 1.0)
    axes.yaxis.set_major_formatter(axis_number_formatter(data.lang))
    axes.set_ylabel(_label(data.value_label, 40), color=MUTED, fontproperties=chart_font(LABEL_SIZE))


# ---------------------------------------------------------------- funnel


def render_funnel(data: FunnelChartData) -> bytes:
    """Centred horizontal bars per stage with the stage-to-stage rate between them.

    A rate below its threshold is drawn in red.
    """
    words = _words(data.words, data.lang)
    stages = list(data.stage_labels)[:MAX_FUNNEL_STAGES]
    if not stages:
        return _render_empty(data.title, words)
    values = [max(_finite(_item(data.values, i)) or 0.0, 0.0) for i in range(len(stages))]
    widths = funnel_bar_widths(values)

    figure = _new_figure()
    _add_title(figure, data.title)
    axes = _blank_axes(figure, (_FUNNEL_LEFT, 0.05, 1 - _LEFT_MARGIN - _FUNNEL_LEFT, 0.81))
    axes.set_xlim(-0.51, 0.51)
    axes.set_ylim(len(stages) - 0.5, -0.6)

    crowded = len(stages) > 7
    _add_horizontal_bars(
        axes, widths, [ACCENT] * len(widths), height=0.58 if crowded else 0.62,
        lefts=[-width / 2 for width in widths],
    )
    label_size = SMALL_SIZE if crowded else LABEL_SIZE
    label_px = CHART_WIDTH_PX * (_FUNNEL_LEFT - _LEFT_MARGIN) - 12
    first = values[0]
    for row, (stage, value, width) in enumerate(zip(stages, values, widths, strict=True)):
        _left_label(axes, row, _fit(stage, label_size, label_px), label_size)
        share = value / first if first > 0 and row else None
        _funnel_value_label(axes, row, value, width, label_size, data.lang, share)
    for row in range(1, len(stages)):
        rate = _finite(_item(data.stage_rates, row))
        threshold = _finite(_item(data.thresholds, row))
        _funnel_rate_label(axes, row, rate, threshold, 7.5 if crowded else SMALL_SIZE)
    notes = []
    if funnel_widths_compressed(values):
        default = _FUNNEL_COMPRESSED_ZH if lang_code(data.lang) == "zh" else _FUNNEL_COMPRESSED_EN
        notes.append(data.compressed_note or default)
    if len(data.stage_labels) > len(stages):
        notes.append(_shown_of(len(stages), len(data.stage_labels)))
    if notes:
        _add_note(figure, " · ".join(notes))
    return _to_png(figure)


_FUNNEL_COMPRESSED_EN = "Widths compressed so small stages stay visible; labels give true counts and shares of the top"
_FUNNEL_COMPRESSED_ZH = "为显示较小环节，条形宽度已压缩；标注为实际数量及占首环节的比例"


def funnel_widths_compressed(values: list[float]) -> bool:
    """True when `funnel_bar_widths` is not proportional (the narrowest stage is under MIN_FUNNEL_WIDTH)."""
    widest = max(values, default=0.0)
    return widest > 0 and any(0 < value / widest < MIN_FUNNEL_WIDTH for value in values)


def funnel_bar_widths(values: list[float]) -> list[float]:
    """Bar widths as a fraction of the widest stage.

    Proportional while the narrowest non-zero stage is at least MIN_FUNNEL_WIDTH of the widest.
    E-commerce funnels often span 1000× (impressions → orders), which would leave the late
    stages as hairlines, so then widths are compressed with a power < 1 chosen to make the
    narrowest exactly MIN_FUNNEL_WIDTH. Order is preserved and the printed numbers are exact.
    """
    widest = max(values, default=0.0)
    if widest <= 0:
        return [0.0] * len(values)
    ratios = [value / widest for value in values]
    narrowest = min((ratio for ratio in ratios if ratio > 0), default=1.0)
    if narrowest >= MIN_FUNNEL_WIDTH:
        return ratios
    exponent = math.log(MIN_FUNNEL_WIDTH) / math.log(narrowest)
    return [ratio**exponent if ratio > 0 else 0.0 for ratio in ratios]


def _funnel_value_label(
    axes: Axes, row: int, value: float, width: float, size: float, lang: str, share: float | None = None,
) -> None:
    """The stage's count, and its true share of the first stage (bar widths may be compressed)."""
    text = format_number(value, lang) if share is None else f"{format_number(value, lang)} · {funnel_share(share)}"
    inside = width >= 0.16 + 0.05 * (share is not None)
    axes.text(
        0 if inside else width / 2 + 0.012,
        row,
        text,
        ha="center" if inside else "left",
        va="center",
        color="white" if inside else INK,
        fontproperties=chart_font(size),
        zorder=3,
    )


def funnel_share(share: float) -> str:
    """A stage's share of the funnel's top, often well under 1 %: whole percents from 10 %, else two significant
    digits with their zeros (`1.7%`, `0.27%`, `0.10%`, `0.095%`), so neighbouring stages never read alike."""
    pct = share * 100
    if pct >= 10:
        return f"{pct:.0f}%"
    if pct <= 0 or not math.isfinite(pct):
        return "0%"
    return f"{pct:.{max(0, 1 - math.floor(math.log10(pct)))}f}%"


def _funnel_rate_label(
    axes: Axes, row: int, rate: float | None, threshold: float | None, size: float,
) -> None:
    """The conversion into stage `row`, centred in the gap above its bar."""
    if rate is None:
        return
    below = threshold is not None and rate < threshold
    axes.text(
        0, row - 0.5, f"↓ {format_percent(rate)}",
        ha="center", va="center", color=BELOW_THRESHOLD if below else MUTED,
        fontproperties=chart_font(size), zorder=3,
    )


# ---------------------------------------------------------------- radar


def render_radar(data: RadarChartData) -> bytes:
    """One polygon per member over the KPI axes; the dashed dark ring is 100 % (on target).

    Drawn on a plain equal-aspect Axes rather than a polar one: cheaper, and the axis labels
    can be anchored away from the web so they are never clipped.
    """
    words = _words(data.words, data.lang)
    axis_labels = list(data.axis_labels)
    series = list(data.series)[:MAX_RADAR_SERIES]
    if not axis_labels or not series:
        return _render_empty(data.title, words)

    figure = _new_figure()
    _add_title(figure, data.title)
    height = 0.68
    width = height * CHART_HEIGHT_PX / CHART_WIDTH_PX  # square in pixels
    axes = _blank_axes(figure, (0.355 - width / 2, 0.085, width, height))
    limit = RADAR_MAX_SCORE * 1.02
    axes.set_xlim(-limit, limit)
    axes.set_ylim(-limit, limit)
    angles = [math.pi / 2 - 2 * math.pi * i / len(axis_labels) for i in range(len(axis_labels))]
    _draw_radar_web(axes, angles, axis_labels, data.plain_scores)

    handles = []
    for index, (name, scores) in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        radii = [_radar_radius(_item(scores, i)) for i in range(len(axis_labels))]
        xs, ys = _polar_points(angles, radii)
        handles += axes.plot(
            [*xs, xs[0]], [*ys, ys[0]], color=colour, linewidth=2.0, label=_label(name, 24), zorder=3,
            marker="o", markersize=3.5,
        )
        axes.fill(xs, ys, color=colour, alpha=0.10 if len(series) <= 3 else 0.04, zorder=2)
        if len(series) == 1:
            _radar_point_labels(axes, xs, ys, [radar_value_label(_item(scores, i), data.plain_scores)
                                               for i in range(len(axis_labels))])

    figure.legend(
        handles=handles, loc="center left", bbox_to_anchor=(0.70, 0.47), frameon=False,
        prop=chart_font(LABEL_SIZE), handlelength=1.6, labelcolor=INK,
        ncols=2 if len(handles) > 5 else 1,
    )
    if len(data.series) > len(series):
        _add_note(figure, _shown_of(len(series), len(data.series)))
    return _to_png(figure)


def radar_value_label(value: float | None, plain_scores: bool) -> str:
    """An attainment as a percentage (`120.0%`); a score ÷ 100 as the score the table prints (`120`)."""
    value = _finite(value)
    if not plain_scores:
        return format_percent(value)
    return "—" if value is None else f"{value * 100:.0f}"


def _radar_radius(score: float | None) -> float:
    return min(max(_finite(score) or 0.0, 0.0), RADAR_MAX_SCORE)


def _polar_points(angles: list[float], radii: list[float]) -> tuple[list[float], list[float]]:
    xs = [radius * math.cos(angle) for angle, radius in zip(angles, radii, strict=True)]
    ys = [radius * math.sin(angle) for angle, radius in zip(angles, radii, strict=True)]
    return xs, ys


def _draw_radar_web(axes: Axes, angles: list[float], axis_labels: list[str], plain_scores: bool = False) -> None:
    """Rings at 50/100/150 % (polygons, or circles below three axes), spokes and axis labels."""
    ring_angles = angles if len(angles) >= 3 else [2 * math.pi * i / 96 for i in range(96)]
    # Only the target ring is labelled, between the first two spokes, away from the data labels.
    label_angles = angles[:2] if len(angles) >= 3 else [math.pi / 4, math.pi / 4]
    for level in (0.5, 1.0, 1.5):
        xs, ys = _polar_points(ring_angles, [level] * len(ring_angles))
        on_target = level == 1.0
        axes.plot(
            [*xs, xs[0]], [*ys, ys[0]], color=INK if on_target else GRID,
            linewidth=1.0 if on_target else 0.8, linestyle=(0, (3, 2)) if on_target else "-", zorder=1,
        )
        if not on_target:
            continue
        label_xs, label_ys = _polar_points(label_angles, [level, level])
        axes.annotate(
            radar_value_label(level, plain_scores).replace(".0%", "%"),
            xy=(sum(label_xs) / 2, sum(label_ys) / 2), xytext=(2, 2),
            textcoords="offset points", ha="left", va="bottom", color=MUTED,
            fontproperties=chart_font(7.0), zorder=4,
        )
    outer_x, outer_y = _polar_points(angles, [RADAR_MAX_SCORE] * len(angles))
    axes.plot(
        [coordinate for x in outer_x for coordinate in (0.0, x, math.nan)],
        [coordinate for y in outer_y for coordinate in (0.0, y, math.nan)],
        color=GRID, linewidth=0.8, zorder=1,
    )
    for angle, label in zip(angles, axis_labels, strict=True):
        _radar_axis_label(axes, angle, _two_lines(label, 16))


def _two_lines(text: str, max_units: int) -> str:
    """A label on up to two lines of `max_units` each, broken at a space (`Viewers per` / `live session`),
    preferring a break where both lines fit; cut with "…" only past that: a radar axis is read whole."""
    text = drop_unrenderable(str(text))
    words = text.split(" ")
    if text_units(text) <= max_units:
        return _label(text, max_units)
    if len(words) == 1:  # no spaces (Chinese, or one long word): break between characters
        head = next(text[:i] for i in range(len(text), 0, -1) if text_units(text[:i]) <= max_units or i == 1)
        return f"{_label(head, max_units)}\n{_label(text[len(head):], max_units)}"
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(len(words) - 1, 0, -1)]
    fitting = [(head, rest) for head, rest in splits if text_units(head) <= max_units >= text_units(rest)]
    head, rest = fitting[0] if fitting else next(((h, r) for h, r in splits if text_units(h) <= max_units),
                                                  splits[-1])
    return f"{_label(head, max_units)}\n{_label(rest, max_units)}"


def _radar_axis_label(axes: Axes, angle: float, text: str) -> None:
    """Anchor the label on the side facing away from the web so it never overlaps it."""
    cos, sin = math.cos(angle), math.sin(angle)
    ha = "center" if abs(cos) < 0.2 else ("left" if cos > 0 else "right")
    va = "center" if abs(sin) < 0.2 else ("bottom" if sin > 0 else "top")
    axes.annotate(
        text, xy=(RADAR_MAX_SCORE * cos, RADAR_MAX_SCORE * sin), xytext=(8 * cos, 8 * sin),
        textcoords="offset points", ha=ha, va=va, color=INK, fontproperties=chart_font(LABEL_SIZE),
    )


def _radar_point_labels(axes: Axes, xs: list[float], ys: list[float], labels: list[str]) -> None:
    for x, y, label in zip(xs, ys, labels, strict=True):
        axes.annotate(
            label, xy=(x, y), xytext=(0, 6), textcoords="offset points",
            ha="center", va="bottom", color=INK, fontproperties=chart_font(7.5), zorder=5,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
