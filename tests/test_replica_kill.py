"""Replica kill (issue 18 §1): three `kpibot serve` processes on PostgreSQL; the leader is SIGKILLed while its
catch-up fan-out of digests is under way (claimed rows, requests in flight at a slow fake platform). The
survivors elect a new leader, which sends what was never claimed and resolves what the dead one left
`claimed`: Feishu resends with the same uuid; Slack looks its sends up in conversations.history (metadata
`kpibot_delivery`) or, without the history scope, tells the admins which send may be missing.

Runs only with KPIBOT_TEST_DATABASE_URL. Claim timeout 2 s, leader retry 0.3 s, history pacing 0 (injected
through settings) keep it to a few seconds a run. Figures go to the run's "figures" section."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.http.server import free_port
from storage.db import Database
from storage.repositories import ledger
from tests.conftest import PG_URL, _postgres_schema_url
from tests.delivery_fixtures import Figures, due_subscriptions, figures
from tests.fakes.feishu_api import ADMIN_OPEN_ID, APP_SECRET, FakeFeishu
from tests.fakes.slack_api import ADMIN_ID, BOT_TOKEN, SIGNING_SECRET, FakeSlack

REPO = Path(__file__).resolve().parent.parent
DIGESTS = 20
SEND_DELAY = 0.4  # each message send waits this long at the fake: the kill lands with sends in flight
KILL_AFTER = 10  # message sends the fake has received when the leader is killed
LEADER_LINE = "this process runs the scheduler"
SERVE = "from bot.cli import main; main()"


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set KPIBOT_TEST_DATABASE_URL")
    yield from _postgres_schema_url()


def wait_until(condition: Callable[[], object], timeout: float, what: str, logs: list[Path] = ()) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                              for log in logs)
            pytest.fail(f"timed out after {timeout} s waiting for {what}\n{tails}")
        time.sleep(0.05)


@contextmanager
def replicas(count: int, env: dict[str, str], workdir: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KPIBOT_", "SLACK_", "FEISHU_"))}
    base.update(PYTHONPATH=str(REPO), KPIBOT_HOST="127.0.0.1", KPIBOT_TIMEZONE="UTC",
                KPIBOT_CLAIM_TIMEOUT_SECONDS="2", KPIBOT_LEADER_RETRY_SECONDS="0.3",
                SLACK_HISTORY_INTERVAL_SECONDS="0", **env)
    started = []
    try:
        for index in range(count):
            log = workdir / f"replica-{index}.log"
            process = subprocess.Popen([sys.executable, "-c", SERVE, "serve"], cwd=workdir,
                                       env={**base, "KPIBOT_PORT": str(free_port())},
                                       stdout=log.open("wb"), stderr=subprocess.STDOUT)
            started.append((process, log))
        yield started
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def leader_of(started: list[tuple[subprocess.Popen[bytes], Path]]) -> subprocess.Popen[bytes] | None:
    for process, log in started:
        if process.poll() is None and LEADER_LINE in log.read_text(errors="replace"):
            return process
    return None


def kill_the_leader_mid_fanout(db: Database, started: list[tuple[subprocess.Popen[bytes], Path]],
                               sends_received: Callable[[], int]) -> None:
    began = time.monotonic()
    wait_until(lambda: leader_of(started), 240, "a leader", [log for _, log in started])
    print(f"\nleader elected after {time.monotonic() - began:.1f} s")
    leader = leader_of(started)
    assert leader is not None
    # Kill while a send is claimed and on its way (each waits SEND_DELAY at the fake), never in the gap
    # between one batch finishing and the next being claimed.
    wait_until(lambda: sends_received() >= KILL_AFTER and claimed_digests(db) > 0, 120,
               f"{KILL_AFTER} sends at the fake and one in flight")
    leader.send_signal(signal.SIGKILL)
    leader.wait(timeout=10)
    with db.session() as session:
        at_kill = [row.status for row in ledger.entries(session, kind="digest")]
    print(f"at the kill ({time.monotonic() - began:.1f} s): {at_kill.count('sent')} sent, "
          f"{at_kill.count('claimed')} claimed, {DIGESTS - len(at_kill)} not claimed yet")
    assert at_kill.count("claimed") > 0, "the kill must land with sends claimed and unfinished"


def claimed_digests(db: Database) -> int:
    with db.session() as session:
        return sum(row.status == "claimed" for row in ledger.entries(session, kind="digest"))


def settled(db: Database) -> bool:
    """Every digest has a row, the one admin has a note row for each digest that failed or may be missing,
    and no row (digest or note) is still being sent."""
    with db.session() as session:
        rows = ledger.entries(session)
    digests = [row for row in rows if row.kind == "digest"]
    notes = [row for row in rows if row.kind in ("send_failed", "send_unsure")]
    told_of = sum(row.status in ("unconfirmed", "failed") for row in digests)
    return len(digests) == DIGESTS and len(notes) == told_of and all(row.status != "claimed" for row in rows)


def digest_statuses(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = ledger.entries(session, kind="digest")
    return {status: sum(1 for row in rows if row.status == status) for status in {row.status for row in rows}}


@pytest.mark.parametrize("history_scope", [True, False], ids=["with-history", "without-history"])
def test_slack_leader_killed_mid_fanout_nothing_lost_nothing_doubled(
    pg_url: str, tmp_path: Path, history_scope: bool, report_figure: Callable[[str], None]
) -> None:
    db = Database(pg_url)
    db.upgrade()
    channels = [f"C0KILL{i:03d}" for i in range(DIGESTS)]
    due_subscriptions(db, "slack", channels)
    with FakeSlack() as fake:
        fake.history_scope = history_scope
        fake.delays["chat.postMessage"] = SEND_DELAY
        env = {"DATABASE_URL": pg_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": fake.api_url, "KPIBOT_ADMINS": f"slack:{ADMIN_ID}"}
        with replicas(3, env, tmp_path) as started:
            kill_the_leader_mid_fanout(db, started, lambda: len(fake.calls_to("chat.postMessage")))
            killed = time.monotonic()
            wait_until(lambda: settled(db), 120, "every digest sent or its admins told")
            print(f"settled {time.monotonic() - killed:.1f} s after the kill")
            time.sleep(SEND_DELAY * 2)  # anything still on its way lands before counting
        digests = [m["channel"] for m in fake.posted if m["channel"] in channels]
        notes = [m["text"] or "" for m in fake.posted if m["channel"] == ADMIN_ID]
    told_about = {channel for channel in channels if any(channel in note for note in notes)}
    statuses = digest_statuses(db)
    result: Figures = figures(digests, channels, told_about, len(notes), statuses.get("unconfirmed", 0))
    report_figure(result.line(f"Slack, 3 replicas, leader SIGKILLed, {'with' if history_scope else 'without'} "
                      f"channels:history ({DIGESTS} digests)") + f"; ledger {statuses}")
    assert (result.duplicates, result.lost) == (0, 0)
    if history_scope:
        assert result.sends == DIGESTS and result.told == 0 and statuses == {"sent": DIGESTS}
    else:
        # Each send the dead leader left claimed could not be checked: marked unconfirmed, admins told with
        # `digest resend ID`; every other digest was sent by one of the two leaders.
        assert result.told == result.unconfirmed > 0
        assert all("digest resend" in note and "channels:history" in note for note in notes)
        assert statuses == {"sent": DIGESTS - result.unconfirmed, "unconfirmed": result.unconfirmed}
    db.dispose()


def test_feishu_leader_killed_mid_fanout_resends_with_the_same_uuid(
    pg_url: str, tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    db = Database(pg_url)
    db.upgrade()
    chats = [f"oc_kill{i:03d}" for i in range(DIGESTS)]
    due_subscriptions(db, "feishu", chats)
    with FakeFeishu(app_id=f"cli_kill_{uuid.uuid4().hex[:8]}") as fake:
        fake.message_delay = SEND_DELAY
        env = {"DATABASE_URL": pg_url, "FEISHU_APP_ID": fake.app_id, "FEISHU_APP_SECRET": APP_SECRET,
               "FEISHU_DOMAIN": fake.url, "KPIBOT_ADMINS": f"feishu:{ADMIN_OPEN_ID}"}
        with replicas(3, env, tmp_path) as started:
            kill_the_leader_mid_fanout(
                db, started, lambda: len(fake.calls_to("POST", "/open-apis/im/v1/messages")))
            killed = time.monotonic()
            wait_until(lambda: settled(db), 120, "every digest sent")
            print(f"settled {time.monotonic() - killed:.1f} s after the kill")
            time.sleep(SEND_DELAY * 2)
        digests = [m.chat_id or "" for m in fake.messages if m.chat_id in chats]
        notes = [m for m in fake.messages if m.chat_id == ADMIN_OPEN_ID]
        resends = len(fake.calls_to("POST", "/open-apis/im/v1/messages")) - len(fake.messages)
    statuses = digest_statuses(db)
    result = figures(digests, chats, set(), len(notes))
    report_figure(result.line(f"Feishu, 3 replicas, leader SIGKILLed ({DIGESTS} digests)")
          + f"; {resends} resend(s) answered by uuid; ledger {statuses}")
    assert (result.sends, result.duplicates, result.lost, result.told) == (DIGESTS, 0, 0, 0)
    assert statuses == {"sent": DIGESTS}
    db.dispose()
