"""`kpibot demo`: a demo team in its own SQLite file, then a few answers, printed.

One team selling in two shops: TikTok Shop US (USD, the reporting currency) with 3 live hosts, 2 ad
buyers, 2 video editors and an ops manager, and Shopee SG (SGD, converted at a month rate; its feed
runs a day behind the other, so figures are paced to its date and the reply names it). 10 weeks of
daily facts for every built-in metric (weekends busier, a 3-day promo, one host clearly behind), ad GMV
attributed to the ad buyers, ad spend against a budget, targets for this month and this quarter.
Random but seeded, so a run is reproducible for a date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from bot.core.bot import KpiBot
from bot.demo_meetings import seed_meetings, write_meeting_digests
from bot.testing import TestAdapter
from jobs.outbox import FileOutbox
from storage.db import Database
from storage.kpi.periods import Calendar, today_in
from storage.kpi.registry import Registry, ShopDef, load_registry
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo
from storage.repositories import targets as target_repo
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.fx import rate_span, set_rates
from storage.settings import Settings, load_settings

DAYS = 70
PROMO_DAYS_AGO = (24, 23, 22)  # a 3-day promo, e.g. a mid-month sale
PRICE_CHANGE_DAYS_AGO = 10  # order value +15 % from this day (a note says so)
UNUSUAL_DAYS_AGO = 3  # a video went viral: organic orders ×3 for one day, no note (`unusual` finds it)
MAIN_SHOP = "tiktok-us"
SECOND_SHOP, SECOND_SOURCE, SGD_PER_USD = "shopee-sg", "shopee-sg", 0.74  # 1 SGD = 0.74 USD, every month
SHOPS = {
    MAIN_SHOP: ShopDef(MAIN_SHOP, "TikTok Shop US", "tiktok", "US", "USD"),
    SECOND_SHOP: ShopDef(SECOND_SHOP, "Shopee SG", "shopee", "SG", "SGD"),
}


@dataclass(frozen=True)
class DemoMember:
    key: str
    name: str
    role: str
    strength: float  # 1.0 = on plan


MEMBERS = [
    DemoMember("anna@demo.shop", "Anna Li", "host", 1.08),
    DemoMember("ben@demo.shop", "Ben Wu", "host", 1.0),
    DemoMember("chloe@demo.shop", "Chloe Zhang", "host", 0.68),  # clearly behind
    DemoMember("dan@demo.shop", "Dan Chen", "ad_buyer", 1.05),
    DemoMember("eva@demo.shop", "Eva Lin", "ad_buyer", 0.93),
    DemoMember("finn@demo.shop", "Finn Zhou", "editor", 1.02),
    DemoMember("gina@demo.shop", "Gina Xu", "editor", 0.95),
    DemoMember("hana@demo.shop", "Hana Wang", "ops_manager", 1.0),
]
ADMIN = "hana@demo.shop"


def day_factor(day: date, today: date) -> float:
    factor = 1.25 if day.weekday() >= 5 else 1.0
    if (today - day).days in PROMO_DAYS_AGO:
        factor *= 2.2
    return factor


def generate_facts(today: date, seed: int = 7) -> list[FactRecord]:
    rng = random.Random(seed)
    facts: list[FactRecord] = []

    def add(metric: str, day: date, value: float, member: str = "") -> None:
        if metric in ("gmv", "ad_gmv") and (today - day).days <= PRICE_CHANGE_DAYS_AGO:
            value *= 1.15
        facts.append(FactRecord(metric, day, round(value, 2), member, "demo", shop=MAIN_SHOP))

    def add_sgd(metric: str, day: date, value: float, money: bool = False) -> None:
        """Shopee SG: money arrives in SGD and is stored in USD with the original amount kept."""
        if money:
            sgd = round(value, 2)
            facts.append(FactRecord(metric, day, round(sgd * SGD_PER_USD, 2), "", SECOND_SOURCE, SECOND_SHOP,
                                    sgd, "SGD"))
        else:
            facts.append(FactRecord(metric, day, round(value), "", SECOND_SOURCE, SECOND_SHOP))

    for offset in range(DAYS, 0, -1):
        day = today - timedelta(days=offset)
        f = day_factor(day, today)

        def noise() -> float:
            return rng.uniform(0.9, 1.1)

        for m in MEMBERS:
            if m.role == "host":
                sessions = 2 if day.weekday() >= 5 else 1
                viewers = 1800 * sessions * m.strength * noise() * (1.3 if f > 2 else 1.0)
                live_orders = viewers * 0.05 * m.strength * noise()
                add("live_sessions", day, sessions, m.key)
                add("live_viewers", day, round(viewers), m.key)
                add("watch_seconds", day, round(viewers * 70 * m.strength * noise()), m.key)
                add("live_orders", day, round(live_orders), m.key)
                add("orders", day, round(live_orders), m.key)
                add("gmv", day, live_orders * 36 * noise() * (1.1 if f > 2 else 1.0), m.key)
            elif m.role == "ad_buyer":
                spend = 1500 * f * noise()
                impressions = spend / 8.2 * 1000 * noise()
                clicks = impressions * 0.014 * m.strength * noise()
                orders = clicks * 0.045 * m.strength * noise()
                add("ad_spend", day, spend, m.key)
                add("impressions", day, round(impressions), m.key)
                add("clicks", day, round(clicks), m.key)
                add("orders", day, round(orders), m.key)
                gmv = orders * 38 * noise()
                add("gmv", day, gmv, m.key)
                add("ad_gmv", day, gmv, m.key)  # what the ads brought: ROAS = ad_gmv / ad_spend
            elif m.role == "editor":
                videos = rng.choice((2, 3, 3, 4)) * (1 if m.strength >= 1 else rng.choice((1, 1, 0.5)))
                views = videos * 8000 * noise() * f
                add("videos_published", day, round(videos), m.key)
                add("video_views", day, round(views), m.key)
                add("views_3s", day, round(views * 0.41 * m.strength * noise()), m.key)
                add("completions", day, round(views * 0.12 * m.strength * noise()), m.key)
        # The shop itself: organic orders and everything not attributed to one person.
        days_ago = (today - day).days
        organic_orders = 90 * f * noise() * (3.0 if days_ago == UNUSUAL_DAYS_AGO else 1.0)
        add("orders", day, round(organic_orders))
        add("gmv", day, organic_orders * 34 * noise())
        add("paid_orders", day, round(organic_orders * 0.97))
        clicks = 5200 * f * noise()
        add("clicks", day, round(clicks))
        add("impressions", day, round(clicks / 0.021))
        add("add_to_cart", day, round(clicks * 0.31 * noise()))  # ad clicks add to the denominator
        add("returns", day, round(organic_orders * 0.18 * noise()))  # ≈ 5 % of all orders
        reviews = max(1, round(3 * noise()))
        add("negative_reviews", day, reviews)
        add("review_response_hours", day, reviews * 7.5 * noise())
        if offset >= 2:  # Shopee SG's export runs a day behind (T+2)
            sg_orders = 30 * f * noise()
            add_sgd("orders", day, sg_orders)
            add_sgd("gmv", day, sg_orders * 44 * noise(), money=True)
    return facts


def seed_targets(db: Database, calendar: Calendar, today: date) -> None:
    month, quarter = calendar.month(today), calendar.quarter(today)
    per_month = month.days / 30
    team = Scope.team()
    host_gmv = {"anna@demo.shop": 150_000, "ben@demo.shop": 140_000, "chloe@demo.shop": 130_000}
    with db.session() as session:
        def put(kpi: str, scope: Scope, value: float, period=month) -> None:  # type: ignore[no-untyped-def]
            target_repo.set_target(session, kpi, scope, period, value, ADMIN)

        put("gmv", team, 780_000 * per_month)
        put("gmv", team, 780_000 * quarter.days / 30, quarter)
        put("orders", team, 21_000 * per_month)
        put("aov", team, 35.0)
        put("return_rate", team, 0.05)
        put("review_response_hours", team, 8.0)
        put("add_to_cart_rate", team, 0.15)
        for key, value in host_gmv.items():
            put("gmv", Scope.member(key), value * per_month)
            put("gmv", Scope.member(key), value * quarter.days / 30, quarter)
            put("live_viewers_per_session", Scope.member(key), 1700)
            put("avg_watch_seconds", Scope.member(key), 65)
            put("live_cvr", Scope.member(key), 0.05)
        for key in ("dan@demo.shop", "eva@demo.shop"):
            put("roas", Scope.member(key), 3.0)
            put("ad_spend", Scope.member(key), 52_000 * per_month)
            put("cpm", Scope.member(key), 9.0)
            put("cpc", Scope.member(key), 0.65)
            put("ctr", Scope.member(key), 0.013)
        for key in ("finn@demo.shop", "gina@demo.shop"):
            put("videos_published", Scope.member(key), 90 * per_month)
            put("hook_rate_3s", Scope.member(key), 0.40)
            put("completion_rate", Scope.member(key), 0.12)


def demo_registry() -> Registry:
    """The built-ins, with the demo's two shops declared (as a KPI file's `shops:` would)."""
    registry = load_registry(None)
    registry.shops.update(SHOPS)
    return registry


def build_demo(database: Path, settings: Settings | None = None, today: date | None = None) -> KpiBot:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = settings or load_settings(_env_file=None, DATABASE_URL=f"sqlite:///{database}", KPIBOT_ADMINS=ADMIN)
    db = Database(settings.database_url)
    db.upgrade()
    today = today or today_in(settings.tz)
    with db.session() as session:
        for m in MEMBERS:
            member = member_repo.ensure_member(session, m.key, email=m.key, display_name=m.name)
            member_repo.assign_role(session, member, m.role)
        first = today - timedelta(days=DAYS)
        months = {(first + timedelta(days=i)).strftime("%Y-%m") for i in range(DAYS + 1)}
        set_rates(session, [rate_span("SGD", key, SGD_PER_USD) for key in sorted(months)], set_by=ADMIN)
        upsert_facts(session, generate_facts(today))
    core = KpiBot(settings=settings, db=db, registry=demo_registry(), today=lambda: today)
    seed_targets(db, core.engine.calendar, today)
    seed_notes(db, today)
    return core


def seed_notes(db: Database, today: date) -> None:
    """Note 1: the price change (`compare gmv around note 1`); note 2: the promo days (#promo)."""
    with db.session() as session:
        note_repo.add_note(session, today - timedelta(days=PRICE_CHANGE_DAYS_AGO), "raised price on SKU-1 by 15%",
                           ADMIN, kpis=["gmv", "aov"])
        note_repo.add_note(session, today - timedelta(days=max(PROMO_DAYS_AGO)), "mid-month sale", ADMIN,
                           end=today - timedelta(days=min(PROMO_DAYS_AGO)), promo=True)


EXCHANGES = [
    ("hana", "what's our GMV attainment?"),
    ("hana", "board gmv role:host month"),
    ("anna", "me"),
    ("hana", "GMV达成率多少"),
    ("anna", "上周主播排名"),
    ("hana", "why did GMV drop last week"),
    ("hana", "有什么异常"),
    ("hana", "compare gmv around note 1"),
    ("dan", "me"),
]


def run_demo(database: Path, out: Path, stream: TextIO) -> None:
    core = build_demo(database)
    seed_meetings(core.db, core.engine, ADMIN, generate_facts(core.engine.today()))
    adapter = TestAdapter(core)
    for m in MEMBERS:
        adapter.user(m.key.split("@")[0], m.key)
    stream.write(f"kpibot demo — workspace {database} (today {core.engine.today()})\n\n")
    for who, text in EXCHANGES:
        reply = adapter.ask(text, as_user=who)
        stream.write(f"{who}> {text}\n{reply.plain_text()}\n\n")
    for lang, question in (("en", "how are hosts doing last week"), ("zh", "上周主播表现怎么样")):
        answer = adapter.ask(question, as_user="hana")  # a role's review answer, with its composite radar
        answer.charts = [replace(c, name=f"role-host-{c.name.removesuffix('.png')}-{lang}.png") for c in answer.charts]
        FileOutbox(out).send(".", answer, idempotency_key=f"digest-role-host-{lang}")
    written = write_meeting_digests(core.engine, out, core.settings.currency)
    stream.write(f"Daily, weekly (with actions), monthly (with flywheel), personal and shop digests, the funnel "
                 f"review and their charts written to {out} ({len(written)} digests)\n")
