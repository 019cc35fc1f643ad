"""A digest's charts as PNG: attainment per role, the pace KPI to date against target, the funnel."""

from __future__ import annotations

from datetime import timedelta

from jobs.charts import (
    AttainmentChartData,
    PaceChartData,
    render_attainment,
    render_pace,
)
from jobs.digest.data import DigestData
from jobs.digest.messages import T
from jobs.digest.movers import RoleReview
from jobs.digest.render import short_period_label
from jobs.digest.review import why_section_chart
from jobs.meetings.funnel_reply import funnel_chart
from jobs.present.formatting import period_label
from jobs.present.reply import Chart
from storage.kpi.attainment import Status
from storage.kpi.registry import Registry

CHART_STATUSES = (Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK)
# A host's own funnel is orders → paid orders only (impressions and clicks are the shop's): two bars are a
# ratio the table already gives, not a funnel worth a picture.
MIN_FUNNEL_STAGES = 3


def digest_charts(data: DigestData, registry: Registry, *, lang: str, currency: str) -> list[Chart]:
    review_label = short_period_label(data.review, lang)
    # A role whose members have no targets has no attainment to draw: its table says enough.
    charts = [_attainment_chart(role, lang, review_label) for role in data.roles
              if any(st.attainment is not None for score in role.review for st in score.statuses)]
    if (pace := _pace_chart(data, lang, currency)) is not None:
        charts.append(pace)
    if sum(stage.value is not None for stage in data.funnel) >= MIN_FUNNEL_STAGES:
        charts.append(_funnel_chart(data, registry, lang, review_label))
    if (why := why_section_chart(data.review_sections, lang=lang, currency=currency)) is not None:
        charts.append(why)
    return charts


def _attainment_chart(role: RoleReview, lang: str, review_label: str) -> Chart:
    """Members × the role's KPIs that have a target for someone (an all-empty panel says nothing)."""
    columns = [k for k in range(len(role.kpis)) if any(s.statuses[k].attainment is not None for s in role.review)]
    title = T("chart_attainment", lang, role=role.role.label(lang), period=review_label)
    png = render_attainment(AttainmentChartData(
        title=title,
        kpi_labels=[role.kpis[k].label(lang) for k in columns],
        member_labels=[score.display_name for score in role.review],
        attainment=[[score.statuses[k].attainment for k in columns] for score in role.review],
        statuses=[[_chart_status(score.statuses[k].status) for k in columns] for score in role.review],
        lang=lang,
    ))
    return Chart(name=f"attainment-{role.role.id}.png", png=png, title=title)


def _chart_status(status: Status) -> str | None:
    return status.value if status in CHART_STATUSES else None


def _pace_chart(data: DigestData, lang: str, currency: str) -> Chart | None:
    st = data.pace_status()
    if st is None or data.pace_kpi is None:
        return None
    period = data.pacing
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    through = st.data_through
    cumulative: list[float | None] = []
    running = 0.0
    for day in days:
        running += data.pace_daily.get(day, 0.0)
        cumulative.append(running if through is not None and day <= through else None)
    label = st.kpi.label(lang)
    title = T("chart_pace", lang, kpi=label, period=period_label(period, lang))
    unit = f" ({currency})" if st.kpi.unit == "currency" else ""
    png = render_pace(PaceChartData(
        title=title, days=days, cumulative_actual=cumulative, target=st.target.value if st.target else None,
        projection=st.projection, period_start=period.start, period_end=period.end,
        value_label=_whose(data, f"{label}{unit}"), lang=lang,  # whose: on the axis, the title has the legend beside it
        notes=[(note.start_date, f"#{note.id}") for note in data.review_sections.notes],
    ))
    return Chart(name=f"{st.kpi.id}-pace.png", png=png, title=title)


def _funnel_chart(data: DigestData, registry: Registry, lang: str, review_label: str) -> Chart:
    return funnel_chart(data.funnel_review, registry, lang, _whose(data, T("chart_funnel", lang, period=review_label)))


def _whose(data: DigestData, title: str) -> str:
    """A role's, shop's or member's chart names them first (`Alice · GMV pace · November 2026`)."""
    return f"{data.label} · {title}" if data.label else title
