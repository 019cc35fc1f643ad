"""Replies for the question shapes of issue 13: a role's KPIs per member, the run-rate, a comparison,
a trend with its chart, and the note put above an answer when the current period has no data yet."""

from __future__ import annotations

from datetime import date, timedelta

from jobs.charts.series import SeriesChartData, render_series
from jobs.present.formatting import kpi_value, period_label, signed_percent
from jobs.present.i18n import Catalog
from jobs.present.reply import Chart, Figure, Mark, Reply, ReplyKind, Table
from jobs.present.status import T as STATUS_T
from jobs.present.status import mark_of, ratio, rows_through_note, status_word
from storage.kpi.attainment import KpiStatus
from storage.kpi.engine import MemberScore
from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef, RoleDef

T = Catalog({
    "role_title": ("{role} · {period}", "{role} · {period}"),
    "role_empty": ("Nobody holds the role {role} yet.", "还没有人担任{role}。"),
    "member": ("Member", "成员"),
    "score": ("Score", "综合"),
    "no_target_cell": ("{value} (no target)", "{value}（未设目标）"),
    "runrate_title": ("{kpi} · what it takes · {scope} · {period}", "{kpi} · 还差多少 · {scope} · {period}"),
    "remaining": ("Still to go", "还差"),
    "days_left": ("Days left", "剩余天数"),
    "per_day_needed": ("Needed per day", "每天还需"),
    "per_day_so_far": ("Per day so far", "目前日均"),
    "target_met": ("Target reached: {actual} of {target}.", "已完成目标：{actual} / {target}。"),
    "runrate_no_target": ("No {kpi} target for {period}, so there is nothing to run towards. "
                          "An admin can set one: `target set {kpi_id} VALUE {key}`.",
                          "{period} 没有 {kpi} 目标，无法计算每天还需多少。"
                          "管理员可设置：`target set {kpi_id} 数值 {key}`。"),
    "runrate_not_additive": ("{kpi} is a ratio, so it has no daily run-rate; here is where it stands.",
                             "{kpi} 是比率指标，没有每日所需；以下是当前情况。"),
    "runrate_over": ("{period} is over: {actual} of {target} ({attainment}).",
                     "{period} 已结束：{actual} / {target}（{attainment}）。"),
    "compare_title": ("{kpi} · {scope} · {period} vs {base}", "{kpi} · {scope} · {period} 对比 {base}"),
    "same_days": ("Compared like for like: {days} days from the start of each period.",
                  "按同期对比：各取期初起 {days} 天。"),
    "change": ("Change", "变化"),
    "base_no_data": ("No {kpi} data for {base} to compare with.", "{base} 没有 {kpi} 数据，无法对比。"),
    "now_no_data": ("No {kpi} data for {period} yet.", "{period} 还没有 {kpi} 数据。"),
    "trend_title": ("{kpi} · {scope} · {period}", "{kpi} · {scope} · {period}"),
    "trend_day": ("Day", "日期"),
    "trend_week": ("Week of", "周起始"),
    "trend_missing": ("Days without data are gaps, not zeros.", "没有数据的日子留空，不按 0 计。"),
    "trend_empty": ("No {kpi} data for {period}.", "{period} 没有 {kpi} 数据。"),
    "no_data_yet": ("No data yet {period_word} (data runs through {day}). {previous_word}:",
                    "{period_word}还没有数据（数据截至{day}）。{previous_word}："),
})

_PERIOD_WORDS = {
    "day": (("today", "Yesterday"), ("今天", "昨天")),
    "week": (("this week", "Last week"), ("本周", "上周")),
    "month": (("this month", "Last month"), ("本月", "上月")),
    "quarter": (("this quarter", "Last quarter"), ("本季度", "上季度")),
    "year": (("this year", "Last year"), ("今年", "去年")),
}
_WEEKDAYS = (("Monday", "周一"), ("Tuesday", "周二"), ("Wednesday", "周三"), ("Thursday", "周四"),
             ("Friday", "周五"), ("Saturday", "周六"), ("Sunday", "周日"))
WEEKLY_AFTER_DAYS = 62  # longer periods (a quarter, a year) are charted by week


def role_reply(role: RoleDef, kpis: list[KpiDef], scores: list[MemberScore], period: Period, *, lang: str,
               currency: str) -> Reply:
    """The role's KPIs, one row per member, like the digest's role table (attainment with its mark; the
    plain value where there is no target), and the composite score."""
    title = T("role_title", lang, role=role.label(lang), period=period_label(period, lang))
    if not scores:
        return Reply(title=title, lang=lang, text=T("role_empty", lang, role=role.label(lang)))
    columns = [T("member", lang), *(kpi.label(lang) for kpi in kpis), T("score", lang)]
    rows: list[list[str]] = []
    marks: list[Mark | None] = []
    for score in scores:
        rows.append([score.display_name, *(_cell(st, lang, currency) for st in score.statuses),
                     ratio(score.composite)])
        marks.append(None)
    through = rows_through_note([(s.display_name, s.statuses) for s in scores], lang)
    notes = [through or STATUS_T("no_rows", lang)]
    return Reply(title=title, lang=lang, tables=[Table(columns, rows, marks)], footnotes=notes)


def _cell(st: KpiStatus, lang: str, currency: str) -> str:
    if st.attainment is not None:
        return f"{ratio(st.attainment)} {mark_of(st.status).emoji}"
    if st.actual is not None:
        return T("no_target_cell", lang, value=kpi_value(st.actual, st.kpi.unit, currency, lang))
    return "—"


def runrate_reply(st: KpiStatus, *, scope_label: str, lang: str, currency: str) -> Reply:
    """What it takes to reach the target: still to go, days left, per day needed against per day so far."""
    kpi, unit = st.kpi, st.kpi.unit
    title = T("runrate_title", lang, kpi=kpi.label(lang), scope=scope_label, period=period_label(st.period, lang))

    def value(amount: float | None) -> str:
        return kpi_value(amount, unit, currency, lang)

    base = [Figure(STATUS_T("actual", lang), value(st.actual)),
            Figure(STATUS_T("target", lang), value(st.target.value if st.target else None))]
    notes = [STATUS_T("through", lang, day=st.data_through.isoformat())] if st.data_through else []
    if st.target is None:
        return Reply(title=title, lang=lang, figures=base[:1], footnotes=notes, text=T(
            "runrate_no_target", lang, kpi=kpi.label(lang), kpi_id=kpi.id, period=period_label(st.period, lang),
            key=st.period.key))
    if not kpi.additive:
        return Reply(title=title, lang=lang, mark=mark_of(st.status), text=T(
            "runrate_not_additive", lang, kpi=kpi.label(lang)), footnotes=notes,
            figures=[*base, Figure(STATUS_T("status", lang), status_word(st.status, lang), mark_of(st.status))])
    if st.finished:
        return Reply(title=title, lang=lang, mark=mark_of(st.status), footnotes=notes, text=T(
            "runrate_over", lang, period=period_label(st.period, lang), actual=value(st.actual),
            target=value(st.target.value), attainment=ratio(st.attainment)))
    actual = st.actual or 0.0
    remaining = st.target.value - actual
    if remaining <= 0 and not kpi.lower_is_better:
        return Reply(title=title, lang=lang, mark=mark_of(st.status), footnotes=notes, text=T(
            "target_met", lang, actual=value(actual), target=value(st.target.value)))
    through = st.data_through or (st.period.start - timedelta(days=1))
    days_left = (st.period.end - through).days
    days_done = (through - st.period.start).days + 1
    figures = [*base, Figure(T("remaining", lang), value(remaining)), Figure(T("days_left", lang), str(days_left)),
               Figure(T("per_day_needed", lang), value(st.run_rate), mark_of(st.status))]
    if days_done > 0 and st.actual is not None:
        figures.append(Figure(T("per_day_so_far", lang), value(actual / days_done)))
    return Reply(title=title, lang=lang, mark=mark_of(st.status), figures=figures, footnotes=notes)


def compare_reply(now: KpiStatus, base: KpiStatus, *, base_period: Period, scope_label: str, lang: str,
                  currency: str, same_days: int | None) -> Reply:
    """The period asked about against the base (the previous period or a year before), like for like."""
    kpi = now.kpi
    title = T("compare_title", lang, kpi=kpi.label(lang), scope=scope_label, period=period_label(now.period, lang),
              base=period_label(base_period, lang))
    figures = [Figure(period_label(now.period, lang), kpi_value(now.actual, kpi.unit, currency, lang)),
               Figure(period_label(base_period, lang), kpi_value(base.actual, kpi.unit, currency, lang))]
    notes = []
    if now.actual is None:
        notes.append(T("now_no_data", lang, kpi=kpi.label(lang), period=period_label(now.period, lang)))
    elif base.actual is None:
        notes.append(T("base_no_data", lang, kpi=kpi.label(lang), base=period_label(base_period, lang)))
    elif base.actual:
        figures.append(Figure(T("change", lang), signed_percent((now.actual - base.actual) / abs(base.actual))))
    if same_days is not None:
        notes.append(T("same_days", lang, days=same_days))
    if now.data_through:
        notes.append(STATUS_T("through", lang, day=now.data_through.isoformat()))
    return Reply(title=title, lang=lang, figures=figures, footnotes=notes)


def trend_points(kpi: KpiDef, period: Period, daily: dict[date, dict[str, float]],
                 through: date | None) -> tuple[list[date], list[float | None], bool]:
    """(first day of each point, the KPI's value there or None, weekly?) — a ratio KPI is the ratio of
    the bucket's sums, never an average of daily ratios; a day without rows is None, not zero."""
    last = min(period.end, through) if through else period.end
    weekly = period.days > WEEKLY_AFTER_DAYS
    days, values = [], []
    day = period.start
    while day <= last:
        bucket_end = min(day + timedelta(days=6 if weekly else 0), last)
        sums: dict[str, float] = {}
        seen = False
        cursor = day
        while cursor <= bucket_end:
            for metric, total in daily.get(cursor, {}).items():
                sums[metric] = sums.get(metric, 0.0) + total
                seen = True
            cursor += timedelta(days=1)
        days.append(day)
        values.append(kpi.formula.evaluate(sums) if seen and all(m in sums for m in kpi.metrics) else None)
        day = bucket_end + timedelta(days=1)
    return days, values, weekly


def trend_reply(kpi: KpiDef, period: Period, daily: dict[date, dict[str, float]], through: date | None, *,
                scope_label: str, lang: str, currency: str) -> Reply:
    title = T("trend_title", lang, kpi=kpi.label(lang), scope=scope_label, period=period_label(period, lang))
    days, values, weekly = trend_points(kpi, period, daily, through)
    if not any(v is not None for v in values):
        return Reply(title=title, lang=lang, text=T("trend_empty", lang, kpi=kpi.label(lang),
                                                   period=period_label(period, lang)))
    rows = [[day.isoformat(), kpi_value(value, kpi.unit, currency, lang)] for day, value in zip(days, values,
                                                                                               strict=True)]
    table = Table([T("trend_week" if weekly else "trend_day", lang), kpi.label(lang)], rows)
    png = render_series(SeriesChartData(title, days, values, lang, percent=kpi.unit == "percent"))
    notes = [T("trend_missing", lang)] if None in values else []
    if through:
        notes.append(STATUS_T("through", lang, day=through.isoformat()))
    return Reply(title=title, lang=lang, tables=[table], footnotes=notes,
                 charts=[Chart(f"{kpi.id}-trend.png", png, title)])


def no_data_yet(reply: Reply, period: Period, through: date | None, *, lang: str) -> Reply:
    """`reply` (the previous period's answer) introduced by "No data yet this week (data runs through
    Sunday). Last week:"."""
    english, chinese = _PERIOD_WORDS.get(period.kind, _PERIOD_WORDS["month"])
    words = chinese if lang == "zh" else english
    day = (_WEEKDAYS[through.weekday()][1 if lang == "zh" else 0] + f" {through.isoformat()}") if through else "—"
    intro = T("no_data_yet", lang, period_word=words[0], day=day, previous_word=words[1])
    reply.text = f"{intro}\n{reply.text}" if reply.text else intro
    if reply.kind == ReplyKind.ERROR:
        reply.kind = ReplyKind.ANSWER
    return reply
