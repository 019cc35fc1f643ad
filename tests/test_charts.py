"""Chart renderer: valid PNGs of the documented size, Chinese without missing glyphs, no raising."""

from __future__ import annotations

import logging
import struct
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from jobs.charts import (
    CHART_HEIGHT_PX,
    CHART_WIDTH_PX,
    AttainmentChartData,
    FunnelChartData,
    PaceChartData,
    RadarChartData,
    cjk_family,
    font_families,
    render_attainment,
    render_funnel,
    render_pace,
    render_radar,
)
from jobs.charts.fonts import drop_unrenderable
from jobs.charts.render import format_number, format_percent, funnel_bar_widths, truncate
from jobs.present.formatting import kpi_value

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GLYPH_PROBLEM_MARKERS = ("missing from", "Glyph", "findfont")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    assert png[:8] == PNG_SIGNATURE
    _length, chunk_type, width, height = struct.unpack(">I4sII", png[8:24])
    assert chunk_type == b"IHDR"
    return width, height


def assert_chart_png(png: bytes) -> None:
    assert png_size(png) == (CHART_WIDTH_PX, CHART_HEIGHT_PX)


# ---------------------------------------------------------------- Chinese sample data


def attainment_zh() -> AttainmentChartData:
    return AttainmentChartData(
        title="本周KPI达成率 · 直播一组",
        kpi_labels=["GMV", "订单数", "直播时长"],
        member_labels=["主播 小雨", "主播 阿杰", "投手 王磊"],
        attainment=[[1.12, 0.75, 0.98], [0.62, None, 1.40], [0.0, 0.91, 2.6]],
        statuses=[["on_track", "off_track", "on_track"], ["off_track", None, "on_track"],
                  ["off_track", "at_risk", "on_track"]],
        lang="zh",
    )


def pace_zh() -> PaceChartData:
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    days = [start + timedelta(days=offset) for offset in range(31)]
    cumulative = [40_000.0 * (offset + 1) if offset < 17 else None for offset in range(31)]
    return PaceChartData(
        title="本月GMV累计 vs 目标", days=days, cumulative_actual=cumulative, target=1_500_000.0,
        projection=1_240_000.0, period_start=start, period_end=end, value_label="GMV（美元）", lang="zh",
    )


def funnel_zh() -> FunnelChartData:
    return FunnelChartData(
        title="转化漏斗 · 本周", stage_labels=["曝光", "点击", "加购", "下单", "支付"],
        values=[1_250_000, 48_300, 6_120, 2_310, 2_050],
        stage_rates=[None, 0.0386, 0.127, 0.377, 0.887], thresholds=[None, 0.03, 0.15, 0.40, 0.85], lang="zh",
    )


def radar_zh() -> RadarChartData:
    return RadarChartData(
        title="综合评分 · 本月", axis_labels=["GMV", "达成率", "直播时长", "ROI", "退款率"],
        series=[("主播 小雨", [1.1, 0.8, 1.3, 0.6, 1.0]), ("投手 王磊", [0.7, 1.2, 0.9, 1.5, 0.4])], lang="zh",
    )


CHINESE_CHARTS: dict[str, Callable[[], bytes]] = {
    "attainment": lambda: render_attainment(attainment_zh()),
    "pace": lambda: render_pace(pace_zh()),
    "funnel": lambda: render_funnel(funnel_zh()),
    "radar": lambda: render_radar(radar_zh()),
}


# ---------------------------------------------------------------- glyph-problem detection


@contextmanager
def glyph_problems() -> Iterator[list[str]]:
    """Collect missing-glyph and font-fallback complaints raised while the block runs.

    matplotlib 3.11 reports a missing glyph as a UserWarning ("Glyph 20027 (…) missing from
    font(s) DejaVu Sans."); font lookup failures ("findfont: …") go to the
    `matplotlib.font_manager` logger. Both are captured.
    """
    problems: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problems.append(record.getMessage())

    handler = Collect(level=logging.DEBUG)
    matplotlib_logger = logging.getLogger("matplotlib")
    old_level = matplotlib_logger.level
    matplotlib_logger.addHandler(handler)
    matplotlib_logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield problems
            problems.extend(str(warning.message) for warning in caught)
    finally:
        matplotlib_logger.removeHandler(handler)
        matplotlib_logger.setLevel(old_level)
    problems[:] = [p for p in problems if any(marker in p for marker in GLYPH_PROBLEM_MARKERS)]


def test_cjk_font_is_the_shipped_simplified_chinese_face() -> None:
    assert cjk_family() == "Noto Sans CJK SC"
    assert font_families() == ["DejaVu Sans", "Noto Sans CJK SC"]


def test_glyph_problem_detector_catches_a_missing_glyph() -> None:
    """Canary: if matplotlib changes how it reports missing glyphs, the real test would go blind."""
    figure = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.5, "主播", family=["DejaVu Sans"])
    with glyph_problems() as problems:
        figure.canvas.draw()
    assert any("missing from" in problem for problem in problems)


@pytest.mark.parametrize("chart", CHINESE_CHARTS)
def test_chinese_chart_renders_without_missing_glyphs(chart: str) -> None:
    with glyph_problems() as problems:
        png = CHINESE_CHARTS[chart]()
    assert problems == []
    assert_chart_png(png)


@pytest.mark.parametrize("chart", CHINESE_CHARTS)
def test_chart_is_a_png_of_the_documented_size(chart: str) -> None:
    png = CHINESE_CHARTS[chart]()
    assert png_size(png) == (1200, 675)


def test_renders_are_thread_safe_and_deterministic() -> None:
    expected = {name: render() for name, render in CHINESE_CHARTS.items()}
    jobs = list(CHINESE_CHARTS.items()) * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: (job[0], job[1]()), jobs))
    for name, png in results:
        assert png == expected[name], name


# ---------------------------------------------------------------- edge cases


EDGE_CASES: dict[str, Callable[[], bytes]] = {
    "attainment empty": lambda: render_attainment(AttainmentChartData("达成率", [], [], [], [], "zh")),
    "attainment no members": lambda: render_attainment(AttainmentChartData("达成率", ["GMV"], [], [], [], "zh")),
    "attainment all None": lambda: render_attainment(
        AttainmentChartData(
            "达成率", ["GMV", "订单数"], ["主播 A", "主播 B"], [[None, None]] * 2, [[None] * 2] * 2, "zh",
        )
    ),
    "attainment ragged and short": lambda: render_attainment(
        AttainmentChartData("达成率", ["GMV", "订单数", "ROI"], ["A", "B", "C"], [[1.0], []], [["on_track"]], "en")
    ),
    "attainment one member zero": lambda: render_attainment(
        AttainmentChartData("达成率", ["GMV"], ["主播 小雨"], [[0.0]], [["off_track"]], "zh")
    ),
    "attainment negative nan inf": lambda: render_attainment(
        AttainmentChartData(
            "达成率", ["GMV"], ["A", "B", "C"], [[-0.4], [float("nan")], [float("inf")]],
            [["off_track"], ["weird"], ["on_track"]], "zh",
        )
    ),
    "attainment 35 members 9 KPIs long labels": lambda: render_attainment(
        AttainmentChartData(
            "达成率" * 40, [f"非常非常长的指标名称 {k}" for k in range(9)],
            [f"主播 一个名字特别特别长的达人账号 {m}" for m in range(35)],
            [[(m * 7 + k) % 17 / 10 for k in range(9)] for m in range(35)],
            [[["on_track", "at_risk", "off_track"][(m + k) % 3] for k in range(9)] for m in range(35)], "zh",
        )
    ),
    "attainment no_target and no_data statuses": lambda: render_attainment(
        AttainmentChartData(
            "达成率", ["GMV", "ROI"], ["主播 A", "主播 B"], [[1.3, 0.9], [None, 1.0]],
            [["no_target", "at_risk"], ["no_data", "on_track"]], "zh",
        )
    ),
    "attainment dollar signs": lambda: render_attainment(
        AttainmentChartData("GMV $ and $ more", ["$GMV$"], ["a$b$c"], [[0.5]], [["at_risk"]], "en")
    ),
    "pace empty": lambda: render_pace(
        PaceChartData("进度", [], [], None, None, date(2026, 10, 1), date(2026, 10, 31), "GMV", "zh")
    ),
    "pace all None with target": lambda: render_pace(
        PaceChartData("进度", [date(2026, 10, 1)], [None], 1000.0, 900.0, date(2026, 10, 1), date(2026, 10, 31),
                      "GMV", "zh")
    ),
    "pace one day no target": lambda: render_pace(
        PaceChartData("进度", [date(2026, 10, 1)], [500.0], None, 15000.0, date(2026, 10, 1), date(2026, 10, 31),
                      "GMV", "en")
    ),
    "pace zeros and inverted period": lambda: render_pace(
        PaceChartData("进度", [date(2026, 10, 1), date(2026, 10, 2)], [0.0, 0.0], 0.0, 0.0,
                      date(2026, 10, 5), date(2026, 10, 1), "GMV", "zh")
    ),
    "pace complete period": lambda: render_pace(
        PaceChartData("进度", [date(2026, 10, d) for d in range(1, 8)], [float(d) for d in range(1, 8)], 10.0, 7.0,
                      date(2026, 10, 1), date(2026, 10, 7), "订单", "zh")
    ),
    "funnel empty": lambda: render_funnel(FunnelChartData("漏斗", [], [], [], [], "zh")),
    "funnel zeros": lambda: render_funnel(FunnelChartData("漏斗", ["曝光", "点击"], [0, 0], [None, None], [], "zh")),
    "funnel short lists": lambda: render_funnel(FunnelChartData("漏斗", ["曝光", "点击", "下单"], [100], [], [], "en")),
    "funnel 20 stages": lambda: render_funnel(
        FunnelChartData("漏斗", [f"阶段 {i}" for i in range(20)], [1000 - i * 40 for i in range(20)],
                        [None] + [0.9] * 19, [None] + [0.95] * 19, "zh")
    ),
    "radar empty": lambda: render_radar(RadarChartData("雷达", [], [], "zh")),
    "radar no series": lambda: render_radar(RadarChartData("雷达", ["GMV", "ROI", "订单"], [], "zh")),
    "radar one axis": lambda: render_radar(RadarChartData("雷达", ["GMV"], [("主播", [1.0])], "zh")),
    "radar two axes": lambda: render_radar(RadarChartData("雷达", ["GMV", "ROI"], [("主播", [0.5, 3.0])], "zh")),
    "radar short and bad values": lambda: render_radar(
        RadarChartData("雷达", ["GMV", "ROI", "订单", "退款"], [("A", [float("nan")]), ("B", [])], "zh")
    ),
    "radar 12 series": lambda: render_radar(
        RadarChartData("雷达", ["GMV", "ROI", "订单"], [(f"主播 {i}", [0.1 * i, 1.0, 1.4]) for i in range(12)], "zh")
    ),
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_edge_case_returns_png_without_raising(case: str) -> None:
    with glyph_problems() as problems:
        png = EDGE_CASES[case]()
    assert_chart_png(png)
    assert problems == []


label_text = st.text(alphabet="abcXYZ 0123$…主播投手达成率本周🌟\u200b", max_size=30)
maybe_number = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=0, max_value=3),
)


@settings(max_examples=8, deadline=None)
@given(
    kpis=st.lists(label_text, max_size=7),
    members=st.lists(label_text, max_size=23),
    attainment=st.lists(st.lists(maybe_number, max_size=8), max_size=25),
    statuses=st.lists(st.lists(st.sampled_from(["on_track", "at_risk", "off_track", "x", None])), max_size=25),
)
def test_attainment_never_raises(
    kpis: list[str], members: list[str], attainment: list[list[float | None]], statuses: list[list[str | None]],
) -> None:
    with glyph_problems() as problems:
        png = render_attainment(AttainmentChartData("达成率", kpis, members, attainment, statuses, "zh"))
    assert_chart_png(png)
    assert problems == []


@settings(max_examples=8, deadline=None)
@given(
    stages=st.lists(label_text, max_size=14),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=14),
    rates=st.lists(maybe_number, max_size=14),
    thresholds=st.lists(maybe_number, max_size=14),
)
def test_funnel_never_raises(
    stages: list[str], values: list[float], rates: list[float | None], thresholds: list[float | None],
) -> None:
    with glyph_problems() as problems:
        png = render_funnel(FunnelChartData("漏斗", stages, values, rates, thresholds, "en"))
    assert_chart_png(png)
    assert problems == []


# ---------------------------------------------------------------- helpers


def test_format_percent_has_one_decimal() -> None:
    assert format_percent(0.75) == "75.0%"
    assert format_percent(1.0) == "100.0%"
    assert format_percent(None) == "—"
    assert format_percent(float("nan")) == "—"


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (2050, "zh", "2,050"),
        (12_345.6, "zh", "1.23万"),
        (1_248_000, "zh", "124.8万"),
        (150_000_000, "zh", "1.5亿"),  # the same figure as chat text (was 1.50亿 on charts only)
        (12_345.6, "en", "12.3K"),
        (1_500_000, "en", "1.5M"),  # as chat text (was 1.50M on charts only)
        (0.5, "en", "0.5"),
    ],
)
def test_format_number_is_compact_per_language(value: float, lang: str, expected: str) -> None:
    assert format_number(value, lang) == expected
    # chat text and cards print the same figure: one formatter (jobs.present.formatting.number)
    assert kpi_value(value, "count", "USD", lang) == expected
    assert kpi_value(value, "currency", "USD", lang) == f"${expected}"


def test_emoji_in_names_are_dropped_instead_of_drawn_as_boxes() -> None:
    data = AttainmentChartData(
        "达成率 🚀", ["GMV 💰"], ["Lily 🌟", "🌸🌸", "👩‍💻 王磊", "❤️ Zoë"], [[1.0], [0.5], [0.9], [1.2]],
        [["on_track"], [None]], "en",
    )
    with glyph_problems() as problems:
        png = render_attainment(data)
    assert_chart_png(png)
    assert problems == []
    assert drop_unrenderable("Lily 🌟") == "Lily"
    assert drop_unrenderable("主播\u3000小雨") == "主播 小雨"
    assert drop_unrenderable("🌸🌸") == "?"


def test_truncate_counts_chinese_as_double_width() -> None:
    assert truncate("主播小雨", 8) == "主播小雨"
    assert truncate("主播一个名字特别长", 8) == "主播一…"
    assert truncate("short", 10) == "short"
    assert truncate("a much longer label", 8) == "a much…"


def test_funnel_widths_are_proportional_unless_extreme() -> None:
    assert funnel_bar_widths([100, 50, 20]) == [1.0, 0.5, 0.2]
    widths = funnel_bar_widths([1_000_000, 10_000, 100, 0])
    assert widths[0] == 1.0 and widths[-1] == 0.0
    assert widths[2] == pytest.approx(0.1)
    assert widths == sorted(widths, reverse=True)
    assert funnel_bar_widths([0, 0]) == [0.0, 0.0]
    assert funnel_bar_widths([]) == []


def test_a_two_line_kpi_name_drops_what_the_fonts_cannot_draw() -> None:
    from jobs.charts.render import LABEL_SIZE, _px_per_unit, attainment_panel_title

    # 9 CJK characters (18 units) and a star no font has, in a 10-unit panel: broken between characters,
    # the star dropped on both lines (the first line used to be drawn raw, and matplotlib warned).
    ten_units = 10 * _px_per_unit(LABEL_SIZE + 0.5)
    title = attainment_panel_title("主主主主主🌟主主主主", ten_units)
    assert "🌟" not in title and title.split("\n") == ["主主主主主", "主主主主"]
    # A long word with "$" is split after 5 units and its "$" escaped on the first line too (not mathtext).
    assert attainment_panel_title("AB$CDEFGH", ten_units / 2) == "AB\\$CD\nEFGH"
