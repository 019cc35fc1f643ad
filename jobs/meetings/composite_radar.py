"""The composite-score radar: each KPI's pace attainment (capped like the composite, at 150 %) on its own
axis, one polygon per person or role — how the composite score is made up."""

from __future__ import annotations

from jobs.charts import RadarChartData, render_radar
from jobs.present.reply import Chart
from storage.kpi.attainment import KpiStatus
from storage.kpi.engine import MemberScore

COMPOSITE_CAP = 1.5  # as storage.kpi.attainment.composite_score
MIN_AXES = 3
MAX_POLYGONS = 6  # more people than this on one radar is a tangle: the best composite scores are drawn


def composite_radar(series: list[tuple[str, list[KpiStatus]]], lang: str, title: str,
                    name: str = "composite-radar.png") -> Chart | None:
    """None with fewer than three KPIs that have a pace attainment: a radar then shows no shape."""
    axes, data = radar_values(series, lang)
    if len(axes) < MIN_AXES:
        return None
    png = render_radar(RadarChartData(title=title, axis_labels=axes, series=data, lang=lang))
    return Chart(name=name, png=png, title=title)


def radar_values(
    series: list[tuple[str, list[KpiStatus]]], lang: str,
) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """(axis labels, series): only KPIs with a pace attainment (the ones the composite counts), capped."""
    if not series:
        return [], []
    kept = [i for i in range(len(series[0][1])) if any(st[i].pace_attainment is not None for _, st in series)]
    axes = [series[0][1][i].kpi.label(lang) for i in kept]
    return axes, [(label, [_capped(statuses[i]) for i in kept]) for label, statuses in series]


def _capped(status: KpiStatus) -> float | None:
    return min(status.pace_attainment, COMPOSITE_CAP) if status.pace_attainment is not None else None


def role_series(scores: list[MemberScore], limit: int = MAX_POLYGONS) -> list[tuple[str, list[KpiStatus]]]:
    """A role's members as radar series: those with any pace attainment, highest composite score first."""
    drawn = [s for s in scores if any(st.pace_attainment is not None for st in s.statuses)]
    drawn.sort(key=lambda s: (-(s.composite if s.composite is not None else -1.0), s.display_name))
    return [(s.display_name, s.statuses) for s in drawn[:limit]]
