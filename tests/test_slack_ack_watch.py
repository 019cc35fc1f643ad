"""The ack watch: an answer ready in time owns the ack; a late one finds "working on it" already sent, once."""

from __future__ import annotations

import threading

import pytest

from bot.chat_kit.ack_watch import AckWatch

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def test_an_answer_in_time_keeps_the_ack() -> None:
    watch = AckWatch(budget=5.0)
    timeouts: list[str] = []
    finish = watch.watch(lambda: timeouts.append("working"))
    assert finish() is True
    assert finish() is False  # settled once
    watch.stop()
    assert timeouts == []


def test_a_late_answer_finds_the_ack_sent_exactly_once() -> None:
    watch = AckWatch(budget=0.05)
    sent = threading.Event()
    calls: list[int] = []

    def working() -> None:
        calls.append(1)
        sent.set()

    early = watch.watch(lambda: calls.append(99))  # answered at once: never times out
    assert early() is True
    finish = watch.watch(working)
    assert sent.wait(5)
    assert finish() is False  # the watch acked; the answer must go through response_url
    watch.stop()
    assert calls == [1]


def test_many_commands_each_settled_by_exactly_one_side() -> None:
    watch = AckWatch(budget=0.25)
    outcomes: list[str] = []
    lock = threading.Lock()

    def command(wait: float) -> None:
        finish = watch.watch(lambda: record("watch"))
        threading.Event().wait(wait)
        if finish():
            record("answer")

    def record(who: str) -> None:
        with lock:
            outcomes.append(who)

    threads = [threading.Thread(target=command, args=(0.0 if n % 2 else 0.75,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watch.stop()
    assert len(outcomes) == 20  # one ack per command, never two
    assert outcomes.count("watch") == 10  # the ten slow ones (0.75 s against a 0.25 s budget)
