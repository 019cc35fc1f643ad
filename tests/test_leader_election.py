"""One scheduler among replicas: PostgreSQL advisory lock (take-over when the holder dies), SQLite lock file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jobs.leader import FileLock, LeaderElection, PostgresAdvisoryLock, SoleProcessLock, lock_for
from jobs.service import JobService
from storage.db import Database
from storage.repositories import ledger
from storage.settings import load_settings
from tests.conftest import PG_URL, _postgres_schema_url
from tests.fixtures_jobs import WORKER_COMMAND, RecordingOutbox, add_due_subscription, make_engine

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set KPIBOT_TEST_DATABASE_URL")
    yield from _postgres_schema_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kpibot.db'}"


def migrated(url: str) -> Database:
    db = Database(url)
    db.upgrade()
    return db


def service(url: str, outbox: RecordingOutbox, **overrides: object) -> JobService:
    db = Database(url)
    engine = make_engine(db)
    options: dict[str, object] = {"digest_charts": False, "leader_retry_seconds": 0.3, "tick_seconds": 3600}
    options.update(overrides)
    return JobService(db=db, registry=engine.registry, settings=load_settings(_env_file=None, DATABASE_URL=url),
                      engine=engine, outboxes={"slack": outbox}, **options)  # type: ignore[arg-type]


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_worker(url: str, out: Path, name: str, seconds: float) -> subprocess.Popen[str]:
    env = {**os.environ, "KPIBOT_WORKER_URL": url, "KPIBOT_WORKER_OUT": str(out), "KPIBOT_WORKER_NAME": name,
           "KPIBOT_WORKER_SECONDS": str(seconds)}
    return subprocess.Popen([sys.executable, "-c", WORKER_COMMAND], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_lock_kinds() -> None:
    assert isinstance(lock_for(Database("sqlite://")), SoleProcessLock)
    assert isinstance(lock_for(Database("sqlite:///:memory:")), SoleProcessLock)


# --- PostgreSQL --------------------------------------------------------------------------------------------


def test_advisory_lock_has_one_holder_and_is_freed_when_its_connection_closes(pg_url: str) -> None:
    first, second = PostgresAdvisoryLock(Database(pg_url)), PostgresAdvisoryLock(Database(pg_url))
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        assert first.still_held() is True
        first.dispose()  # closes the dedicated connection, as a dying process would
        assert second.try_acquire() is True
    finally:
        first.dispose()
        second.dispose()


def test_two_services_on_postgres_post_a_due_digest_once(pg_url: str) -> None:
    db = migrated(pg_url)
    add_due_subscription(db, channel="C1")
    outbox = RecordingOutbox()
    services = [service(pg_url, outbox) for _ in range(2)]
    barrier = threading.Barrier(2)
    leaders: list[bool] = []

    def start(job_service: JobService) -> None:
        barrier.wait()
        leaders.append(job_service.start())

    threads = [threading.Thread(target=start, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert sorted(leaders) == [False, True]
        assert wait_until(lambda: len(outbox.sent) >= 1)
        time.sleep(1.0)  # several follower retries: it must neither run a scheduler nor post
        assert [s.is_leader for s in services].count(True) == 1
    finally:
        for job_service in services:
            job_service.stop()
    assert len(outbox.sent) == 1
    with db.session() as session:
        assert [row.status for row in ledger.entries(session)] == ["sent"]
    db.dispose()


def test_leader_killed_the_other_takes_over_and_sends_the_next_due_digest_once(pg_url: str, tmp_path: Path) -> None:
    db = migrated(pg_url)
    first_sub = add_due_subscription(db, channel="C1")
    posts = tmp_path / "posts.tsv"
    worker = start_worker(pg_url, posts, "worker", seconds=40)
    follower: JobService | None = None
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "LEADER"
        assert wait_until(lambda: posts.exists() and posts.read_text().count("\n") >= 1), "the leader's catch-up"
        outbox = RecordingOutbox()
        follower = service(pg_url, outbox)
        assert follower.start() is False
        second_sub = add_due_subscription(db, channel="C2")  # due while the leader is gone
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at = time.monotonic()
        assert wait_until(lambda: follower is not None and follower.is_leader, timeout=20)
        assert time.monotonic() - killed_at < 60
        assert wait_until(lambda: len(outbox.sent) >= 1)
        follower.stop()
        follower = None
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        if follower is not None:
            follower.stop()
    lines = posts.read_text().splitlines()
    assert [line.split("\t")[2] for line in lines] == [f"digest:{first_sub}:{_week_key(db, first_sub)}:slack:C1"]
    assert [s.idempotency_key for s in outbox.sent] == [f"digest:{second_sub}:{_week_key(db, second_sub)}:slack:C2"]
    db.dispose()


def _week_key(db: Database, subscription_id: int) -> str:
    with db.session() as session:
        (row,) = ledger.entries(session, kind="digest", ref_id=str(subscription_id))
        return row.period_key


# --- SQLite ------------------------------------------------------------------------------------------------


def test_second_sqlite_process_refuses_to_run_a_scheduler(sqlite_url: str, tmp_path: Path) -> None:
    migrated(sqlite_url).dispose()
    outbox = RecordingOutbox()
    leader = service(sqlite_url, outbox)
    try:
        assert leader.start() is True
        worker = start_worker(sqlite_url, tmp_path / "posts.tsv", "second", seconds=0)
        out, err = worker.communicate(timeout=60)
    finally:
        leader.stop()
    assert out.strip() == "FOLLOWER"
    assert "another kpibot process already runs the scheduler for the SQLite database" in err
    assert "use PostgreSQL" in err


def test_second_sqlite_service_in_one_process_refuses_too(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    migrated(sqlite_url).dispose()
    first, second = service(sqlite_url, RecordingOutbox()), service(sqlite_url, RecordingOutbox())
    try:
        assert first.start() is True
        assert second.start() is False
        assert any("SQLite serves one process" in r.message for r in caplog.records)
    finally:
        second.stop()
        first.stop()


def test_follower_takes_over_when_the_leader_stops(tmp_path: Path) -> None:
    path = tmp_path / "kpibot.db"
    events: list[str] = []
    a = LeaderElection(FileLock(tmp_path / "x.lock", path), on_elected=lambda: events.append("a up"),
                       on_lost=lambda: events.append("a down"), retry_seconds=0.1)
    b = LeaderElection(FileLock(tmp_path / "x.lock", path), on_elected=lambda: events.append("b up"),
                       on_lost=lambda: events.append("b down"), retry_seconds=0.1)
    assert a.start() is True
    assert b.start() is False
    a.stop()
    assert wait_until(lambda: b.is_leader, timeout=5)
    b.stop()
    assert events == ["a up", "a down", "b up", "b down"]
