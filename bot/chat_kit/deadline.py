"""Answer now if the work is done in time, else answer "working on it" and finish later.

For callbacks whose answer must be in the HTTP (or Stream ACK) response itself (Feishu card actions,
DingTalk card callbacks): the work runs on an executor and is awaited `deadline` seconds; past that
the caller gets None at once, and `late(result)` runs when the work is done (e.g. update the card
through the API). Slash commands whose ack is a separate call use `ack_watch` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

log = logging.getLogger(__name__)

Result = TypeVar("Result")


def answer_within(
    executor: Executor, work: Callable[[], Result], deadline: float, late: Callable[[Result], None]
) -> Result | None:
    future = executor.submit(work)
    try:
        return future.result(timeout=deadline)
    except FutureTimeout:
        future.add_done_callback(lambda done: _finish_late(done, late))
        return None


def _finish_late(done: Future[Result], late: Callable[[Result], None]) -> None:
    try:
        late(done.result())
    except Exception:
        log.exception("finishing a slow answer failed")
