"""Labels shared by the review answers: references, scopes, signed values."""

from __future__ import annotations

from jobs.analysis.messages import T
from jobs.present.formatting import period_label, signed_kpi_value, signed_percent
from storage.kpi.periods import Period
from storage.kpi.references import AVG4, BASELINE, Reference
from storage.kpi.registry import Registry


def reference_label(ref: Reference | None, lang: str) -> str:
    if ref is None:
        return "—"
    if ref.kind == AVG4:
        return T("ref_avg4", lang)
    if ref.kind == BASELINE:
        return T("ref_baseline", lang, key=ref.periods[0].key)
    return period_label(ref.periods[0], lang)


def short_label(period: Period, lang: str) -> str:
    """`W47` / `第47周` for a week, the key otherwise (a chart's column)."""
    if period.kind == "week":
        week = int(period.key.split("-W")[1])
        return f"第{week}周" if lang == "zh" else f"W{week}"
    return period.key


def scope_name(kind: str, key: str, registry: Registry, names: dict[str, str], lang: str) -> str:
    if kind == "team":
        return T("team", lang)
    if kind == "role":
        role = registry.roles.get(key)
        return role.label(lang) if role else key
    if kind == "shop":
        return key
    return names.get(key, key)


def signed_value(value: float, unit: str, currency: str, lang: str) -> str:
    return signed_kpi_value(value, unit, currency, lang)


def change_text(change: float | None) -> str:
    return signed_percent(change) if change is not None else "—"
