"""The strings the chart renderers draw: number ticks in one unit per axis (through the one formatter), funnel
stage scores printed as the table prints them (not as %), whole KPI names over attainment panels."""

from __future__ import annotations

from datetime import date

from jobs.charts.models import PaceChartData
from jobs.charts.render import (
    _format_pace_axes,
    _new_figure,
    _style_axes,
    attainment_panel_title,
    axis_number_formatter,
    radar_value_label,
)
from jobs.present.formatting import axis_numbers


def test_axis_ticks_share_the_unit_of_the_largest() -> None:
    # 5,000 next to 10K was the fault: the largest tick (15,000 ≥ 10,000) sets K / 万 for every tick
    assert axis_numbers([0, 5000, 10000, 15000], "en") == ["0", "5K", "10K", "15K"]
    assert axis_numbers([0, 5000, 10000, 15000], "zh") == ["0", "0.5万", "1万", "1.5万"]
    # an axis below 10,000 stays in plain numbers, as `number` writes them
    assert axis_numbers([0, 2500, 5000, 7500], "en") == ["0", "2,500", "5,000", "7,500"]
    assert axis_numbers([0, 500_000, 1_000_000], "en") == ["0", "0.5M", "1M"]


def test_pace_chart_y_ticks_use_one_unit() -> None:
    data = PaceChartData(title="GMV pace", days=[date(2026, 11, 1)], cumulative_actual=[33_100.0], target=36_000.0,
                         projection=35_500.0, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                         value_label="GMV (USD)", lang="zh")
    figure = _new_figure()
    axes = figure.add_subplot()
    _style_axes(axes)  # the chart's fonts, as render_pace
    _format_pace_axes(axes, data.period_start, data.period_end, [33_100.0, 36_000.0, 35_500.0], data)
    figure.canvas.draw()
    labels = [t.get_text() for t in axes.get_yticklabels() if t.get_text()]
    # y from 0 to 36,000 × 1.12 = 40,320: ticks every 5,000 — 0, 0.5万 … 4万, never "5,000"
    assert labels[:3] == ["0", "0.5万", "1万"] and all(label == "0" or label.endswith("万") for label in labels)
    assert axis_number_formatter("en").format_ticks([0, 5000, 10000]) == ["0", "5K", "10K"]


def test_funnel_radar_prints_scores_like_the_table_and_composite_keeps_percent() -> None:
    # a stage score 102.8 is passed ÷ 100 = 1.028; the table prints f"{102.8:.0f}" = "103"
    assert radar_value_label(1.028, plain_scores=True) == "103"
    assert radar_value_label(1.2, plain_scores=True) == "120"  # the cap, not "120.0%"
    assert radar_value_label(None, plain_scores=True) == "—"
    assert radar_value_label(0.509, plain_scores=False) == "50.9%"  # an attainment IS a percentage


def test_attainment_panel_titles_wrap_instead_of_cutting() -> None:
    # the demo's 4 panels are ~220 px wide: "Viewers per live s…" before
    assert attainment_panel_title("Viewers per live session", 220) == "Viewers per live\nsession"
    assert attainment_panel_title("GMV", 220) == "GMV"
    wrapped = attainment_panel_title("直播间平均在线观看人数与互动率", 220)  # 30 units, ~25 a line
    assert "\n" in wrapped and wrapped.replace("\n", "") == "直播间平均在线观看人数与互动率"
