"""Chart rendering for digests and chat replies: neutral dataclasses in, PNG bytes out.

Thread-safe (no pyplot, no global rcParams changes) and fixed-size: every PNG is
CHART_WIDTH_PX × CHART_HEIGHT_PX (1200 × 675) at CHART_DPI (150).
"""

from jobs.charts.fonts import chart_font, cjk_family, drop_unrenderable, font_families, font_rc
from jobs.charts.models import (
    AttainmentChartData,
    ChartWords,
    FunnelChartData,
    PaceChartData,
    RadarChartData,
)
from jobs.charts.render import (
    CHART_DPI,
    CHART_HEIGHT_PX,
    CHART_WIDTH_PX,
    render_attainment,
    render_funnel,
    render_pace,
    render_radar,
)

__all__ = [
    "CHART_DPI",
    "CHART_HEIGHT_PX",
    "CHART_WIDTH_PX",
    "AttainmentChartData",
    "ChartWords",
    "FunnelChartData",
    "PaceChartData",
    "RadarChartData",
    "chart_font",
    "cjk_family",
    "drop_unrenderable",
    "font_families",
    "font_rc",
    "render_attainment",
    "render_funnel",
    "render_pace",
    "render_radar",
]
