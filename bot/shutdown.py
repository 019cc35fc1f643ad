"""Graceful shutdown of `kpibot serve` on SIGTERM (or SIGINT), within KPIBOT_SHUTDOWN_GRACE seconds:

1. hand scheduler leadership over at once (the lock is released, so another replica's next try wins);
2. stop taking new work: the HTTP server stops accepting, Socket Mode and long connections close;
3. let work in hand finish: HTTP requests under way, answers on the platform listener threads (they
   post through the platform's Web API, not the closed connection), scheduled runs under way;
4. exit 0 when everything finished, 1 when the grace period ran out first (what was left is logged).
"""

from __future__ import annotations

import inspect
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from jobs.drain import finish_within

log = logging.getLogger("kpibot.shutdown")


class StopSignal:
    """Set by SIGTERM/SIGINT; the main thread waits on it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop waiting
        self.signal_name = signal.Signals(signum).name
        self.event.set()


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())


def drain(runtime: Any, server: Any, grace: float) -> bool:
    """Steps 1–3 above for a bot.runtime.Runtime and a bot.http.server.ServerThread; True when all the
    work in hand finished within `grace` seconds."""
    deadline = Deadline(grace)
    log.info("shutting down: handing over, then finishing work in hand (up to %.0f s)", grace)
    if runtime.jobs is not None:
        runtime.jobs.resign()
    server.server.should_exit = True  # stop accepting; requests under way finish
    drained: dict[str, bool] = {}
    stoppers = [threading.Thread(target=_stop_adapter, args=(name, adapter, deadline, drained), daemon=True,
                                 name=f"kpibot-stop-{name}") for name, adapter in runtime.adapters.items()]
    for thread in stoppers:
        thread.start()
    finished = finish_within(server.thread.join, deadline.remaining(), "HTTP requests")
    for thread in stoppers:
        thread.join(deadline.remaining())
    left = [name for name in runtime.adapters if not drained.get(name)]
    if left:
        log.error("answers still running after the grace period on: %s", ", ".join(left))
        finished = False
    if runtime.jobs is not None:
        finished = runtime.jobs.stop(timeout=deadline.remaining()) and finished
    return finished


def _stop_adapter(name: str, adapter: Any, deadline: Deadline, drained: dict[str, bool]) -> None:
    try:
        # an adapter whose stop() takes no timeout stops at once
        if "timeout" in inspect.signature(adapter.stop).parameters:
            drained[name] = adapter.stop(timeout=deadline.remaining()) is not False
        else:
            adapter.stop()
            drained[name] = True
    except Exception:
        log.exception("stopping the %s adapter failed", name)
