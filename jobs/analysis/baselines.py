"""Baselines in replies: one line per reference that exists (previous, last year, 4-period average, named)."""

from __future__ import annotations

from jobs.analysis.labels import change_text
from jobs.analysis.messages import T
from jobs.present.formatting import kpi_value, period_label
from jobs.present.reply import Figure, Reply, Table
from storage.kpi.references import BASELINE, KINDS
from storage.kpi.why import Compared
from storage.models_review import Baseline


def baseline_figures(compared: Compared, *, lang: str, currency: str, kinds: tuple[str, ...] = KINDS) -> list[Figure]:
    """`vs last year: +10.0% ($1.1K)` for each reference with data; none without a current value."""
    if compared.value is None:
        return []
    out = []
    for kind in kinds:
        found = compared.references.get(kind)
        change = compared.change(kind)
        if found is None or change is None:
            continue
        ref, _ = found
        label = T("vs_baseline", lang, key=ref.periods[0].key) if kind == BASELINE else T(f"vs_{kind}", lang)
        value = kpi_value(compared.reference_value(kind), compared.kpi.unit, currency, lang)
        out.append(Figure(label, T("vs_value", lang, change=change_text(change), value=value)))
    return out


def baselines_reply(compared: Compared, *, scope_label: str, lang: str, currency: str) -> Reply:
    kpi = compared.kpi
    reply = Reply(title=T("baselines_title", lang, kpi=kpi.label(lang), scope=scope_label,
                          period=period_label(compared.period, lang)), lang=lang)
    reply.figures = baseline_figures(compared, lang=lang, currency=currency)
    return reply


def baseline_list_reply(rows: list[Baseline], labels: dict[tuple[str, str], str], kpi_labels: dict[str, str], *,
                        lang: str) -> Reply:
    reply = Reply(title=T("baselines_list_title", lang), lang=lang)
    if not rows:
        reply.text = T("baselines_none", lang)
        return reply
    reply.tables.append(Table(
        columns=[T("col_kpi", lang), T("col_scope", lang), T("col_period", lang), T("col_set_by", lang)],
        rows=[[kpi_labels.get(r.kpi, r.kpi), labels.get((r.scope_kind, r.scope_key), r.scope_key), r.period_key,
               r.set_by] for r in rows],
    ))
    return reply
