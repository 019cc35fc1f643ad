"""Shared data and test doubles for the scheduler / digest / alert / ledger tests.

The review fixture (team timezone UTC, weeks start Monday; "today" is Monday 2026-11-23, so the
reviewed week is 2026-W47 = Nov 16–22 and the pacing month is November, 30 days, data through Nov 22):

    member  role      metric    Nov 1–15 per day   Nov 16–22 per day   source
    alice   host      gmv       800                1000                api
    bob     host      gmv       500                450                 api
    (team)  -         gmv       300                300                 tiktok-shop
    carol   ad_buyer  ad_spend  100                150                 api
    (team)  -         impressions / clicks / add_to_cart / orders: 10000 / 200 / 40 / 10 per day, Nov 16–22 only
    (team)  -         returns   2 on Nov 20 only                       sheet   (→ stale: nothing for Nov 22)

Targets for November: team gmv 45,000; alice gmv 30,000; bob gmv 15,000.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jobs.present.reply import Reply
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import Registry, load_registry
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.targets import set_target

TODAY = date(2026, 11, 23)  # a Monday
NOVEMBER = Calendar(0).month(TODAY)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def seed_review_fixture(db: Database) -> None:
    with db.session() as session:
        for key, name, role in (("alice", "Alice", "host"), ("bob", "Bob", "host"), ("carol", "Carol", "ad_buyer")):
            member_repo.assign_role(session, member_repo.ensure_member(session, key, display_name=name), role)
        records: list[FactRecord] = []
        for day in days(date(2026, 11, 1), date(2026, 11, 22)):
            second_half = day >= date(2026, 11, 16)
            records += [
                FactRecord("gmv", day, 1000 if second_half else 800, member="alice"),
                FactRecord("gmv", day, 450 if second_half else 500, member="bob"),
                FactRecord("gmv", day, 300, source="tiktok-shop"),
                FactRecord("ad_spend", day, 150 if second_half else 100, member="carol"),
            ]
            if second_half:
                records += [
                    FactRecord("impressions", day, 10000, source="tiktok-shop"),
                    FactRecord("clicks", day, 200, source="tiktok-shop"),
                    FactRecord("add_to_cart", day, 40, source="tiktok-shop"),
                    FactRecord("orders", day, 10, source="tiktok-shop"),
                ]
        records.append(FactRecord("returns", date(2026, 11, 20), 2, source="sheet"))
        upsert_facts(session, records)
        set_target(session, "gmv", Scope.team(), NOVEMBER, 45000, "test")
        set_target(session, "gmv", Scope.member("alice"), NOVEMBER, 30000, "test")
        set_target(session, "gmv", Scope.member("bob"), NOVEMBER, 15000, "test")


def make_engine(db: Database, registry: Registry | None = None, *, today: date | None = None,
                tz: str = "UTC") -> KpiEngine:
    registry = registry or load_registry()
    return KpiEngine(db, registry, tz=ZoneInfo(tz), week_start=0, today=(lambda: today) if today else None)


@dataclass
class Sent:
    channel: str
    reply: Reply
    idempotency_key: str | None
    message_id: str


@dataclass
class RecordingOutbox:
    """A test double of a chat platform's outbox: records each post; optionally fails the first N sends
    whose idempotency key contains `fail_when` (or every send when `fail_times` is None)."""

    platform: str = "slack"
    fail_when: str | None = None
    fail_times: int | None = 0
    sent: list[Sent] = field(default_factory=list)
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        with self._lock:
            failing = self.fail_when is not None and self.fail_when in (idempotency_key or "")
            if failing and (self.fail_times is None or self.failures < self.fail_times):
                self.failures += 1
                raise ConnectionError(f"platform unavailable ({self.failures})")
            message_id = f"{self.platform}-msg-{len(self.sent) + 1}"
            self.sent.append(Sent(channel, reply, idempotency_key, message_id))
            return message_id

    def direct_channel(self, user_id: str) -> str | None:
        return user_id  # like Slack: posting to a user id reaches them directly

    def keys(self) -> list[str | None]:
        return [s.idempotency_key for s in self.sent]


class LineFileOutbox:
    """Cross-process test double: appends one line per post to a file (subprocess workers)."""

    platform = "slack"

    def __init__(self, path: Path, worker: str) -> None:
        self.path = path
        self.worker = worker

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{self.worker}\t{channel}\t{idempotency_key}\n")
        return f"{self.worker}-{idempotency_key}"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def subscribe(db: Database, *, timezone: str = "Asia/Shanghai", created_at: datetime | None = None,
              cadence: str = "weekly", day: str = "mon", time: str = "09:00", channel: str = "C1",
              lang: str = "en") -> int:
    """A Slack digest subscription made by "admin"; `created_at` back-dates it. Returns its id."""
    from storage.repositories.subscriptions import add_subscription

    with db.session() as session:
        sub = add_subscription(session, platform="slack", channel=channel, cadence=cadence, day=day, time=time,
                               timezone=timezone, lang=lang, created_by="admin")
        if created_at is not None:
            sub.created_at = created_at
        session.add(sub)
        session.flush()
        assert sub.id is not None
        return sub.id


def add_due_subscription(db: Database, *, channel: str, minutes_ago: int = 10) -> int:
    """A weekly UTC subscription whose latest fire time was `minutes_ago` minutes ago (real clock)."""
    from storage.repositories.subscriptions import WEEKDAYS

    fire = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return subscribe(db, timezone="UTC", created_at=fire - timedelta(days=1), day=WEEKDAYS[fire.weekday()],
                     time=f"{fire:%H:%M}", channel=channel)


WORKER_COMMAND = "from tests.fixtures_jobs import run_worker; run_worker()"


def run_worker() -> None:
    """A `kpibot serve`-like process for the subprocess tests. Environment: KPIBOT_WORKER_URL (database),
    KPIBOT_WORKER_OUT (file the outbox appends to), KPIBOT_WORKER_NAME, KPIBOT_WORKER_SECONDS (lifetime cap).
    Prints LEADER or FOLLOWER once it has tried to take the scheduler lock."""
    import logging
    import os
    import sys
    import time

    from jobs.service import JobService
    from storage.settings import load_settings

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    url = os.environ["KPIBOT_WORKER_URL"]
    db = Database(url)
    engine = make_engine(db)
    service = JobService(
        db=db, registry=engine.registry, settings=load_settings(_env_file=None, DATABASE_URL=url), engine=engine,
        outboxes={"slack": LineFileOutbox(Path(os.environ["KPIBOT_WORKER_OUT"]), os.environ["KPIBOT_WORKER_NAME"])},
        digest_charts=False, leader_retry_seconds=0.5, tick_seconds=3600,
    )
    print("LEADER" if service.start() else "FOLLOWER", flush=True)
    deadline = time.monotonic() + float(os.environ.get("KPIBOT_WORKER_SECONDS", "30"))
    while time.monotonic() < deadline:
        time.sleep(0.1)
    service.stop()
    db.dispose()
