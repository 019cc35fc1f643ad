"""The figures of a review digest, gathered through the KPI engine (SQL aggregates only).

Queries: the team's KPIs for the reviewed period and the pacing period (the engine's `statuses`, 4 each),
for each role its members × KPIs for the reviewed period and — when any member has data — for the previous
and pacing periods too (`member_scores`, ~5 each), one funnel sum and one daily series for the pace chart.
The count depends on the number of roles, never on days, members or fact rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jobs.digest.funnel import FunnelStage
from jobs.digest.messages import T
from jobs.digest.movers import Mover, RiskItem, RoleReview, at_risk, biggest_movers
from jobs.digest.review import ReviewSections, collect_review
from jobs.digest.scoped import DigestScope
from jobs.meetings.funnel import FunnelReview, funnel_review
from storage.kpi.attainment import KpiStatus
from storage.kpi.engine import BoardRow, KpiEngine
from storage.kpi.periods import Calendar, Period
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.repositories import facts as fact_repo

PACE_KPI = "gmv"


@dataclass(frozen=True)
class DigestData:
    cadence: str  # weekly | monthly
    today: date
    review: Period  # the last complete week (or month)
    previous_review: Period  # the one before it (week-over-week changes)
    pacing: Period  # the month (or quarter) holding the review's last day, to date
    team_review: list[KpiStatus]
    team_pacing: list[KpiStatus]
    roles: list[RoleReview]
    movers: list[Mover]
    at_risk: list[RiskItem]
    funnel_review: FunnelReview
    pace_kpi: KpiDef | None
    pace_daily: dict[date, float]  # the pace KPI's value per day of the pacing period
    stale_sources: list[str]
    review_sections: ReviewSections = field(default_factory=ReviewSections)  # unusual days, baselines, why
    shops: list[BoardRow] = field(default_factory=list)  # the pace KPI per shop, to date (2+ shops only)
    who: DigestScope | None = None  # whom the digest is about; None: the team (every KPI and role)

    @property
    def label(self) -> str | None:
        """The scope's name for titles (`Team`, `Hosts`, `TikTok Shop US`, `Alice`); None for the team."""
        return self.who.label if self.who is not None else None

    @property
    def funnel(self) -> list[FunnelStage]:
        return self.funnel_review.stages

    @property
    def has_funnel(self) -> bool:
        """At least one stage-to-stage rate: a shop with orders only has no funnel to review."""
        return any(stage.rate is not None for stage in self.funnel)

    @property
    def data_through(self) -> date | None:
        days = [st.data_through for st in self.team_review if st.data_through]
        return max(days, default=None)

    def pace_status(self) -> KpiStatus | None:
        return next((st for st in self.team_pacing if self.pace_kpi and st.kpi.id == self.pace_kpi.id), None)

    def review_status(self) -> KpiStatus | None:
        return next((st for st in self.team_review if self.pace_kpi and st.kpi.id == self.pace_kpi.id), None)


def review_periods(calendar: Calendar, cadence: str, today: date) -> tuple[Period, Period]:
    """(reviewed period, pacing period): last complete week + its month, or last complete month + its quarter."""
    if cadence == "monthly":
        review = calendar.previous(calendar.month(today))
        return review, calendar.quarter(review.end)
    review = calendar.previous(calendar.week(today))
    return review, calendar.month(review.end)


def collect(
    engine: KpiEngine, registry: Registry, *, cadence: str, stale_sources: list[str], lang: str,
    who: DigestScope | None = None,
) -> DigestData:
    """`who`: the scope the digest is about (default the team): its KPIs for the reviewed and pacing
    periods, the member tables of its roles, its funnel, movers and risks among those."""
    today = engine.today()
    review, pacing = review_periods(engine.calendar, cadence, today)
    scope = who.scope if who is not None else Scope.team()
    kpis = who.kpis if who is not None else [registry.kpis[k] for k in registry.team_kpis if k in registry.kpis]
    role_ids = who.roles if who is not None else tuple(registry.roles)
    only = who.only_kpis if who is not None else None
    team_review = engine.statuses(kpis, scope, review) if kpis else []
    team_pacing = engine.statuses(kpis, scope, pacing) if kpis else []
    roles = [r for r in (_role_review(engine, registry, role_id, review, pacing, only) for role_id in role_ids) if r]
    pace_kpi = _pace_kpi(registry, kpis)
    pace_daily: dict[date, float] = {}
    if pace_kpi is not None:
        for day, sums in engine.daily(pace_kpi, scope, pacing).items():
            value = pace_kpi.formula.evaluate({m: sums.get(m, 0.0) for m in pace_kpi.metrics})
            if value is not None:
                pace_daily[day] = value
    with engine.db.session() as session:
        history_from = fact_repo.first_date(session)
    previous_review = engine.calendar.previous(review)
    label = who.label if who is not None else _team_label(lang)
    return DigestData(
        cadence=cadence, today=today, review=review, previous_review=previous_review,
        pacing=pacing, team_review=team_review, team_pacing=team_pacing, roles=roles,
        movers=biggest_movers(team_review, roles, team_label=label,
                              previous_complete=history_from is not None and history_from <= previous_review.start),
        at_risk=at_risk(team_pacing, roles, team_label=label),
        funnel_review=funnel_review(engine, registry, scope, review),
        pace_kpi=pace_kpi, pace_daily=pace_daily, stale_sources=list(stale_sources),
        review_sections=collect_review(engine, registry, review, kpis, pace_kpi, pacing, scope=scope,
                                       scope_label=who.label if who is not None and not who.is_team else ""),
        shops=_shops(engine, pace_kpi, pacing) if who is None or who.is_team else [],
        who=who if who is not None and not who.is_team else None,
    )


def _shops(engine: KpiEngine, kpi: KpiDef | None, pacing: Period) -> list[BoardRow]:
    """Shops side by side on the pace KPI, when there is more than one to compare."""
    if kpi is None:
        return []
    rows = engine.shop_board(kpi, pacing)
    return rows if len(rows) > 1 else []


def _role_review(
    engine: KpiEngine, registry: Registry, role_id: str, review: Period, pacing: Period,
    only: frozenset[str] | None = None,
) -> RoleReview | None:
    role = registry.roles[role_id]
    kpis = [registry.kpis[k] for k in role.kpis if k in registry.kpis and (only is None or k in only)]
    if not kpis:
        return None
    week = engine.member_scores(kpis, role_id, review, role.kpis)
    if not any(st.actual is not None for score in week for st in score.statuses):
        return None  # no members, or none with data for the role's KPIs (e.g. team-level metrics only)
    previous = engine.member_scores(kpis, role_id, engine.calendar.previous(review), role.kpis)
    pace = engine.member_scores(kpis, role_id, pacing, role.kpis)
    return RoleReview(role=role, kpis=kpis, review=week, previous=previous, pacing=pace)


def _pace_kpi(registry: Registry, team_kpis: list[KpiDef]) -> KpiDef | None:
    """GMV when the digest shows it, else its first summed KPI (an editor's digest paces videos)."""
    preferred = registry.kpis.get(PACE_KPI)
    if preferred is not None and preferred.additive and preferred in team_kpis:
        return preferred
    return next((k for k in team_kpis if k.additive), None)


def _team_label(lang: str) -> str:
    return T("team", lang)
