"""The growth flywheel (增长飞轮): CAC, order conversion, AOV, repeat rate, NPS and LTV over the last
months, so a monthly review sees how they move together.

One aggregate per month (a fixed 6 statements), team scope. A KPI whose metrics have no rows in a month is
missing that month — never computed from zeros. CAC is marketing_spend / new_customers; a month without
marketing spend uses ad_spend instead, and the review says which months did.
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
# Scores that cross zero change by points, not by a percentage (NPS 45 → −5 is −50 points, not −111 %).
POINT_CHANGE = frozenset({"nps"})


@dataclass(frozen=True)
class Flywheel:
    months: list[Period]  # oldest first
    kpis: list[KpiDef]
    series: dict[str, list[float | None]]  # KPI id → one value per month
    cac_from_ad_spend: list[Period] = field(default_factory=list)

    def change(self, kpi_id: str, index: int) -> float | None:
        """Month-over-month change at `index`: relative, or in points for POINT_CHANGE KPIs; None for the
        first month or next to a missing value."""
        values = self.series[kpi_id]
        now, before = (values[index], values[index - 1]) if index else (None, None)
        if now is None or before is None:
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
    with engine.db.session() as session:
        for month in months:
            found = fact_repo.period_sums(session, metrics, scope or Scope.team(), month.start, month.end).sums
            for kpi in kpis:
                value, used_ad_spend = _value(kpi, found)
                series[kpi.id].append(value)
                if used_ad_spend:
                    fallback.append(month)
    return Flywheel(months, kpis, series, fallback)


def _value(kpi: KpiDef, sums: dict[str, float]) -> tuple[float | None, bool]:
    """The KPI over the month's sums, or None when any of its metrics has no rows (missing, not zero)."""
    if kpi.id == "cac" and "marketing_spend" not in sums and {CAC_FALLBACK_METRIC, "new_customers"} <= sums.keys():
        return sums[CAC_FALLBACK_METRIC] / sums["new_customers"] if sums["new_customers"] else None, True
    if any(metric not in sums for metric in kpi.metrics):
        return None, False
    return kpi.formula.evaluate(sums), False
