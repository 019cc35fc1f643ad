"""A funnel review as a neutral Reply table plus its one-line verdict (the biggest leak), and its charts."""

from __future__ import annotations

from jobs.charts import FunnelChartData, RadarChartData, render_funnel, render_radar
from jobs.meetings.funnel import FunnelReview
from jobs.meetings.messages import T
from jobs.present.formatting import kpi_value, percent, signed_percent
from jobs.present.reply import Chart, Mark, Table
from storage.kpi.registry import Registry


def stage_label(registry: Registry, metric: str, lang: str) -> str:
    en, zh = registry.metrics.get(metric, (metric, metric))
    return zh if lang == "zh" else en


def rate_label(registry: Registry, metric: str, lang: str) -> str:
    """What the rate into a stage is called: CTR 点击率, add-to-cart rate 加购率 …"""
    if f"rate_{metric}" in T:
        return T(f"rate_{metric}", lang)
    return T("rate_into", lang, stage=stage_label(registry, metric, lang))


def _rate(value: float | None) -> str:
    return percent(value) if value is not None else "—"


def funnel_table(review: FunnelReview, registry: Registry, lang: str, title: str | None = None) -> Table:
    columns = [T("stage", lang), T("count", lang), T("rate", lang), T("threshold", lang), T("score", lang),
               T("previous", lang), T("vs_previous", lang)]
    rows, marks = [], []
    for stage in review.stages:
        rows.append([
            stage_label(registry, stage.metric, lang),
            kpi_value(stage.value, "count", "", lang, none=T("no_rows", lang)),
            _rate(stage.rate), _rate(stage.threshold),
            f"{stage.score:.0f}" if stage.score is not None else "—",
            _rate(stage.previous_rate),
            signed_percent(stage.change) if stage.change is not None else "—",
        ])
        marks.append(None if stage.rate is None or stage.threshold is None
                     else (Mark.OFF_TRACK if stage.below_threshold else Mark.ON_TRACK))
    return Table(columns=columns, rows=rows, marks=marks, title=title)


def leak_sentence(review: FunnelReview, registry: Registry, lang: str) -> str:
    leak = review.leak
    if leak is None:
        return T("no_leak", lang)
    name = stage_label(registry, leak.metric, lang)
    if leak.below_threshold:
        return T("leak_below", lang, stage=name, rate=_rate(leak.rate), threshold=_rate(leak.threshold),
                 score=f"{leak.score:.0f}")
    return T("leak_fall", lang, stage=name, rate=_rate(leak.rate), change=signed_percent(leak.change or 0.0))


def missing_notes(review: FunnelReview, registry: Registry, lang: str) -> list[str]:
    return [T("missing_stage", lang, stage=stage_label(registry, s.metric, lang))
            for s in review.stages if s.value is None]


def funnel_chart(review: FunnelReview, registry: Registry, lang: str, title: str, name: str = "funnel.png") -> Chart:
    """Stages with rows only; a rate is drawn only between stages that follow each other in the config."""
    shown = [s for s in review.stages if s.value is not None]
    png = render_funnel(FunnelChartData(
        title=title, stage_labels=[stage_label(registry, s.metric, lang) for s in shown],
        values=[s.value or 0.0 for s in shown], stage_rates=[s.rate for s in shown],
        thresholds=[s.threshold for s in shown], lang=lang,
    ))
    return Chart(name=name, png=png, title=title)


def radar_chart(reviews: list[FunnelReview], registry: Registry, lang: str, title: str,
                name: str = "funnel-radar.png") -> Chart:
    """Stage scores (÷ 100, so the dashed ring is 100 = on threshold) for one or more funnels. A funnel
    missing a stage's rate is left out of the comparison: drawn at 0 it would look like a total leak."""
    scored = [s.metric for s in reviews[0].stages if s.threshold is not None] if reviews else []
    series: list[tuple[str, list[float | None]]] = []
    for review in reviews:
        by_metric = {s.metric: s.score for s in review.stages}
        scores = [by_metric.get(m) for m in scored]
        if len(reviews) == 1 or all(v is not None for v in scores):
            series.append((review.label, [v / 100 if v is not None else None for v in scores]))
    png = render_radar(RadarChartData(
        title=title, axis_labels=[rate_label(registry, m, lang) for m in scored], series=series, lang=lang,
        plain_scores=True,
    ))
    return Chart(name=name, png=png, title=title)
