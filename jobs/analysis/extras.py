"""What status replies and digests add from the review partner: the change against each baseline that exists
(last year, the 4-period average, a named baseline) and the weekday-aware projection with its range."""

from __future__ import annotations

from datetime import timedelta

from jobs.analysis.baselines import baseline_figures
from jobs.analysis.messages import T
from jobs.present.formatting import kpi_value
from jobs.present.reply import Figure
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.projection import Projection, project_with_range
from storage.kpi.references import AVG4, BASELINE, YEAR
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.kpi.why import compare
from storage.repositories import facts as fact_repo

EXTRA_REFERENCES = (YEAR, AVG4, BASELINE)  # the previous period is already in every status reply
HISTORY_PERIODS = 8  # past periods read for the projection's range (each with its own weeks of history)


def weekday_projection(engine: KpiEngine, kpi: KpiDef, scope: Scope, period: Period) -> Projection | None:
    """A running period's weekday-aware projection (summed KPIs only): one daily-sums statement."""
    today = engine.today()
    if not kpi.additive or period.end < today or period.start > today:
        return None
    first = period.start
    for _ in range(HISTORY_PERIODS):
        first = engine.calendar.previous(engine.calendar.of_kind(period.kind, first)).start
    first -= timedelta(weeks=8)
    with engine.db.session() as session:
        per_day = fact_repo.daily_sums(session, kpi.metrics, scope, first, min(today, period.end))
    daily = {day: value for day, sums in per_day.items()
             if (value := kpi.formula.evaluate({m: sums.get(m, 0.0) for m in kpi.metrics})) is not None}
    through = max((d for d in daily if d >= period.start), default=None)
    if through is None:
        return None
    return project_with_range(daily, period, through, engine.calendar.previous, HISTORY_PERIODS)


def projection_figure(found: Projection, kpi: KpiDef, *, lang: str, currency: str) -> Figure:
    value = kpi_value(found.value, kpi.unit, currency, lang)
    if found.low is not None and found.high is not None:
        value = T("projection_range", lang, value=value, low=kpi_value(found.low, kpi.unit, currency, lang),
                  high=kpi_value(found.high, kpi.unit, currency, lang))
    return Figure(T("projection_weekday", lang), value)


def status_extras(engine: KpiEngine, kpi: KpiDef, scope: Scope, period: Period, *, lang: str,
                  currency: str) -> list[Figure]:
    figures = baseline_figures(compare(engine, kpi, scope, period, EXTRA_REFERENCES), lang=lang, currency=currency,
                               kinds=EXTRA_REFERENCES)
    if (found := weekday_projection(engine, kpi, scope, period)) is not None:
        figures.append(projection_figure(found, kpi, lang=lang, currency=currency))
    return figures
