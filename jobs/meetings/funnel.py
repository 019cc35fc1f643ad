"""A funnel review for any scope and period: stage rates against thresholds and the previous period,
stage scores and the biggest leak. Two statements: the stage sums of the period and its predecessor
(like for like while the period runs), and nothing per day or per member."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.digest.funnel import FunnelStage, biggest_leak, funnel_config, funnel_stages
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.registry import Registry
from storage.kpi.scope import Scope
from storage.repositories import facts as fact_repo


@dataclass(frozen=True)
class FunnelReview:
    scope: Scope
    label: str  # who the funnel is about, for side-by-side comparisons
    period: Period
    previous: Period
    stages: list[FunnelStage]

    @property
    def leak(self) -> FunnelStage | None:
        return biggest_leak(self.stages)


def funnel_review(engine: KpiEngine, registry: Registry, scope: Scope, period: Period, label: str = "") -> FunnelReview:
    config = funnel_config(registry)
    previous = engine.calendar.previous(period)
    with engine.db.session() as session:
        current, before = fact_repo.sums_with_previous(session, config.stages, scope, period, previous, engine.today())
    stages = funnel_stages(current.sums, config.thresholds, stages=config.stages,
                           previous=before.sums if before is not None else None)
    return FunnelReview(scope, label, period, previous, stages)


def funnel_by_role(engine: KpiEngine, registry: Registry, period: Period, lang: str) -> list[FunnelReview]:
    """One funnel per role whose members have funnel rows (roles without any are left out)."""
    reviews = [funnel_review(engine, registry, Scope.role(role_id), period, role.label(lang))
               for role_id, role in registry.roles.items()]
    return [review for review in reviews if review.stages]



def funnel_by_shop(engine: KpiEngine, registry: Registry, period: Period, lang: str) -> list[FunnelReview]:
    """One funnel per shop (declared or named by data) with at least one stage-to-stage rate, by its name."""
    with engine.db.session() as session:
        keys = sorted(set(registry.shops) | set(fact_repo.shops_with_data(session)))
    reviews = [funnel_review(engine, registry, Scope.of_shop(key), period,
                             registry.shops[key].name if key in registry.shops else key) for key in keys]
    return [review for review in reviews if any(stage.rate is not None for stage in review.stages)]
