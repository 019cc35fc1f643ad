"""The daily report (日报): yesterday against the day before and the same weekday last week, with the
month to date and its pace, for one scope and KPI list.

Queries: three `engine.statuses` calls (yesterday with the day before, the same day last week, the month to
date), whatever the number of KPIs or days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from jobs.digest.scoped import DigestScope
from jobs.meetings.messages import T
from jobs.present.formatting import kpi_value, period_label, signed_percent
from jobs.present.reply import Mark, Reply, ReplyKind, Table
from jobs.present.status import mark_of, ratio, status_word
from jobs.timing import engine_as_of
from storage.kpi.attainment import KpiStatus
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period


@dataclass(frozen=True)
class DailyData:
    day: date
    scope: DigestScope
    yesterday: list[KpiStatus]  # with previous_actual = the day before
    last_week: list[KpiStatus]  # the same weekday a week earlier
    month: Period
    month_to_date: list[KpiStatus]

    @property
    def data_through(self) -> date | None:
        return max((st.data_through for st in self.month_to_date if st.data_through), default=None)


def collect_daily(engine: KpiEngine, scope: DigestScope, today: date) -> DailyData:
    """`today` is the send day in the subscription's time zone; the report is about the day before."""
    engine = engine_as_of(engine, today)
    day = today - timedelta(days=1)
    calendar = engine.calendar
    month = calendar.month(day)
    kpis = scope.kpis
    return DailyData(
        day=day, scope=scope,
        yesterday=engine.statuses(kpis, scope.scope, calendar.day(day)) if kpis else [],
        last_week=engine.statuses(kpis, scope.scope, calendar.day(day - timedelta(days=7))) if kpis else [],
        month=month, month_to_date=engine.statuses(kpis, scope.scope, month) if kpis else [],
    )


def _change(now: float | None, before: float | None) -> str:
    return signed_percent(now / before - 1) if now is not None and before else "—"


def daily_reply(data: DailyData, *, lang: str, currency: str, personal: bool = False) -> Reply:
    day = data.day.isoformat()
    title = T("personal_title" if personal else "title_daily", lang, day=day)
    reply = Reply(title=title, lang=lang, kind=ReplyKind.NOTICE, public=not personal)
    columns = [T("kpi", lang), T("yesterday", lang), T("day_before", lang), T("vs_day_before", lang),
               T("same_weekday", lang), T("vs_last_week", lang)]
    rows: list[list[str]] = []
    marks: list[Mark | None] = []
    for st, week in zip(data.yesterday, data.last_week, strict=True):
        unit = st.kpi.unit
        rows.append([
            st.kpi.label(lang), kpi_value(st.actual, unit, currency, lang),
            kpi_value(st.previous_actual, unit, currency, lang), _change(st.actual, st.previous_actual),
            kpi_value(week.actual, unit, currency, lang), _change(st.actual, week.actual),
        ])
        marks.append(None)
    reply.tables.append(Table(columns=columns, rows=rows, marks=marks,
                              title=T("daily_table", lang, who=data.scope.label, day=day)))
    month_label = period_label(data.month, lang)
    mtd_columns = [T("kpi", lang), T("mtd", lang, period=month_label), T("pace", lang), T("status", lang)]
    mtd_rows = [[st.kpi.label(lang), kpi_value(st.actual, st.kpi.unit, currency, lang), ratio(st.pace_attainment),
                 status_word(st.status, lang)] for st in data.month_to_date]
    mtd_marks = [mark_of(st.status) for st in data.month_to_date]
    reply.tables.append(Table(columns=mtd_columns, rows=mtd_rows, marks=mtd_marks,
                              title=T("mtd", lang, period=month_label)))
    if all(st.actual is None for st in data.yesterday):
        reply.footnotes.append(T("no_day_data", lang, day=day))
    if data.data_through:
        reply.footnotes.append(T("through", lang, day=data.data_through.isoformat()))
    return reply
