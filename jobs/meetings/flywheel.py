"""The growth flywheel (增长飞轮): CAC, order conversion, AOV, repeat rate, NPS and LTV over the last
months, so a monthly review sees how they move together.

One aggregate per month (a fixed 6 statements), team scope. A KPI whose metrics have no rows in a month is
missing that month — never computed from zeros. CAC is marketing_spend / new_customers; a month without
marketing spend uses ad_spend instead, and the review says which months did.

A month is partial for a KPI when one of its daily flows starts after the month's first day — the engine's
"period starts complete" rule (storage/kpi/engine.py `_previous`) applied per month. A daily flow is a
summed metric with rows on more than DAILY_FEED_DAYS days of some month in the window; levels (`last`,
`mean`) and monthly (or weekly) pushes — a CRM's new customers or NPS answers on one day a month — are
whole-period figures and never judged by their date. A partial month keeps its value (shown as partial)
but no change is computed to or from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.repositories import facts as fact_repo

FLYWHEEL_KPIS = ("cac", "order_cvr", "aov", "repeat_rate", "nps", "ltv")
MONTHS = 6
CAC_FALLBACK_METRIC = "ad_spend"
# More days with rows than weekly pushes give in a month: the metric is a daily feed.
DAILY_FEED_DAYS = 7
# Scores that cross zero change by points, not by a percentage (NPS 45 → −5 is −50 points, not −111 %).
POINT_CHANGE = frozenset({"nps"})


@dataclass(frozen=True)
class Flywheel:
    months: list[Period]  # oldest first
    kpis: list[KpiDef]
    series: dict[str, list[float | None]]  # KPI id → one value per month
    cac_from_ad_spend: list[Period] = field(default_factory=list)
    # KPI id → per month: the day its data starts when the month is partial (None = complete or missing)
    partial_from: dict[str, list[date | None]] = field(default_factory=dict)

    def starts_late(self, kpi_id: str, index: int) -> date | None:
        days = self.partial_from.get(kpi_id, [])
        return days[index] if index < len(days) else None

    def change(self, kpi_id: str, index: int) -> float | None:
        """Month-over-month change at `index`: relative, or in points for POINT_CHANGE KPIs; None for the
        first month, next to a missing value, or to or from a partial month."""
        values = self.series[kpi_id]
        now, before = (values[index], values[index - 1]) if index else (None, None)
        if now is None or before is None or self.starts_late(kpi_id, index) or self.starts_late(kpi_id, index - 1):
            return None
        if kpi_id in POINT_CHANGE:
            return now - before
        return now / before - 1 if before > 0 else None

    @property
    def empty(self) -> bool:
        return all(value is None for values in self.series.values() for value in values)


def last_months(engine: KpiEngine, through: date, count: int = MONTHS) -> list[Period]:
    month = engine.calendar.month(through)
    months = [month]
    for _ in range(count - 1):
        months.append(engine.calendar.previous(months[-1]))
    return months[::-1]


def flywheel(engine: KpiEngine, registry: Registry, through_month: Period, scope: Scope | None = None) -> Flywheel:
    kpis = [registry.kpis[k] for k in FLYWHEEL_KPIS if k in registry.kpis]
    metrics = sorted({m for kpi in kpis for m in kpi.metrics} | {CAC_FALLBACK_METRIC})
    months = last_months(engine, through_month.start)
    series: dict[str, list[float | None]] = {kpi.id: [] for kpi in kpis}
    fallback: list[Period] = []
    used: dict[str, list[tuple[str, ...]]] = {kpi.id: [] for kpi in kpis}  # the metrics each value came from
    coverage: list[dict[str, tuple[date, int]]] = []
    with engine.db.session() as session:
        for month in months:
            found = fact_repo.period_sums(session, metrics, scope or Scope.team(), month.start, month.end).sums
            coverage.append(fact_repo.period_coverage(session, metrics, scope or Scope.team(), month.start,
                                                      month.end))
            for kpi in kpis:
                value, used_ad_spend = _value(kpi, found)
                series[kpi.id].append(value)
                used[kpi.id].append(_fallback_metrics(kpi) if used_ad_spend else tuple(kpi.metrics))
                if used_ad_spend:
                    fallback.append(month)
    feeds = _daily_feeds(coverage)
    partial = {kpi.id: [_starts_late(month, used[kpi.id][i], kpi, feeds, coverage[i]) if series[kpi.id][i] is not None
                        else None for i, month in enumerate(months)] for kpi in kpis}
    return Flywheel(months, kpis, series, fallback, partial)


def _daily_feeds(coverage: list[dict[str, tuple[date, int]]]) -> set[str]:
    return {metric for month in coverage for metric, (_, days) in month.items() if days > DAILY_FEED_DAYS}


def _starts_late(month: Period, metrics: tuple[str, ...], kpi: KpiDef, feeds: set[str],
                 coverage: dict[str, tuple[date, int]]) -> date | None:
    """The day the KPI's daily flows start in `month`, when that is after its first day (else None)."""
    starts = [coverage[m][0] for m in metrics if m in feeds and m in coverage and m not in kpi.level_metrics]
    return max(starts) if starts and max(starts) > month.start else None


def _fallback_metrics(kpi: KpiDef) -> tuple[str, ...]:
    return tuple(CAC_FALLBACK_METRIC if m == "marketing_spend" else m for m in kpi.metrics)


def _value(kpi: KpiDef, sums: dict[str, float]) -> tuple[float | None, bool]:
    """The KPI over the month's sums, or None when any of its metrics has no rows (missing, not zero)."""
    if kpi.id == "cac" and "marketing_spend" not in sums and {CAC_FALLBACK_METRIC, "new_customers"} <= sums.keys():
        return sums[CAC_FALLBACK_METRIC] / sums["new_customers"] if sums["new_customers"] else None, True
    if any(metric not in sums for metric in kpi.metrics):
        return None, False
    return kpi.formula.evaluate(sums), False
