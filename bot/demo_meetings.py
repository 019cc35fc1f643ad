"""The demo's review meetings: flywheel metrics for six months, actions agreed last week, a shop target, and
the daily, weekly (with actions), monthly (with flywheel), personal (Chloe's) and shop (Shopee SG) digests plus
the funnel review (team and by shop) in demo-out/."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from jobs.digest import build_digest
from jobs.digest.daily import collect_daily, daily_reply
from jobs.digest.scoped import resolve_scope
from jobs.meetings.actions import create_action, due_period
from jobs.meetings.funnel import funnel_by_role, funnel_review
from jobs.meetings.funnel_reply import funnel_chart, radar_chart
from jobs.meetings.messages import T
from jobs.outbox import FileOutbox
from jobs.present.formatting import period_label
from jobs.present.reply import Reply
from jobs.timing import engine_as_of
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.scope import Scope
from storage.repositories.audit import Actor
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.targets import set_target

CRM = "crm"
# `digest subscribe me weekly mon 09:00` as Chloe (the host behind plan, with an action from last week): her own
# review — her KPIs, pacing, composite radar and her action only
PERSONAL = "chloe@demo.shop"
SHOP = "shopee-sg"  # `digest subscribe #sg weekly mon 09:00 shop:shopee-sg`: that shop's rows and targets only


def flywheel_facts(today: date, seed: int = 11) -> list[FactRecord]:
    """Monthly CRM figures for the last seven months (one row per month; LTV a level). The month before
    this one reports no marketing spend, so its CAC falls back to ad spend (a part of marketing spend, so
    somewhat lower) and says so."""
    rng = random.Random(seed)
    out: list[FactRecord] = []
    first = date(today.year, today.month, 1)
    for back in range(6, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        day = date(year, month + 1, 1)
        growth = 1 + 0.04 * (6 - back)
        new = round(900 * growth * rng.uniform(0.9, 1.1))
        customers = round(5200 * growth)
        answers = {"promoters": 0.52 + 0.01 * (6 - back), "passives": 0.30, "detractors": 0.18 - 0.01 * (6 - back)}
        rows = {"new_customers": new, "customers": customers, "repeat_customers": round(customers * (0.24 + 0.008 *
                (6 - back)) * rng.uniform(0.95, 1.05)), "ltv": round(118 * growth * rng.uniform(0.98, 1.02), 2)}
        rows |= {name: round(400 * share) for name, share in answers.items()}
        if back != 1:  # all marketing, ad spend (~$100 per new customer in the demo) included: ~$115 each
            rows["marketing_spend"] = round(new * 115 * rng.uniform(0.95, 1.05))
        out += [FactRecord(metric, day, value, source=CRM) for metric, value in rows.items()]
    return out


def paid_orders_of_members(facts: list[FactRecord]) -> list[FactRecord]:
    """The base demo pays only the shop's own orders; members' orders are paid too (96 %), in their shop, so
    the funnel's last stage is not a false leak (for the team or for TikTok Shop US)."""
    return [FactRecord("paid_orders", f.date, round(f.value * 0.96), member=f.member, source=f.source, shop=f.shop)
            for f in facts if f.metric == "orders" and f.member]


def seed_meetings(db: Database, engine: KpiEngine, admin: str, base_facts: list[FactRecord]) -> None:
    """`base_facts`: the demo's generated facts (their members' orders get paid orders)."""
    with db.session() as session:
        upsert_facts(session, flywheel_facts(engine.today()) + paid_orders_of_members(base_facts))
        month = engine.calendar.month(engine.today())  # Shopee SG's own GMV target, for its shop digest
        set_target(session, "gmv", Scope.of_shop(SHOP), month, round(36_000 * month.days / 30), admin)
    last_week = engine_as_of(engine, engine.today() - timedelta(days=7))
    actor = Actor("console", admin, admin)
    created = datetime.combine(last_week.today(), time(10), tzinfo=UTC)
    this_week = due_period(engine.calendar, engine.calendar.week(engine.today()).key, engine.today())
    create_action(last_week, actor, owner="chloe@demo.shop", text="Two extra evening live sessions a week",
                  kpi_id="gmv", due=this_week, now=created)
    create_action(last_week, actor, owner="dan@demo.shop", text="Pause the three campaigns below ROAS 1.5",
                  kpi_id="roas", due=engine.calendar.previous(engine.calendar.week(engine.today())), now=created)
    create_action(last_week, actor, owner="finn@demo.shop", text="Test new hooks in the first 3 seconds",
                  now=created)


def write_meeting_digests(engine: KpiEngine, folder: Path, currency: str) -> list[Path]:
    """Daily, weekly (with actions) and monthly (with flywheel) digests, the funnel review (team and by shop),
    Chloe's own weekly review (`me`) and a shop's, en + zh."""
    registry, today = engine.registry, engine.today()
    outbox = FileOutbox(folder)
    written = []
    month_start = date(today.year, today.month, 1)
    for lang in ("en", "zh"):
        scope = resolve_scope(engine, registry, "team", "", [], lang)
        posts: list[tuple[str, Reply]] = [
            (f"daily-{today - timedelta(days=1)}", daily_reply(collect_daily(engine, scope, today), lang=lang,
                                                               currency=currency)),
            ("weekly-actions", build_digest(engine, registry, lang=lang, currency=currency, cadence="weekly")),
            ("monthly-flywheel", build_digest(engine, registry, lang=lang, currency=currency, cadence="monthly",
                                              today=month_start)),
            ("funnel-review", _funnel_post(engine, lang)),
            ("funnel-by-shop", _funnel_by_shop_post(engine, lang)),
            ("weekly-chloe", build_digest(engine, registry, lang=lang, currency=currency, cadence="weekly",
                                         who=resolve_scope(engine, registry, "member", PERSONAL, [], lang),
                                         personal=True)),
            ("weekly-shop", build_digest(engine, registry, lang=lang, currency=currency, cadence="weekly",
                                         who=resolve_scope(engine, registry, "shop", SHOP, [], lang))),
        ]
        for name, reply in posts:
            reply.charts = [replace(c, name=f"{name}-{c.name.removesuffix('.png')}-{lang}.png") for c in reply.charts]
            written.append(Path(outbox.send(".", reply, idempotency_key=f"digest-{name}-{lang}")))
    return written


def _funnel_post(engine: KpiEngine, lang: str) -> Reply:
    from jobs.meetings.funnel_reply import funnel_table, leak_sentence

    registry = engine.registry
    week = engine.calendar.previous(engine.calendar.week(engine.today()))
    label = period_label(week, lang)
    team = funnel_review(engine, registry, Scope.team(), week, T("team", lang))
    title = T("funnel_title", lang, who=T("team", lang), period=label)
    reply = Reply(title=title, lang=lang, tables=[funnel_table(team, registry, lang)],
                  footnotes=[leak_sentence(team, registry, lang)])
    reply.charts.append(funnel_chart(team, registry, lang, title))
    by_role = [team, *funnel_by_role(engine, registry, week, lang)]
    reply.charts.append(radar_chart(by_role, registry, lang, T("radar_title", lang, who=T("team", lang), period=label)))
    return reply


def _funnel_by_shop_post(engine: KpiEngine, lang: str) -> Reply:
    from jobs.meetings.funnel import funnel_by_shop
    from jobs.meetings.funnel_reply import funnel_table, leak_sentence

    registry = engine.registry
    week = engine.calendar.previous(engine.calendar.week(engine.today()))
    label = period_label(week, lang)
    shops = funnel_by_shop(engine, registry, week, lang)
    title = T("funnel_compare_title", lang, by=T("by_shop", lang), period=label)
    reply = Reply(title=title, lang=lang, tables=[funnel_table(r, registry, lang, title=r.label) for r in shops],
                  footnotes=[f"{r.label}: {leak_sentence(r, registry, lang)}" for r in shops])
    if shops:
        reply.charts.append(radar_chart(shops, registry, lang, T("radar_title", lang, who=T("by_shop", lang),
                                                                   period=label)))
    return reply
