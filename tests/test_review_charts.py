"""The waterfall chart: a fixed-size PNG in both languages and for odd input (no start value, no steps, NaN)."""

from __future__ import annotations

import io

import pytest
from matplotlib.image import imread

from jobs.charts import CHART_HEIGHT_PX, CHART_WIDTH_PX
from jobs.charts.waterfall import WaterfallChartData, render_waterfall

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def size_of(png: bytes) -> tuple[int, int]:
    pixels = imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


def test_waterfall_in_both_languages_and_on_odd_input() -> None:
    steps = [("Live viewers", -4373.0), ("Live conversion rate", 3573.0), ("Live order value", 0.0)]
    for lang, note in (("en", "Notes: #1 11-24 new price"), ("zh", "这几天的记录：#1 11-24 调价")):
        png = render_waterfall(WaterfallChartData("GMV", "W47", 20_000, steps, "W48", 19_200, lang, "GMV (USD)", note))
        assert png.startswith(b"\x89PNG") and size_of(png) == (CHART_WIDTH_PX, CHART_HEIGHT_PX)
    for start, odd_steps in ((None, steps), (20_000.0, []), (20_000.0, [("x", float("nan")), ("y", None)])):
        png = render_waterfall(WaterfallChartData("GMV", "a", start, odd_steps, "b", 19_200, "en"))
        assert size_of(png) == (CHART_WIDTH_PX, CHART_HEIGHT_PX)


def test_waterfall_labels_use_the_kpis_unit() -> None:
    from jobs.charts.waterfall import waterfall_labels

    # a conversion rate 5 % → 6 %: +1 point, written as the reply writes a percent KPI (one decimal)
    rate = WaterfallChartData("CVR", "W47", 0.05, [("Viewers", 0.0), ("Orders", 0.01)], "W48", 0.06, "en",
                              unit="percent")
    assert waterfall_labels(rate) == ["5.0%", "0.0%", "+1.0%", "6.0%"]
    # money: below 10,000 with cents, from 10,000 compact; a NaN step is left out, as on the chart
    money = WaterfallChartData("GMV", "W47", 183_900, [("a", 9_704.44), ("b", float("nan")), ("c", 11_200)],
                               "W48", 201_200, "zh", unit="currency", currency="CNY")
    assert waterfall_labels(money) == ["¥18.39万", "+¥9,704.44", "+¥1.12万", "¥20.12万"]


def test_funnel_shares_keep_two_significant_digits() -> None:
    from jobs.charts.render import funnel_share

    # 4,936 / 4,792,800 = 0.103 % and 4,565 / 4,792,800 = 0.0952 %: two stages that must not both read 0.1 %
    assert funnel_share(4_936 / 4_792_800) == "0.10%" and funnel_share(4_565 / 4_792_800) == "0.095%"
    assert [funnel_share(s) for s in (0.017, 0.0027, 0.5, 0.0)] == ["1.7%", "0.27%", "50%", "0%"]


def test_pace_chart_marks_notes_inside_the_period_only() -> None:
    from datetime import date

    from jobs.charts import PaceChartData, render_pace

    days = [date(2026, 11, d) for d in range(1, 31)]
    cumulative = [1000.0 * d for d in range(1, 20)] + [None] * 11
    base = PaceChartData("GMV", days, cumulative, 30_000, 29_000, days[0], days[-1], "GMV", "en")
    plain = render_pace(base)
    marked = render_pace(PaceChartData(**{**base.__dict__, "notes": [(date(2026, 11, 10), "#1")]}))
    outside = render_pace(PaceChartData(**{**base.__dict__, "notes": [(date(2026, 10, 10), "#2")]}))
    assert marked != plain and outside == plain
