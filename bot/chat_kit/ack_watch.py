"""A watch over commands still being answered (Slack slash commands): when one's ack budget runs out, the watch sends
its "working on it…" ack, and the answer follows through `response_url`.

The answer is computed on the Bolt listener thread that received the command; one watch thread per
process only keeps time. Handing every command to another thread and waiting on a future cost more
than the answer itself under load (bench/ack.py: GIL hand-offs on each notify), so only the rare slow
command pays for a second thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticket:
    """One command's race between its answer and its deadline; whoever settles it first owns the ack."""

    def __init__(self, deadline: float, on_timeout: Callable[[], object]) -> None:
        self.deadline = deadline
        self.on_timeout = on_timeout
        self._lock = threading.Lock()
        self._settled = False

    def settle(self) -> bool:
        """True for the first caller only."""
        with self._lock:
            if self._settled:
                return False
            self._settled = True
            return True


class AckWatch:
    def __init__(self, budget: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self._clock = clock
        self._pending: dict[int, Ticket] = {}
        self._numbers = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def watch(self, on_timeout: Callable[[], object]) -> Callable[[], bool]:
        """Start the clock for one command. Call the returned `finish()` when the answer is ready: True
        means the ack is still yours to send; False means `on_timeout` has sent it."""
        number = next(self._numbers)
        ticket = Ticket(self._clock() + self.budget, on_timeout)
        with self._wake:
            self._pending[number] = ticket
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kpibot-ack-watch", daemon=True)
                self._thread.start()
            elif len(self._pending) == 1:
                self._wake.notify()  # it was sleeping with nothing to watch

        def finish() -> bool:
            with self._wake:
                self._pending.pop(number, None)
            return ticket.settle()

        return finish

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopped:
                    return
                now = self._clock()
                due = [(n, t) for n, t in self._pending.items() if t.deadline <= now]
                for number, _ in due:
                    del self._pending[number]
                upcoming = min((t.deadline for t in self._pending.values()), default=None)
                if not due:
                    self._wake.wait(None if upcoming is None else upcoming - now)
                    continue
            for _, ticket in due:
                if ticket.settle():
                    try:
                        ticket.on_timeout()
                    except Exception:
                        log.exception("could not send the 'working on it' ack")
