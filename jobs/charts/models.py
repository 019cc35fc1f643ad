"""Neutral chart inputs: plain dataclasses, no database or platform types.

Every string is shown as given: the caller passes labels already translated into `lang`.
The renderer only adds numbers. The few words a chart needs that are not data (legend
entries such as "target pace") come from `ChartWords`; pass your own from the message
catalogue, or leave `words=None` to use the built-in Chinese/English defaults for `lang`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jobs.present.i18n import lang_code


@dataclass(frozen=True)
class ChartWords:
    """Legend and empty-state words, in one language."""

    actual: str
    target_pace: str
    projection: str
    target: str
    on_track: str
    at_risk: str
    off_track: str
    no_target: str
    no_data: str

    @classmethod
    def for_lang(cls, lang: str) -> ChartWords:
        """Built-in defaults: Chinese for any `zh*` code, English otherwise."""
        return _ZH_WORDS if lang_code(lang) == "zh" else _EN_WORDS


_EN_WORDS = ChartWords(
    actual="Actual (cumulative)",
    target_pace="Target pace",
    projection="Projection",
    target="Target",
    on_track="On track",
    at_risk="At risk",
    off_track="Off track",
    no_target="No target",
    no_data="No data",
)
_ZH_WORDS = ChartWords(
    actual="实际累计",
    target_pace="目标进度",
    projection="预测",
    target="目标",
    on_track="正常",
    at_risk="有风险",
    off_track="落后",
    no_target="无目标",
    no_data="暂无数据",
)



@dataclass
class AttainmentChartData:
    """Members × KPIs attainment; 1.0 means 100 % of target."""

    title: str
    kpi_labels: list[str]
    member_labels: list[str]
    attainment: list[list[float | None]]  # [member][kpi]
    # [member][kpi]: "on_track" / "at_risk" / "off_track" / None (a `Mark` works too; "no_target" is
    # drawn light grey, anything else as no data)
    statuses: list[list[str | None]]
    lang: str
    words: ChartWords | None = None


@dataclass
class PaceChartData:
    """Period-to-date cumulative actual against a straight target pace, plus the projection."""

    title: str
    days: list[date]
    cumulative_actual: list[float | None]  # one per day; None after the data-through date
    target: float | None
    projection: float | None  # expected value at period_end
    period_start: date
    period_end: date
    value_label: str  # y-axis label, e.g. "GMV (USD)"
    lang: str
    words: ChartWords | None = None
    notes: list[tuple[date, str]] = field(default_factory=list)  # (day, short label such as "#3") marked


@dataclass
class FunnelChartData:
    """Conversion funnel, widest stage first."""

    title: str
    stage_labels: list[str]
    values: list[float]
    stage_rates: list[float | None]  # conversion from the previous stage; the first is usually None
    thresholds: list[float | None]  # a rate below its threshold is shown in red
    lang: str
    words: ChartWords | None = None
    # Said in the chart when bar widths are compressed (default: built-in English/Chinese sentence).
    compressed_note: str | None = None


@dataclass
class RadarChartData:
    """Composite score per KPI axis per member; 1.0 is on target, values are shown up to 1.5."""

    title: str
    axis_labels: list[str]
    series: list[tuple[str, list[float | None]]]  # (member label, one score per axis; None = no score)
    lang: str
    words: ChartWords | None = None
    # Values are scores ÷ 100 (funnel stage scores), not attainments: labelled as plain scores (120, ring 100)
    # as the table prints them, since a score is not a percentage of anything.
    plain_scores: bool = False
