"""The KPI workspace the attainment benchmark reads: N facts for 200 members × the built-in metrics
× 2 years, spread evenly over the days, plus members, roles and this month's targets.

Each day carries the same (member, metric, source) cells: team-level metrics first, then each
member's metrics in the order their role uses them (a host's GMV and live metrics before the rest),
then the same again for further sources (cross-border shops sell on several) — so 1 M facts give
every member at least the metrics of their role, and 10 M fill every cell across 4 sources.

Generation is setup, not the measured path: rows go in with executemany (SQLite, the non-unique
index rebuilt afterwards) or COPY (PostgreSQL). The SQLite file is cached under bench/.data/,
keyed by the parameters and the schema's migration head, so reruns skip generation.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.harness import DATA_DIR, NotAvailable, say
from storage.db import Database
from storage.kpi.builtins import RAW_METRICS
from storage.kpi.periods import Calendar
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo
from storage.repositories import targets as target_repo

GENERATOR_VERSION = 1
END = date(2026, 11, 20)  # the engine's "today": two thirds into a month, so pacing has work to do
SOURCES = ("tiktok-shop", "amazon", "shopee", "store")
TEAM_METRICS = ("gmv", "orders", "paid_orders", "clicks", "impressions", "add_to_cart", "returns",
                "negative_reviews", "review_response_hours")
ROLE_METRICS: dict[str, tuple[str, ...]] = {
    "host": ("gmv", "orders", "live_sessions", "live_viewers", "watch_seconds", "live_orders"),
    "ad_buyer": ("ad_spend", "impressions", "clicks", "orders", "gmv"),
    "editor": ("videos_published", "video_views", "views_3s", "completions"),
    "ops_manager": ("returns", "negative_reviews", "review_response_hours", "add_to_cart", "clicks", "orders", "gmv"),
}
ROLE_SHARE = (("host", 0.4), ("ad_buyer", 0.25), ("editor", 0.25), ("ops_manager", 0.10))
MAGNITUDE = {  # typical daily value per cell, so sums and ratios look like a shop's
    "gmv": 4000.0, "orders": 110.0, "paid_orders": 100.0, "ad_spend": 900.0, "impressions": 120_000.0,
    "clicks": 1800.0, "add_to_cart": 500.0, "live_sessions": 1.5, "live_viewers": 1800.0,
    "watch_seconds": 120_000.0, "live_orders": 90.0, "videos_published": 3.0, "video_views": 24_000.0,
    "views_3s": 9800.0, "completions": 2900.0, "returns": 6.0, "negative_reviews": 3.0,
    "review_response_hours": 22.0, "ad_gmv": 3600.0, "marketing_spend": 1500.0, "new_customers": 40.0,
    "customers": 100.0, "repeat_customers": 30.0, "promoters": 20.0, "passives": 10.0, "detractors": 5.0,
    "ltv": 180.0,
}
UPDATED_AT = "2026-11-20 06:00:00.000000"  # SQLAlchemy's SQLite DateTime text form, UTC


@dataclass(frozen=True)
class Member:
    key: str
    name: str
    role: str


@dataclass(frozen=True)
class DatasetSpec:
    rows: int
    members: int = 200
    days: int = 730
    end: date = END
    seed: int = 8
    shops: int = 0  # members sell in shops: member n's facts go to shop n mod `shops` (team-level rows to none)

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    def cache_name(self, schema_head: str) -> str:
        shops = f"-sh{self.shops}" if self.shops else ""
        return (f"facts-{self.rows}-m{self.members}-d{self.days}-{self.end.isoformat()}-s{self.seed}{shops}"
                f"-g{GENERATOR_VERSION}-r{schema_head}.db")


SHOP_NAMES = ("tiktok-us", "amazon-us", "shopee-sg", "tmall-cn", "lazada-my", "jd-cn", "ebay-uk", "temu-us")


def shop_of(spec: DatasetSpec, member: str) -> str:
    """The shop of a member's facts ('' for team-level rows, or when the spec has no shops)."""
    if not spec.shops or not member:
        return ""
    return SHOP_NAMES[int(member[1:5]) % spec.shops]


def team(spec: DatasetSpec) -> list[Member]:
    counts = {role: int(spec.members * share) for role, share in ROLE_SHARE}
    counts[ROLE_SHARE[0][0]] += spec.members - sum(counts.values())  # the remainder are hosts
    out: list[Member] = []
    for role, count in counts.items():
        for _ in range(count):
            number = len(out) + 1
            out.append(Member(f"m{number:04d}@bench.shop", f"Member {number:04d}", role))
    return out


def cells(spec: DatasetSpec, members: list[Member]) -> list[tuple[str, str, str]]:
    """Every (metric, member, source) cell, in the order days are filled."""
    metric_order = {
        m.key: list(ROLE_METRICS[m.role]) + [x for x in RAW_METRICS if x not in ROLE_METRICS[m.role]]
        for m in members
    }
    out: list[tuple[str, str, str]] = []
    for source in SOURCES:
        out.extend((metric, "", source) for metric in TEAM_METRICS)
        for rank in range(len(RAW_METRICS)):
            out.extend((metric_order[m.key][rank], m.key, source) for m in members)
    return out


def fact_rows(spec: DatasetSpec, members: list[Member]) -> Iterator[tuple[str, str, str, str, float]]:
    """(metric, date, member, source, value), date by date, exactly `spec.rows` of them."""
    grid = cells(spec, members)
    capacity = len(grid) * spec.days
    if spec.rows > capacity:
        raise ValueError(f"{spec.rows:,} facts do not fit {spec.members} members × {len(RAW_METRICS)} metrics × "
                         f"{len(SOURCES)} sources × {spec.days} days ({capacity:,}); raise the number of days")
    rng = random.Random(spec.seed)
    uniform = rng.random
    for index in range(spec.days):
        day = (spec.start + timedelta(days=index)).isoformat()
        count = spec.rows * (index + 1) // spec.days - spec.rows * index // spec.days
        for metric, member, source in grid[:count]:
            yield metric, day, member, source, round(MAGNITUDE[metric] * (0.5 + uniform()), 2)


def seed_people_and_targets(db: Database, spec: DatasetSpec, members: list[Member]) -> None:
    """Members with roles, and targets for the month holding `spec.end` (team, and each member of a role)."""
    calendar = Calendar(0)
    month, quarter = calendar.month(spec.end), calendar.quarter(spec.end)
    with db.session() as session:
        for m in members:
            member = member_repo.ensure_member(session, m.key, email=m.key, display_name=m.name)
            member_repo.assign_role(session, member, m.role)
        team_scope = Scope.team()
        for kpi, value in (("gmv", 16_000_000.0), ("orders", 420_000.0), ("aov", 38.0), ("return_rate", 0.05),
                           ("review_response_hours", 8.0), ("add_to_cart_rate", 0.28)):
            target_repo.set_target(session, kpi, team_scope, month, value, "bench")
        target_repo.set_target(session, "gmv", team_scope, quarter, 48_000_000.0, "bench")
        for shop in SHOP_NAMES[:spec.shops]:
            target_repo.set_target(session, "gmv", Scope.of_shop(shop), month, 3_000_000.0, "bench")
        for m in members:
            scope = Scope.member(m.key)
            if m.role == "host":
                target_repo.set_target(session, "gmv", scope, month, 120_000.0, "bench")
                target_repo.set_target(session, "live_cvr", scope, month, 0.05, "bench")
                target_repo.set_target(session, "avg_watch_seconds", scope, month, 65.0, "bench")
            elif m.role == "ad_buyer":
                target_repo.set_target(session, "roas", scope, month, 4.0, "bench")
                target_repo.set_target(session, "ad_spend", scope, month, 27_000.0, "bench")
            elif m.role == "editor":
                target_repo.set_target(session, "videos_published", scope, month, 90.0, "bench")


def small_shop(path: Path, members: int = 10, days: int = 70) -> Database:
    """A migrated SQLite workspace: `members` people with roles, `days` of daily facts (team metrics and
    each member's role metrics) up to END, and this month's targets (digest and ack benchmarks)."""
    from storage.repositories.facts import FactRecord, upsert_facts

    spec = DatasetSpec(rows=days * (len(TEAM_METRICS) + members * 7), members=members, days=days)
    people = team(spec)
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    seed_people_and_targets(db, spec, people)
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, date.fromisoformat(day), value, member, source)
                               for metric, day, member, source, value in fact_rows(spec, people)])
    return db


def schema_head() -> str:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


def sqlite_dataset(spec: DatasetSpec) -> Path:
    """The cached SQLite file for `spec`, generated first when missing."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / spec.cache_name(schema_head())
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    say(f"  generating {spec.rows:,} facts into {path.name} (cached for reruns) …")
    members = team(spec)
    db = Database(f"sqlite:///{partial}")
    db.upgrade()
    seed_people_and_targets(db, spec, members)
    db.dispose()
    conn = sqlite3.connect(partial)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='fact' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(
            "INSERT INTO fact (metric, date, member, source, value, updated_at, shop) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((*row, UPDATED_AT, shop_of(spec, row[2])) for row in fact_rows(spec, members)),
        )
        for _, sql in indexes:
            conn.execute(sql)
        conn.commit()
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    partial.rename(path)
    return path


def load_postgres(db: Database, spec: DatasetSpec) -> None:
    """Fill a freshly migrated PostgreSQL schema with `spec` (COPY), then ANALYZE the tables the questions
    read, as autovacuum soon would."""
    members = team(spec)
    seed_people_and_targets(db, spec, members)
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fact' "
                           "AND schemaname = current_schema() AND indexname LIKE 'ix_%'")
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            copy_facts(cursor, fact_rows(spec, members), spec=spec)
            for _, sql in indexes:
                cursor.execute(sql)
        conn.commit()
        with conn.cursor() as cursor:
            conn.autocommit = True
            cursor.execute("ANALYZE fact, member, role_assignment, target")
            conn.autocommit = False
    finally:
        raw.close()


def copy_facts(cursor, rows, chunk: int = 50_000, spec: DatasetSpec | None = None) -> None:  # type: ignore[no-untyped-def]
    """COPY (metric, date, member, source, value, updated_at, shop) in text form, a chunk of lines per write."""
    stamp = "2026-11-20 06:00:00+00"
    with cursor.copy("COPY fact (metric, date, member, source, value, updated_at, shop) FROM STDIN") as copy:
        lines: list[str] = []
        for metric, day, member, source, value in rows:
            shop = shop_of(spec, member) if spec is not None else ""
            lines.append(f"{metric}\t{day}\t{member}\t{source}\t{value!r}\t{stamp}\t{shop}\n")
            if len(lines) >= chunk:
                copy.write("".join(lines))
                lines = []
        if lines:
            copy.write("".join(lines))


@contextmanager
def sqlite_connected(path: Path) -> Iterator[tuple[Database, sqlite3.Connection]]:
    """Our database and the floor's raw sqlite3 connection on one file."""
    db = Database(f"sqlite:///{path}")
    conn = sqlite3.connect(path, check_same_thread=False)
    try:
        yield db, conn
    finally:
        conn.close()
        db.dispose()


@contextmanager
def postgres_connected(explicit_url: str | None, spec: DatasetSpec, what: str = "facts",
                       ) -> Iterator[tuple[Database, Any]]:
    """`spec` loaded into a scratch schema: our database and the floor's raw autocommit psycopg connection."""
    import psycopg

    from bench.postgres import configured_url, libpq_dsn, scratch_schema

    base = configured_url(explicit_url)
    if base is None:
        raise NotAvailable("PostgreSQL: set KPIBOT_TEST_DATABASE_URL or pass --postgres URL")
    with scratch_schema(base) as url:
        db = Database(url)
        db.upgrade()
        say(f"  loading {spec.rows:,} {what} into PostgreSQL (COPY) …")
        load_postgres(db, spec)
        conn = psycopg.connect(libpq_dsn(url), autocommit=True)
        try:
            yield db, conn
        finally:
            conn.close()
            db.dispose()


def ack_workspace(name: str, facts: int) -> Path:
    """A fresh scratch folder holding `ack.db` for a server under load: the attainment workspace of `facts`
    facts (copied, since the server writes to it), or the small demo-sized shop when `facts` is 0."""
    folder = DATA_DIR / "scratch" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if facts:
        shutil.copy(sqlite_dataset(DatasetSpec(rows=facts)), folder / "ack.db")
    else:
        small_shop(folder / "ack.db").dispose()
    return folder
