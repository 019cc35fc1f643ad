"""`unusual`: the unusual days of a period, strongest first, with the range each was expected in."""

from __future__ import annotations

from jobs.analysis.labels import scope_name
from jobs.analysis.messages import T
from jobs.present.formatting import kpi_value, period_label
from jobs.present.reply import Mark, Reply, Table
from storage.kpi.periods import Period
from storage.kpi.registry import Registry
from storage.kpi.unusual import Finding

MAX_ROWS = 15


def unusual_table(findings: list[Finding], registry: Registry, names: dict[str, str], *, lang: str, currency: str,
                  title: str | None = None, limit: int = MAX_ROWS) -> Table:
    rows, marks = [], []
    for finding in findings[:limit]:
        kpi, j = finding.kpi, finding.judgement
        day = finding.day.isoformat()
        low, value, high = (kpi_value(v, kpi.unit, currency, lang) for v in (max(j.low, 0.0), j.value, j.high))
        rows.append([
            T("unusual_promo", lang, day=day) if finding.promo else day,
            scope_name(*finding.scope, registry, names, lang), kpi.label(lang), value, f"{low} – {high}",
            f"{j.z:+.1f}",
        ])
        good = (j.z > 0) != kpi.lower_is_better
        marks.append(Mark.ON_TRACK if good else Mark.OFF_TRACK)
    columns = [T("unusual_day", lang), T("unusual_scope", lang), T("unusual_kpi", lang), T("unusual_value", lang),
               T("unusual_expected", lang), T("unusual_z", lang)]
    return Table(columns=columns, rows=rows, marks=marks, title=title)


def unusual_reply(findings: list[Finding], period: Period, registry: Registry, names: dict[str, str], *,
                  lang: str, currency: str) -> Reply:
    label = period_label(period, lang)
    reply = Reply(title=T("unusual_title", lang, period=label), lang=lang)
    if not findings:
        reply.text = T("unusual_none", lang, period=label)
        reply.mark = Mark.ON_TRACK
        return reply
    reply.tables.append(unusual_table(findings, registry, names, lang=lang, currency=currency))
    if len(findings) > MAX_ROWS:
        reply.footnotes.append(T("unusual_more", lang, count=len(findings) - MAX_ROWS))
    reply.footnotes.append(T("unusual_method", lang))
    return reply
