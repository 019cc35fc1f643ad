"""Rate-limit storm (issue 18 §2): throttled answers with an advertised wait are waited out exactly, never
spend an attempt, and end in delivery; past the send deadline the send fails, the admins are told by direct
message (never in the throttling channel), and `digest resend ID` sends it. Real outboxes over HTTP against
the fake platforms; waits are recorded by an injected sleep that advances an injected clock (no real waiting).

Figures are printed (pytest -s): sends, duplicates, lost, told-to-admins."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.feishu.client import FeishuApi
from bot.feishu.outbox import FeishuOutbox
from bot.slack.outbox import ChannelPacer, SlackOutbox
from jobs.delivery import Deliverer, Outcome, RetryPolicy
from jobs.digest.schedule import DigestRunner
from jobs.outbox import Outbox
from storage.db import Database
from storage.repositories import ledger
from tests.delivery_fixtures import Figures, due_subscriptions, figures
from tests.fakes.feishu_api import ADMIN_OPEN_ID, APP_SECRET, FakeFeishu
from tests.fakes.slack_api import ADMIN_ID, BOT_TOKEN, FakeSlack
from tests.fixtures_jobs import make_engine

DIGESTS = 20
STORM = 150
ADVERTISED = 2  # seconds, in Retry-After / x-ogw-ratelimit-reset


class RecordedTime:
    """A clock that moves only when the deliverer sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> datetime:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.now += timedelta(seconds=seconds)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_feishu() -> Iterator[FakeFeishu]:
    with FakeFeishu(app_id=f"cli_storm_{uuid.uuid4().hex[:8]}") as fake:
        yield fake


def slack_outbox(fake: FakeSlack) -> SlackOutbox:
    return SlackOutbox(WebClient(token=BOT_TOKEN, base_url=fake.api_url), pacer=ChannelPacer(0.0))


def feishu_outbox(fake: FakeFeishu) -> FeishuOutbox:
    """Per-chat pacing (5/s) is tested in test_feishu_outbox; here it would only slow the storm down."""
    return FeishuOutbox(FeishuApi(app_id=fake.app_id, app_secret=APP_SECRET, domain=fake.url, sleep=lambda _: None))


def run_digests(db: Database, platform: str, outbox: Outbox, time: RecordedTime, *, admin: str,
                deadline: float = 6 * 3600.0) -> tuple[Deliverer, DigestRunner]:
    deliverer = Deliverer(db, {platform: outbox}, retry=RetryPolicy((1.0, 4.0, 16.0), deadline_seconds=deadline),
                          sleep=time.sleep, clock=time.clock, admin_ids=[admin])
    engine = make_engine(db)
    runner = DigestRunner(db, engine, engine.registry, deliverer, currency="USD", default_timezone="UTC",
                          charts=False, clock=time.clock)
    runner.run_due(datetime.now(UTC))
    return deliverer, runner


def slack_figures(fake: FakeSlack, channels: list[str]) -> Figures:
    digests = [m["channel"] for m in fake.posted if m["channel"] in channels]
    told = [m for m in fake.posted if m["channel"] == ADMIN_ID]
    told_about = {channel for channel in channels if any(channel in m["text"] for m in told)}
    return figures(digests, channels, told_about, len(told))


def feishu_figures(fake: FakeFeishu, chats: list[str]) -> Figures:
    digests = [m.chat_id or "" for m in fake.messages if m.chat_id in chats]
    told = [m for m in fake.messages if m.chat_id == ADMIN_OPEN_ID]
    return figures(digests, chats, set(), len(told))


def statuses(db: Database) -> list[tuple[str, int]]:
    with db.session() as session:
        return sorted({(row.status, row.attempts) for row in ledger.entries(session, kind="digest")})


def test_slack_storm_ends_in_delivery_waiting_exactly_as_advertised(
    db: Database, fake_slack: FakeSlack, report_figure: Callable[[str], None]
) -> None:
    channels = [f"C0STORM{i:02d}" for i in range(DIGESTS)]
    due_subscriptions(db, "slack", channels)
    fake_slack.rate_limit_next("chat.postMessage", times=STORM, retry_after=ADVERTISED)
    time = RecordedTime()
    run_digests(db, "slack", slack_outbox(fake_slack), time, admin=f"slack:{ADMIN_ID}")
    result = slack_figures(fake_slack, channels)
    report_figure("\n" + result.line(f"Slack storm ({STORM} x 429, Retry-After {ADVERTISED} s, {DIGESTS} digests)"))
    assert (result.sends, result.duplicates, result.lost, result.told) == (DIGESTS, 0, 0, 0)
    # 150 throttled + 20 accepted calls; every throttled answer waited exactly 2 s, none earlier
    assert len(fake_slack.calls_to("chat.postMessage")) == STORM + DIGESTS
    assert time.waits == [float(ADVERTISED)] * STORM
    assert statuses(db) == [("sent", 1)]  # throttling spent no attempt


def test_feishu_storm_ends_in_delivery_waiting_exactly_as_advertised(
    db: Database, fake_feishu: FakeFeishu, report_figure: Callable[[str], None]
) -> None:
    chats = [f"oc_storm{i:02d}" for i in range(DIGESTS)]
    due_subscriptions(db, "feishu", chats)
    fake_feishu.rate_limit_next(reset_seconds=ADVERTISED, times=STORM)
    time = RecordedTime()
    run_digests(db, "feishu", feishu_outbox(fake_feishu), time, admin=f"feishu:{ADMIN_OPEN_ID}")
    result = feishu_figures(fake_feishu, chats)
    report_figure("\n" + result.line(f"Feishu storm ({STORM} x 99991400, reset {ADVERTISED} s, {DIGESTS} digests)"))
    assert (result.sends, result.duplicates, result.lost, result.told) == (DIGESTS, 0, 0, 0)
    assert len([c for c in fake_feishu.calls_to("POST", "/open-apis/im/v1/messages") if c.status == 429]) == STORM
    assert time.waits == [float(ADVERTISED)] * STORM
    assert statuses(db) == [("sent", 1)]


def test_storm_past_the_deadline_fails_tells_admins_by_dm_and_can_be_resent(
    db: Database, fake_slack: FakeSlack, report_figure: Callable[[str], None]
) -> None:
    """Deadline 5 s, waits of 2 s: the send is tried at 0, 2 and 4 s; the next wait would end at 6 s, past
    the deadline → failed. 3 throttled answers, then the storm is over and the admin's DM goes through."""
    channel = "C0LATE01"
    due_subscriptions(db, "slack", [channel])
    fake_slack.rate_limit_next("chat.postMessage", times=3, retry_after=ADVERTISED)
    time = RecordedTime()
    deliverer, runner = run_digests(db, "slack", slack_outbox(fake_slack), time, admin=f"slack:{ADMIN_ID}",
                                    deadline=5.0)
    result = slack_figures(fake_slack, [channel])
    report_figure("\n" + result.line("Slack storm past a 5 s send deadline (1 digest)"))
    assert (result.sends, result.duplicates, result.lost, result.told) == (0, 0, 0, 1)
    assert time.waits == [2.0, 2.0]  # never a resend before the advertised wait
    assert [m["channel"] for m in fake_slack.posted] == [ADMIN_ID]  # nothing into the throttling channel
    with db.session() as session:
        (row,) = ledger.entries(session, kind="digest")
    assert (row.status, row.attempts) == ("failed", 0)
    note = fake_slack.posted[0]["text"]
    assert "send deadline passed" in note and f"digest resend {row.id}" in note
    # `digest resend ID` sends the failed one, once; a sent row is not resendable
    build = runner.rebuild(row)
    assert build is not None and row.id is not None
    resent = deliverer.resend(row.id, build)
    assert resent is not None and resent.outcome == Outcome.SENT
    assert deliverer.resend(row.id, build) is None
    assert [m["channel"] for m in fake_slack.posted] == [ADMIN_ID, channel]
