"""Per-channel pacing: sends to one channel are spaced `interval` seconds apart; callers wait for their
slot (a wait, never a failure). Different channels never wait for each other."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

FORGET_AFTER = 10_000  # channels remembered before past slots are dropped


class ChannelPacer:
    """At most one send per `interval` seconds per channel; threads share it."""

    def __init__(
        self,
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(channel, now))
            self._next_slot[channel] = slot + self.interval
            if len(self._next_slot) > FORGET_AFTER:
                self._next_slot = {key: at for key, at in self._next_slot.items() if at > now}
        if slot > now:
            self._sleep(slot - now)
