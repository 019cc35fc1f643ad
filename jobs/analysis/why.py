"""`why`: a KPI's change split into its factors (a table and the waterfall), who moved it, and the notes."""

from __future__ import annotations

from jobs.analysis.labels import change_text, reference_label, short_label, signed_value
from jobs.analysis.messages import T
from jobs.charts.waterfall import WaterfallChartData, render_waterfall
from jobs.present.formatting import kpi_value, percent, period_label
from jobs.present.reply import Chart, Figure, Mark, Reply, Table
from storage.kpi.why import UNATTRIBUTED, MemberMove, Why


def why_reply(why: Why, *, scope_label: str, lang: str, currency: str, with_chart: bool = True) -> Reply:
    kpi, period = why.compared.kpi, why.compared.period
    against = reference_label(why.reference, lang)
    title = T("why_title", lang, kpi=kpi.label(lang), scope=scope_label, period=period_label(period, lang),
              against=against)
    reply = Reply(title=title, lang=lang)
    if why.after is None:
        reply.text = T("why_no_data", lang, kpi=kpi.label(lang), period=period_label(period, lang))
        return reply
    if why.before is None:
        reply.text = T("why_no_reference", lang, kpi=kpi.label(lang), against=against)
        return reply
    value = lambda v: kpi_value(v, kpi.unit, currency, lang)  # noqa: E731
    change = why.change or 0.0
    relative = change / abs(why.before) if why.before else None
    improved = (change < 0) if kpi.lower_is_better else (change > 0)
    reply.mark = Mark.ON_TRACK if improved else (Mark.OFF_TRACK if change else None)
    reply.figures.append(Figure(T("why_change_label", lang), T(
        "why_change", lang, kpi=kpi.label(lang), before=value(why.before), after=value(why.after),
        change=f"{signed_value(change, kpi.unit, currency, lang)}, {change_text(relative)}")))
    if why.tree is None:
        reply.footnotes.append(T("why_no_tree", lang, kpi=kpi.label(lang)))
    else:
        reply.tables.append(_factor_table(why, lang, currency))
        if why.blocked:
            names = ", ".join(move.factor.label(lang) for move in why.blocked)
            reply.footnotes.append(T("why_blocked", lang, factors=names))
        else:
            reply.footnotes.append(T("why_method", lang))
    for moves, split in ((why.movers, "member"), (why.shops, "shop"), (why.sources, "source")):
        if moves:
            reply.tables.append(_moves_table(why, moves, split, lang, currency))
    if why.compared.days < period.days:
        reply.footnotes.append(T("why_days", lang, days=why.compared.days))
    if why.notes:
        reply.footnotes.append(T("why_notes", lang, notes="; ".join(
            f"#{n.id} {n.start_date:%m-%d} {n.text}" for n in why.notes)))
    if with_chart and why.tree is not None and not why.blocked:
        reply.charts.append(why_chart(why, scope_label=scope_label, lang=lang, currency=currency))
    return reply


def _factor_table(why: Why, lang: str, currency: str) -> Table:
    kpi = why.compared.kpi
    rows, marks = [], []
    for move in why.factors:
        unit = move.factor.unit
        rows.append([move.factor.label(lang), kpi_value(move.before, unit, currency, lang),
                     kpi_value(move.after, unit, currency, lang),
                     signed_value(move.contribution, kpi.unit, currency, lang) if move.contribution is not None
                     else "—"])
        good = move.contribution is not None and ((move.contribution > 0) != kpi.lower_is_better)
        marks.append(None if not move.contribution else (Mark.ON_TRACK if good else Mark.OFF_TRACK))
    columns = [T("why_factor", lang), T("why_before", lang), T("why_after", lang), T("why_contribution", lang)]
    return Table(columns=columns, rows=rows, marks=marks)


_SPLIT_KEYS = {  # split by → (table title, first column, the row for an empty key)
    "member": ("why_movers", "why_who", "why_unattributed"),
    "shop": ("why_shops", "why_shop", "why_no_shop"),
    "source": ("why_sources", "why_source", "why_no_source"),
}


def _moves_table(why: Why, moves: list[MemberMove], split: str, lang: str, currency: str) -> Table:
    kpi = why.compared.kpi
    title, who, empty = _SPLIT_KEYS[split]
    rows = []
    for move in moves:
        name = T(empty, lang) if move.member == UNATTRIBUTED else move.name
        rows.append([name, kpi_value(move.before, kpi.unit, currency, lang),
                     kpi_value(move.after, kpi.unit, currency, lang),
                     percent(move.share) if move.share is not None else change_text(
                         (move.after - move.before) / abs(move.before) if move.before and move.after is not None
                         else None)])
    columns = [T(who, lang), T("why_before", lang), T("why_after", lang),
               T("why_share", lang) if kpi.additive else T("compare_change", lang)]
    return Table(columns=columns, rows=rows, title=T(title, lang))


def why_chart(why: Why, *, scope_label: str, lang: str, currency: str) -> Chart:
    data = why_chart_data(why, scope_label=scope_label, lang=lang, currency=currency)
    return Chart(name=f"why-{why.compared.kpi.id}.png", png=render_waterfall(data), title=data.title)


def why_chart_data(why: Why, *, scope_label: str, lang: str, currency: str) -> WaterfallChartData:
    """The waterfall of the reply: its bars carry the same texts as the reply's factor table."""
    kpi, period = why.compared.kpi, why.compared.period
    ref = why.reference
    title = T("chart_why", lang, kpi=kpi.label(lang), scope=scope_label, period=period_label(period, lang))
    start_label = short_label(ref.periods[0], lang) if ref and ref.kind in ("previous", "year") else \
        reference_label(ref, lang)
    unit = f" ({currency})" if kpi.unit == "currency" else ""
    note = T("why_notes", lang, notes="; ".join(f"#{n.id} {n.start_date:%m-%d} {n.text}" for n in why.notes)) \
        if why.notes else ""
    return WaterfallChartData(
        title=title, start_label=start_label, start_value=why.before,
        steps=[(move.factor.label(lang), move.contribution) for move in why.factors],
        end_label=short_label(period, lang), end_value=why.after, lang=lang, value_label=f"{kpi.label(lang)}{unit}",
        note=note, unit=kpi.unit, currency=currency,
    )
