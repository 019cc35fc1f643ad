"""Bounded waits for shutdown: run a blocking stop (an executor's `shutdown(wait=True)`, a join) in a
helper thread and give up waiting after `timeout` seconds, so SIGTERM handling never hangs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def finish_within(work: Callable[[], object], timeout: float, what: str) -> bool:
    """True when `work()` returned within `timeout` seconds (an exception in it is logged and counts as
    returned); False when it is still running, in a daemon thread that will not hold the process."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, name=f"kpibot-drain-{what}", daemon=True)
    thread.start()
    thread.join(max(0.0, timeout))
    if thread.is_alive():
        log.error("%s still running after the shutdown grace period; leaving it", what)
        return False
    if failed:
        log.error("stopping %s failed: %s", what, type(failed[0]).__name__)
    return True
