"""KPI figures as neutral reply parts, shared by chat answers and scheduled digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from jobs.present.formatting import day_label, kpi_value, percent, period_label, signed_percent
from jobs.present.i18n import Catalog
from jobs.present.reply import Figure, Mark, Reply, Table
from storage.kpi.attainment import KpiStatus, Status
from storage.kpi.target_book import ResolvedTarget

T = Catalog({
    "actual": ("Actual", "实际"),
    "target": ("Target", "目标"),
    "attainment": ("Attainment", "达成率"),
    "pace": ("Pace attainment", "进度达成率"),
    "projection": ("Projected at period end", "期末预计"),
    "run_rate": ("Required daily run-rate", "每日所需"),
    "status": ("Status", "状态"),
    "on_track": ("on track", "正常"),
    "at_risk": ("at risk", "有风险"),
    "off_track": ("off track", "落后"),
    "no_data": ("no data", "暂无数据"),
    "no_target": ("no target", "未设目标"),
    "no_target_set": ("no target set", "未设目标"),
    "within_budget": ("within budget", "预算内"),
    "over_budget": ("over budget", "超预算"),
    "utilisation": ("Budget used", "预算使用率"),
    "pace_utilisation": ("Budget used at this pace", "按进度预算使用率"),
    "projected_spend": ("Projected spend at period end", "期末预计花费"),
    "budget_left": ("Budget left per day", "每日剩余预算"),
    "through": ("Data through {day}", "数据截至 {day}"),
    "through_lagging": ("Data through {day}: {lagging} lags; {later}", "数据截至 {day}：{lagging} 滞后；{later}"),
    "source_through": ("{source} through {day}", "{source} 截至 {day}"),
    "through_rows": ("Data through {day}; {rows}", "数据截至 {day}；{rows}"),
    "row_lagging": ("{name} through {day} ({lagging} lags)", "{name} 截至 {day}（{lagging} 滞后）"),
    "no_rows": ("No data for this period yet", "本期暂无数据"),
    "missing": ("No data: no {metrics} rows for {period}", "暂无数据：{period} 没有 {metrics} 的数据"),
    "no_comparison": ("No comparison: {period} has data from {day} only", "无法对比：{period} 仅有 {day} 起的数据"),
    "derived_month": ("Target derived from the month target ({keys}), prorated by days",
                      "目标由月目标（{keys}）按天数折算"),
    "derived_month_ratio": ("Target taken from the month target ({keys})", "目标沿用月目标（{keys}）"),
    "derived_quarter": ("Target derived from the quarter target ({keys}), prorated by days",
                        "目标由季度目标（{keys}）按天数折算"),
    "derived_quarter_ratio": ("Target taken from the quarter target ({keys})", "目标沿用季度目标（{keys}）"),
    "derived_members": ("Target is the sum of {count} member targets", "目标为 {count} 位成员目标之和"),
    "derived_shops": ("Target is the sum of {count} shop targets", "目标为 {count} 个店铺目标之和"),
    "change": ("{change} vs the same days of the previous period", "较上期同期 {change}"),
    "change_level": ("{change} vs the previous period at the same point", "较上期同一时点 {change}"),
    "stale": ("Source {sources} is stale: figures may be incomplete", "数据源 {sources} 更新滞后，数据可能不完整"),
    "member": ("Member", "成员"),
    "rank": ("#", "#"),
})

STATUS_MARKS = {
    Status.ON_TRACK: Mark.ON_TRACK, Status.AT_RISK: Mark.AT_RISK, Status.OFF_TRACK: Mark.OFF_TRACK,
    Status.NO_DATA: Mark.NO_DATA, Status.NO_TARGET: Mark.NO_TARGET,
}


def mark_of(status: Status) -> Mark:
    return STATUS_MARKS[status]


_BUDGET_WORDS = {Status.ON_TRACK: "within_budget", Status.OFF_TRACK: "over_budget"}


def status_word(status: Status | KpiStatus, lang: str) -> str:
    """The status in words; a budget KPI's reads within / over budget."""
    if isinstance(status, KpiStatus):
        word = _BUDGET_WORDS.get(status.status) if status.kpi.budget else None
        return T(word or status.status.value, lang)
    return T(status.value, lang)


def ratio(value: float | None) -> str:
    return percent(value) if value is not None else "—"


def status_figures(st: KpiStatus, lang: str, currency: str) -> list[Figure]:
    unit = st.kpi.unit
    budget = st.kpi.budget
    figures = [
        Figure(T("actual", lang), kpi_value(st.actual, unit, currency, lang, none=T("no_data", lang))),
        Figure(T("target", lang), kpi_value(st.target.value if st.target else None, unit, currency, lang,
                                            none=T("no_target_set", lang))),
        Figure(T("utilisation" if budget else "attainment", lang), ratio(st.attainment)),
        Figure(T("pace_utilisation" if budget else "pace", lang), ratio(st.pace_attainment)),
    ]
    if st.kpi.additive and st.projection is not None:
        figures.append(Figure(T("projected_spend" if budget else "projection", lang),
                              kpi_value(st.projection, unit, currency, lang)))
    if st.run_rate is not None:
        figures.append(Figure(T("budget_left" if budget else "run_rate", lang),
                              kpi_value(st.run_rate, unit, currency, lang)))
    figures.append(Figure(T("status", lang), status_word(st, lang), mark_of(st.status)))
    return figures


def target_note(target: ResolvedTarget | None, additive: bool, lang: str) -> str | None:
    if target is None or not target.derived:
        return None
    keys = ", ".join(target.sources)
    if target.derived_from in ("members", "shops"):
        return T(f"derived_{target.derived_from}", lang, count=len(target.sources))
    suffix = "" if additive else "_ratio"
    return T(f"derived_{target.derived_from}{suffix}", lang, keys=keys)


def through_note(st: KpiStatus, lang: str) -> str:
    """How far the figures go, naming the sources that hold the date back and those already further."""
    if st.missing:
        metrics = ", ".join(f"`{m}`" for m in st.missing)
        return T("missing", lang, metrics=metrics, period=period_label(st.period, lang))
    if st.data_through is None:
        return T("no_rows", lang)
    day = day_label(st.data_through)
    if not st.later_sources:
        return T("through", lang, day=day)
    lagging = ", ".join(source for source, _ in st.lagging_sources)
    later = ", ".join(T("source_through", lang, source=source, day=day_label(newest))
                      for source, newest in st.later_sources)
    return T("through_lagging", lang, day=day, lagging=lagging, later=later)


def rows_through_note(rows: Sequence[tuple[str, Sequence[KpiStatus]]], lang: str) -> str | None:
    """A board or role table, each row paced on its own data-through date: the newest of them, then each
    row paced on an earlier date or held back by a lagging source, naming it ("Hana through 2026-10-14
    (shopee-sg lags)"). None when no row has data."""
    own: list[tuple[str, date, list[str]]] = []
    for name, statuses in rows:
        dated = [st for st in statuses if st.data_through]
        if not dated:
            continue
        day = min(st.data_through for st in dated if st.data_through)
        lagging = sorted({s for st in dated if st.data_through == day for s, _ in st.lagging_sources})
        own.append((name, day, lagging))
    if not own:
        return None
    top = max(day for _, day, _ in own)
    behind = [T("row_lagging", lang, name=name, day=day_label(day), lagging=", ".join(lagging)) if lagging
              else T("source_through", lang, source=name, day=day_label(day))
              for name, day, lagging in own if day < top or lagging]
    if not behind:
        return T("through", lang, day=day_label(top))
    return T("through_rows", lang, day=day_label(top), rows=("；" if lang == "zh" else "; ").join(behind))


def comparison_note(st: KpiStatus, lang: str) -> str | None:
    if st.previous_from is not None and st.previous_period is not None and st.actual is not None:
        return T("no_comparison", lang, period=period_label(st.previous_period, lang), day=day_label(st.previous_from))
    if st.change is not None:
        return T("change_level" if st.kpi.level_metrics else "change", lang, change=signed_percent(st.change))
    return None


def status_footnotes(st: KpiStatus, lang: str, stale_sources: list[str] | None = None) -> list[str]:
    notes = [through_note(st, lang)]
    if note := target_note(st.target, st.kpi.additive, lang):
        notes.append(note)
    if note := comparison_note(st, lang):
        notes.append(note)
    if stale_sources:
        notes.append(T("stale", lang, sources=", ".join(stale_sources)))
    return notes


def status_title(st: KpiStatus, scope_label: str, lang: str) -> str:
    return f"{st.kpi.label(lang)} · {scope_label} · {period_label(st.period, lang)}"


def status_reply(
    st: KpiStatus, *, scope_label: str, lang: str, currency: str, stale_sources: list[str] | None = None,
) -> Reply:
    return Reply(
        title=status_title(st, scope_label, lang), lang=lang, mark=mark_of(st.status),
        figures=status_figures(st, lang, currency),
        footnotes=status_footnotes(st, lang, stale_sources),
    )


def statuses_table(
    rows: list[tuple[str, KpiStatus]], lang: str, currency: str, *, first_column: str, title: str | None = None,
) -> Table:
    """One row per (label, status): value, target, attainment, pace, status."""
    columns = [first_column, T("actual", lang), T("target", lang), T("attainment", lang), T("pace", lang),
               T("status", lang)]
    body, marks = [], []
    for label, st in rows:
        unit = st.kpi.unit
        body.append([
            label,
            kpi_value(st.actual, unit, currency, lang),
            kpi_value(st.target.value if st.target else None, unit, currency, lang),
            ratio(st.attainment),
            ratio(st.pace_attainment),
            status_word(st, lang),
        ])
        marks.append(mark_of(st.status))
    return Table(columns=columns, rows=body, marks=marks, title=title)
