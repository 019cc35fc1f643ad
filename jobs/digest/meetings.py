"""What a review meeting adds to the digest: the weekly one opens with the actions agreed last time, the
monthly one closes with the growth flywheel."""

from __future__ import annotations

import logging

from jobs.digest.data import DigestData
from jobs.present.reply import Reply
from jobs.reviews.actions import actions_summary, actions_table, review_actions
from jobs.reviews.flywheel import flywheel
from jobs.reviews.flywheel_reply import flywheel_chart, flywheel_notes, flywheel_table
from storage.kpi.engine import KpiEngine
from storage.repositories import members as member_repo

log = logging.getLogger(__name__)


def add_actions(reply: Reply, engine: KpiEngine, data: DigestData, lang: str, currency: str) -> None:
    """First figure and first table: open, done and overdue actions, and each tied KPI's move."""
    lines = review_actions(engine, data.review, data.today)
    reply.figures.insert(0, actions_summary(lines, lang))
    if lines:
        with engine.db.session() as session:
            names = member_repo.display_names(session, sorted({line.item.owner for line in lines}))
        reply.tables.insert(0, actions_table(lines, names, lang, currency))


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
