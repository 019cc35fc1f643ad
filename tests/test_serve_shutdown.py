"""`kpibot serve` as a real process: SIGTERM during an answer still delivers it, the process stops taking
new work at once, hands scheduler leadership over, and exits 0. Two replicas started together against an
empty database both come up and the schema is upgraded once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.http.server import free_port
from storage.db import Database, head_revision
from tests.fakes.slack_api import BOT_USER_ID, MEMBER_ID, FakeSlack, message_event, signed_headers, slack_settings
from tests.fakes.slack_api import event_envelope as slack_envelope
from tests.test_migration_lock import waiting_on_lock

ROOT = Path(__file__).resolve().parent.parent
SLOW_LOOKUP_SECONDS = 3.0  # users.info at the fake: the answer is still being worked out when SIGTERM lands


class ServeProcess:
    def __init__(self, workdir: Path, settings: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"serve-{self.port}.log"
        env = {key: value for key, value in os.environ.items()
               if not key.upper().startswith(("SLACK_", "FEISHU_", "KPIBOT_", "DINGTALK_")) and key != "DATABASE_URL"
               and not key.upper().endswith("_PROXY")}
        env.update({"PYTHONPATH": str(ROOT), "KPIBOT_PORT": str(self.port), "KPIBOT_LOG_FORMAT": "json",
                    "KPIBOT_SHUTDOWN_GRACE": "20", **settings})
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=workdir, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if httpx.get(self.url + "/readyz", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("kpibot serve never became ready:\n" + self.log())

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def messages(self) -> list[str]:
        return [json.loads(line)["message"] for line in self.log().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


@pytest.fixture
def serve_processes(tmp_path: Path) -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        process.stop()


def test_sigterm_during_an_answer_still_delivers_it(database_url: str, tmp_path: Path,
                                                    serve_processes: list[ServeProcess]) -> None:
    with FakeSlack() as fake:
        fake.add_user(MEMBER_ID, email="mo@example.com", name="mo")
        serve = ServeProcess(tmp_path, {"DATABASE_URL": database_url, **slack_settings(fake)})
        serve_processes.append(serve)
        serve.wait_ready()
        fake.delays["users.info"] = SLOW_LOOKUP_SECONDS
        body = json.dumps(slack_envelope(message_event(f"<@{BOT_USER_ID}> help", ts="1700000000.000100"),
                                         event_id="Ev0SHUTDOWN"))
        ack = httpx.post(serve.url + "/slack/events", content=body.encode(), trust_env=False, timeout=10,
                         headers=signed_headers(body, content_type="application/json"))
        assert ack.status_code == 200  # acked at once; the answer is worked out on a listener thread
        fake.wait_for("users.info", timeout=10)  # the answer is under way, waiting on Slack
        sent_at = time.monotonic()
        serve.process.send_signal(signal.SIGTERM)

        # new work is refused while the answer in hand is still being finished
        refused = False
        while time.monotonic() - sent_at < SLOW_LOOKUP_SECONDS - 0.5 and not refused:
            try:
                httpx.get(serve.url + "/healthz", timeout=1, trust_env=False)
                time.sleep(0.05)
            except httpx.TransportError:
                refused = True
        assert refused, "the HTTP server kept accepting connections after SIGTERM"
        assert fake.calls_to("chat.postMessage") == []

        assert serve.process.wait(timeout=30) == 0, serve.log()
        posts = fake.calls_to("chat.postMessage")
        assert len(posts) == 1, serve.log()
        assert posts[0].params["thread_ts"] == "1700000000.000100"  # the answer to the mention, in its thread
    messages = serve.messages()
    assert "SIGTERM received" in messages
    handed_over = next(i for i, m in enumerate(messages) if m.startswith("released the scheduler lock"))
    assert handed_over < messages.index("stopped")  # leadership went first, before the answer finished


def test_two_replicas_starting_together_upgrade_once(database_url: str, tmp_path: Path,
                                                     serve_processes: list[ServeProcess]) -> None:
    db = Database(database_url)
    assert db.current_revision() is None  # an empty database
    sqlite_file = make_url(database_url).database if db.dialect == "sqlite" else None
    with db.schema_lock():  # both start while the lock is held, so they contend for the same empty database
        for _ in range(2):
            serve_processes.append(ServeProcess(tmp_path, {"DATABASE_URL": database_url}))
        deadline = time.monotonic() + 60
        while waiting_on_lock(db, Path(sqlite_file + ".migrate.lock") if sqlite_file else None) < 2:
            assert time.monotonic() < deadline, "the two replicas never both waited on the migration lock"
            assert all(s.process.poll() is None for s in serve_processes), [s.log() for s in serve_processes]
            time.sleep(0.05)
    for serve in serve_processes:
        serve.wait_ready()
    upgrades = [m for serve in serve_processes for m in serve.messages() if m.startswith("database schema upgraded")]
    assert upgrades == [f"database schema upgraded from empty to {head_revision()}"]
    assert db.current_revision() == head_revision()
    for serve in serve_processes:
        serve.process.send_signal(signal.SIGTERM)
    assert [serve.process.wait(timeout=30) for serve in serve_processes] == [0, 0]
    db.dispose()
