"""chart_render: each digest chart (attainment, pace, funnel, radar) rendered to PNG by jobs.charts,
against a bare matplotlib Figure of the same size and dpi holding the same elements — the same text
strings, lines (same points), polygons and segments (same geometry), legend entries and axes — with
matplotlib's defaults: no fonts, colours, text boxes or layout of ours. ratio = ours / bare.

The element inventory is read once from the figure our renderer builds (untimed); the headline is
English (the bare figure's default font has no CJK glyphs); Chinese timings are in the params, with a
bare figure given the same CJK font family so it can draw the glyphs at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.harness import NotAvailable, Result, interleaved, median, peak_rss_mb, spread

CHARTS = ("attainment", "pace", "funnel", "radar")


@dataclass
class Inventory:
    """What a figure holds, element by element."""

    size_in: tuple[float, float]
    dpi: float
    axes: list[tuple[tuple[float, float, float, float], bool]] = field(default_factory=list)  # (box, axis on)
    texts: list[str] = field(default_factory=list)
    lines: list[tuple[list[float], list[float]]] = field(default_factory=list)
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    segments: list[list[tuple[float, float]]] = field(default_factory=list)
    legend_labels: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.texts) + len(self.lines) + len(self.polygons) + len(self.segments) + len(self.legend_labels)


def inventory_of(figure: Any) -> Inventory:
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Polygon

    inv = Inventory(tuple(figure.get_size_inches()), figure.dpi)
    inv.texts.extend(text.get_text() for text in figure.texts)
    for legend in figure.legends:
        inv.legend_labels.extend(text.get_text() for text in legend.get_texts())
    for axes in figure.axes:
        inv.axes.append((tuple(axes.get_position().bounds), axes.axison))
        inv.texts.extend(text.get_text() for text in axes.texts)
        for line in axes.lines:
            inv.lines.append(([float(x) for x in line.get_xdata(orig=False)],
                              [float(y) for y in line.get_ydata(orig=False)]))
        for collection in axes.collections:
            if isinstance(collection, LineCollection):
                inv.segments.extend([tuple(p) for p in seg] for seg in collection.get_segments())
            elif isinstance(collection, PolyCollection):
                inv.polygons.extend([tuple(p) for p in path.vertices] for path in collection.get_paths())
        for patch in axes.patches:
            if isinstance(patch, Polygon):
                inv.polygons.append([tuple(p) for p in patch.get_xy()])
        if axes.get_ylabel():
            inv.texts.append(axes.get_ylabel())
    return inv


def render_bare(inv: Inventory, families: list[str] | None = None) -> bytes:
    """The same elements with matplotlib's defaults (plus `families` only so CJK glyphs exist)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    figure = Figure(figsize=inv.size_in, dpi=inv.dpi)
    FigureCanvasAgg(figure)
    font = {"fontfamily": families} if families else {}
    first = None
    for box, axis_on in inv.axes or [((0.1, 0.1, 0.8, 0.8), True)]:
        axes = figure.add_axes(box)
        if not axis_on:
            axes.set_axis_off()
        first = first or axes
    assert first is not None
    for x, y in inv.lines:
        first.plot(x, y)
    if inv.polygons:
        first.add_collection(PolyCollection(inv.polygons))
    if inv.segments:
        first.add_collection(LineCollection(inv.segments))
    first.autoscale_view()
    for index, text in enumerate(inv.texts):
        first.text((index % 7) / 7, (index // 7 % 12) / 12, text, transform=first.transAxes, **font)
    if inv.legend_labels:
        figure.legend(handles=[Patch() for _ in inv.legend_labels], labels=inv.legend_labels,
                      prop={"family": families} if families else None)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=inv.dpi)
    return buffer.getvalue()


def chart_data(lang: str) -> dict[str, Any]:
    """One digest's worth of inputs: a role of 10 hosts × 4 KPIs, a month's GMV pace, a 6-stage funnel,
    3 members on a 6-axis radar."""
    from jobs.charts import AttainmentChartData, FunnelChartData, PaceChartData, RadarChartData

    zh = lang == "zh"
    kpis = ["GMV", "场均观看", "平均停留", "成交转化率"] if zh else ["GMV", "Viewers/session", "Avg watch time",
                                                                  "Live CVR"]
    members = [f"{'主播' if zh else 'Host'} {i:02d}" for i in range(1, 11)]
    cycle = ("on_track", "at_risk", "off_track", "on_track", None)
    attainment = AttainmentChartData(
        title="主播达成率 · 2026-W47" if zh else "Host attainment · 2026-W47",
        kpi_labels=kpis, member_labels=members,
        attainment=[[0.55 + 0.07 * ((m * 3 + k) % 11) for k in range(4)] for m in range(10)],
        statuses=[[cycle[(m + k) % 5] for k in range(4)] for m in range(10)], lang=lang,
    )
    start = date(2026, 11, 1)
    days = [start + timedelta(days=i) for i in range(30)]
    running, cumulative = 0.0, []
    for i in range(30):
        running += 520_000 + 40_000 * (i % 7)
        cumulative.append(running if i < 19 else None)
    pace = PaceChartData(
        title="GMV 进度 · 2026-11" if zh else "GMV pacing · 2026-11", days=days, cumulative_actual=cumulative,
        target=16_000_000.0, projection=running / 19 * 30 * 19 / 30, period_start=start,
        period_end=date(2026, 11, 30), value_label="GMV (USD)", lang=lang,
    )
    stages = ["曝光量", "点击量", "加购数", "订单数", "支付订单数", "退货数"] if zh else [
        "Impressions", "Clicks", "Add to cart", "Orders", "Paid orders", "Returns"]
    funnel = FunnelChartData(
        title="转化漏斗 · 2026-W47" if zh else "Funnel · 2026-W47", stage_labels=stages,
        values=[2_400_000, 36_000, 11_000, 3_100, 3_000, 160],
        stage_rates=[None, 0.015, 0.305, 0.282, 0.968, 0.053],
        thresholds=[None, 0.012, 0.3, 0.3, 0.95, None], lang=lang,
    )
    radar = RadarChartData(
        title="综合得分 · 2026-W47" if zh else "Composite score · 2026-W47",
        axis_labels=kpis + (["投产比", "点击率"] if zh else ["ROAS", "CTR"]),
        series=[(members[i], [0.6 + 0.11 * ((i + a) % 7) for a in range(6)]) for i in range(3)], lang=lang,
    )
    return {"attainment": attainment, "pace": pace, "funnel": funnel, "radar": radar}


def renderers() -> dict[str, Callable[[Any], bytes]]:
    from jobs.charts import render_attainment, render_funnel, render_pace, render_radar

    return {"attainment": render_attainment, "pace": render_pace, "funnel": render_funnel, "radar": render_radar}


def capture_inventory(render: Callable[[Any], bytes], data: Any) -> Inventory:
    """Render once with `_to_png` wrapped to keep the figure, and list its elements (untimed)."""
    from jobs.charts import render as render_module

    original = render_module._to_png
    captured: list[Any] = []

    def keep(figure: Any) -> bytes:
        captured.append(figure)
        return original(figure)

    render_module._to_png = keep
    try:
        render(data)
    finally:
        render_module._to_png = original
    return inventory_of(captured[-1])


def run(options: Any) -> list[Result]:
    try:
        from jobs.charts import font_families
    except ImportError:
        raise NotAvailable("jobs.charts has not landed") from None
    families = font_families()  # registration once, as the server does at start
    reps = 5 if options.quick else 15
    details: dict[str, Any] = {}
    ours_total = bare_total = 0.0
    for lang in ("en", "zh"):
        data = chart_data(lang)
        cases: dict[str, Callable[[], Any]] = {}
        counts: dict[str, int] = {}
        for chart, render in renderers().items():
            inv = capture_inventory(render, data[chart])
            counts[chart] = inv.count
            cases[f"ours:{chart}"] = lambda render=render, item=data[chart]: render(item)
            bare_families = families if lang == "zh" else None
            cases[f"bare:{chart}"] = lambda inv=inv, fam=bare_families: render_bare(inv, fam)
        times = interleaved(cases, reps=reps, warmup=1)
        for chart in CHARTS:
            ours, bare = median(times[f"ours:{chart}"]) * 1000, median(times[f"bare:{chart}"]) * 1000
            details[f"{chart}_{lang}_ms"] = {"ours": round(ours, 1), "bare": round(bare, 1),
                                             "ratio": round(ours / bare, 2), "elements": counts[chart],
                                             "ours_range_ms": spread([t * 1000 for t in times[f"ours:{chart}"]])}
            if lang == "en":
                ours_total += ours
                bare_total += bare
    return [Result(
        name="chart_render", value=round(ours_total, 1), unit="ms", baseline_name="bare_matplotlib",
        baseline_value=round(bare_total, 1), ratio=round(ours_total / bare_total, 2),
        params={"value_is": "sum of the 4 English charts' medians", "size_px": "1200x675", "dpi": 150,
                "reps": reps, **details},
        peak_rss_mb=peak_rss_mb(),
    )]
