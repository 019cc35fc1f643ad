"""Building the review digest and sending it at once (`digest now`); the package re-exports these."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

from jobs.digest.charts import digest_charts
from jobs.digest.data import DigestData, collect, review_periods
from jobs.digest.funnel import STAGES as FUNNEL_STAGES
from jobs.digest.meetings import add_actions, add_flywheel, add_radar, owners_of
from jobs.digest.render import digest_reply
from jobs.digest.scoped import DigestScope
from jobs.outbox import FileOutbox, Outbox
from jobs.present.reply import Reply
from jobs.sources import stale_sources_for
from jobs.timing import engine_as_of
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry

log = logging.getLogger(__name__)


def collect_digest(
    engine: KpiEngine, registry: Registry, *, lang: str, cadence: str = "weekly", today: date | None = None,
    stale_sources: list[str] | None = None, who: DigestScope | None = None,
) -> DigestData:
    """The digest's figures. `stale_sources=None` looks them up; pass a list to name them yourself.
    `who`: a role's, a shop's or a member's digest instead of the team's."""
    if today is not None:
        engine = engine_as_of(engine, today)
    if stale_sources is None:
        stale_sources = _stale_sources(engine, registry)
    return collect(engine, registry, cadence=cadence, stale_sources=stale_sources, lang=lang, who=who)


def _stale_sources(engine: KpiEngine, registry: Registry) -> list[str]:
    """Stale sources as `sources` reports them (newest data older than the source's expected lag) among
    those that fed any KPI metric lately."""
    metrics = {m for kpi in registry.kpis.values() for m in kpi.metrics} | set(FUNNEL_STAGES)
    return stale_sources_for(engine.db, registry, sorted(metrics), engine.today())


def build_digest(
    engine: KpiEngine, registry: Registry, *, lang: str, currency: str, cadence: str = "weekly",
    today: date | None = None, stale_sources: list[str] | None = None, with_charts: bool = True,
    who: DigestScope | None = None, personal: bool = False,
) -> Reply:
    """`who`: whom the digest is about (default the team); `personal`: it goes to that member themselves.
    The weekly one opens with the actions (a member's own, a role's members', none for a shop); the
    monthly team digest ends with the flywheel; a member's digest shows their composite-score radar."""
    data = collect_digest(engine, registry, lang=lang, cadence=cadence, today=today, stale_sources=stale_sources,
                          who=who)
    reply = digest_reply(data, registry, lang=lang, currency=currency, personal=personal)
    as_of = engine_as_of(engine, data.today)
    owners = owners_of(as_of, who)
    if cadence == "weekly" and owners != set():
        add_actions(reply, as_of, data, lang, currency, owners=owners)
    elif cadence == "monthly" and (who is None or who.is_team):
        add_flywheel(reply, as_of, data, lang, currency, with_charts)
    if who is not None and who.owner:
        add_radar(reply, data, who, lang, with_charts)
    if with_charts:
        try:
            reply.charts.extend(digest_charts(data, registry, lang=lang, currency=currency))
        except Exception:  # the figures are worth sending without their pictures
            log.exception("rendering the digest's charts failed; sending it without charts")
    return reply


def build_weekly_digest(
    engine: KpiEngine, registry: Registry, *, lang: str, currency: str, today: date | None = None,
    stale_sources: list[str] | None = None, with_charts: bool = True,
) -> Reply:
    """The weekly review: the last complete week (per KPIBOT_WEEK_START) before `today` (default: the
    engine's today), with month-to-date pacing."""
    return build_digest(engine, registry, lang=lang, currency=currency, cadence="weekly", today=today,
                        stale_sources=stale_sources, with_charts=with_charts)


def send_weekly_digest(
    engine: KpiEngine, registry: Registry, outbox: Outbox, channel: str, *, lang: str, currency: str,
    with_charts: bool = True,
) -> str:
    """Post this week's review at once (`digest now`): not a scheduled send, so not ledgered."""
    reply = build_weekly_digest(engine, registry, lang=lang, currency=currency, with_charts=with_charts)
    return outbox.send(channel, reply)


def write_demo_digest(engine: KpiEngine, registry: Registry, folder: Path, lang: str, currency: str) -> Path:
    """Write the weekly digest as markdown plus its PNG charts into `folder`; returns `folder`. Chart files
    carry the language (`funnel-zh.png`) so an English and a Chinese digest can share the folder."""
    reply = build_weekly_digest(engine, registry, lang=lang, currency=currency)
    reply.charts = [replace(chart, name=chart.name.replace(".png", f"-{lang}.png")) for chart in reply.charts]
    review, _ = review_periods(engine.calendar, "weekly", engine.today())
    folder.mkdir(parents=True, exist_ok=True)
    FileOutbox(folder).send(".", reply, idempotency_key=f"digest-{review.key}-{lang}")
    return folder
