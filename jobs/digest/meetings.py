"""What a review meeting adds to the digest: the weekly one opens with the actions agreed last time, the
monthly one closes with the growth flywheel, and a member's own digest shows how their composite score is
made up (the radar of each KPI's pace attainment)."""

from __future__ import annotations

import logging

from jobs.digest.data import DigestData
from jobs.digest.messages import T
from jobs.digest.scoped import DigestScope
from jobs.meetings.actions import actions_summary, actions_table, review_actions
from jobs.meetings.composite_radar import composite_radar
from jobs.meetings.flywheel import flywheel
from jobs.meetings.flywheel_reply import flywheel_chart, flywheel_notes, flywheel_table
from jobs.present.formatting import period_label
from jobs.present.reply import Figure, Reply
from jobs.present.status import ratio
from storage.kpi.attainment import composite_score
from storage.kpi.engine import KpiEngine
from storage.repositories import members as member_repo

log = logging.getLogger(__name__)


def owners_of(engine: KpiEngine, who: DigestScope | None) -> set[str] | None:
    """Whose actions a digest shows: everyone's (None) for the team, a member's own, a role's members';
    nobody's for a shop (actions belong to people, not shops)."""
    if who is None or who.is_team:
        return None
    if who.owner:
        return {who.owner}
    if who.kind == "role":
        with engine.db.session() as session:
            return {member for member, roles in member_repo.role_map(session).items() if set(roles) & set(who.roles)}
    return set()


def add_actions(reply: Reply, engine: KpiEngine, data: DigestData, lang: str, currency: str,
                owners: set[str] | None = None) -> None:
    """First figure and first table: open, done and overdue actions (of `owners` only, when given), and each
    tied KPI's move."""
    lines = [line for line in review_actions(engine, data.review, data.today)
             if owners is None or line.item.owner in owners]
    reply.figures.insert(0, actions_summary(lines, lang))
    if lines:
        with engine.db.session() as session:
            names = member_repo.display_names(session, sorted({line.item.owner for line in lines}))
        reply.tables.insert(0, actions_table(lines, names, lang, currency))


def add_radar(reply: Reply, data: DigestData, who: DigestScope, lang: str, charts: bool) -> None:
    """A member's composite score to date (their roles' weights) as a figure, and its radar."""
    pacing = period_label(data.pacing, lang)
    score = composite_score(data.team_pacing, who.weights)
    if score is not None:
        reply.figures.append(Figure(T("composite", lang, period=pacing), ratio(score)))
    if not charts:
        return
    try:
        radar = composite_radar([(who.label, data.team_pacing)], lang, T("radar", lang, who=who.label, period=pacing))
    except Exception:  # the tables carry the figures; the picture is a bonus
        log.exception("rendering the composite radar failed; sending the digest without it")
        return
    if radar is not None:
        reply.charts.append(radar)


def add_flywheel(reply: Reply, engine: KpiEngine, data: DigestData, lang: str, currency: str, charts: bool) -> None:
    wheel = flywheel(engine, engine.registry, data.review)
    if wheel.empty:
        reply.footnotes.extend(flywheel_notes(wheel, lang))
        return
    reply.tables.append(flywheel_table(wheel, lang, currency))
    reply.footnotes.extend(flywheel_notes(wheel, lang))
    if charts:
        try:
            reply.charts.append(flywheel_chart(wheel, lang, currency))
        except Exception:  # the table says it all; the picture is a bonus
            log.exception("rendering the flywheel chart failed; sending the digest without it")
