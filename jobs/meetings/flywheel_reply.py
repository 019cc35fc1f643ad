"""The flywheel as a table (KPIs × months, with each month's change) and as small multiples."""

from __future__ import annotations

from datetime import date

from jobs.charts.small_multiples import Panel, SmallMultiplesData, render_small_multiples
from jobs.meetings.flywheel import POINT_CHANGE, Flywheel
from jobs.meetings.messages import T
from jobs.present.formatting import kpi_value, period_label, signed_percent
from jobs.present.reply import Chart, Table


def month_short(flywheel: Flywheel, index: int, lang: str) -> str:
    month = flywheel.months[index]
    return f"{month.start.month}月" if lang == "zh" else month.start.strftime("%b")


def flywheel_table(flywheel: Flywheel, lang: str, currency: str) -> Table:
    columns = [T("kpi", lang), *(month_short(flywheel, i, lang) for i in range(len(flywheel.months)))]
    rows = []
    for kpi in flywheel.kpis:
        cells = [kpi.label(lang)]
        for index, value in enumerate(flywheel.series[kpi.id]):
            cell = kpi_value(value, kpi.unit, currency, lang)
            change = change_text(flywheel, kpi.id, index, lang)
            if flywheel.starts_late(kpi.id, index):
                change = T("partial_cell", lang)
            cells.append(f"{cell} ({change})" if change else cell)
        rows.append(cells)
    title = T("flywheel_title", lang, months=len(flywheel.months), period=period_label(flywheel.months[-1], lang))
    return Table(columns=columns, rows=rows, title=title)


def change_text(flywheel: Flywheel, kpi_id: str, index: int, lang: str, *, short: bool = False) -> str:
    """`+6.4%` (`+6%` when short, for the chart's narrow columns), or `+15 pts` for a score."""
    change = flywheel.change(kpi_id, index)
    if change is None:
        return ""
    if kpi_id in POINT_CHANGE:
        return T("points", lang, change=f"{change:+.0f}")
    return f"{change * 100:+.0f}%" if short else signed_percent(change)


def flywheel_notes(flywheel: Flywheel, lang: str) -> list[str]:
    notes = []
    if flywheel.empty:
        return [T("flywheel_empty", lang, months=len(flywheel.months))]
    if flywheel.cac_from_ad_spend:
        notes.append(_fallback_note(flywheel, lang))
    notes += partial_notes(flywheel, lang)
    for kpi in flywheel.kpis:
        missing = [period_label(m, lang) for m, v in zip(flywheel.months, flywheel.series[kpi.id], strict=True)
                   if v is None]
        if missing and len(missing) < len(flywheel.months):
            notes.append(T("flywheel_missing", lang, kpi=kpi.label(lang), months=", ".join(missing)))
    return notes


def partial_notes(flywheel: Flywheel, lang: str) -> list[str]:
    """One line per partial month: "September 2026: data from Sep 21 only (Order conversion, AOV) — …"."""
    notes = []
    for index, month in enumerate(flywheel.months):
        late = [(kpi, day) for kpi in flywheel.kpis if (day := flywheel.starts_late(kpi.id, index))]
        if late:
            kpis = ("、" if lang == "zh" else ", ").join(kpi.label(lang) for kpi, _ in late)
            notes.append(T("flywheel_partial", lang, month=period_label(month, lang),
                           day=_day_short(max(day for _, day in late), lang), kpis=kpis))
    return notes


def _day_short(day: date, lang: str) -> str:
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day.strftime('%b')} {day.day}"


def flywheel_chart(flywheel: Flywheel, lang: str, currency: str) -> Chart:
    labels = [month_short(flywheel, i, lang) for i in range(len(flywheel.months))]
    title = T("flywheel_chart", lang, first=period_label(flywheel.months[0], lang),
              last=period_label(flywheel.months[-1], lang))
    months = range(len(flywheel.months))
    panels = [
        Panel(
            label=kpi.label(lang), values=flywheel.series[kpi.id],
            value_labels=[_point_label(v, kpi.unit, currency, lang) for v in flywheel.series[kpi.id]],
            changes=[flywheel.change(kpi.id, i) for i in range(len(flywheel.months))],
            change_labels=[T("partial_cell", lang) if flywheel.starts_late(kpi.id, i)
                           else change_text(flywheel, kpi.id, i, lang, short=True) for i in months],
            lower_is_better=kpi.lower_is_better,
            partial=[flywheel.starts_late(kpi.id, i) is not None for i in range(len(flywheel.months))],
        )
        for kpi in flywheel.kpis
    ]
    note = "\n".join(([_fallback_note(flywheel, lang)] if flywheel.cac_from_ad_spend else [])
                     + partial_notes(flywheel, lang))
    png = render_small_multiples(SmallMultiplesData(title=title, x_labels=labels, panels=panels, lang=lang, note=note))
    return Chart(name="flywheel.png", png=png, title=title)


def _point_label(value: float | None, unit: str, currency: str, lang: str) -> str:
    """A point's label in a narrow panel: money from $100 in whole units (`$115`, not `$114.60`), so six
    neighbouring labels never run into each other; the table keeps the cents."""
    if value is not None and unit == "currency" and abs(value) >= 100:
        value = float(round(value))
    return kpi_value(value, unit, currency, lang)


def _fallback_note(flywheel: Flywheel, lang: str) -> str:
    return T("cac_fallback", lang, months=", ".join(period_label(m, lang) for m in flywheel.cac_from_ad_spend))
