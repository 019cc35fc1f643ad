"""Digests built in the last few minutes, shared by every subscription that would get the same one.

On Monday at 09:00 a hundred channels may be due at once; their digests differ only by language,
cadence, review day, currency and whether charts are drawn, so each distinct digest is built once and
the same `Reply` is posted to every channel that wants it (outboxes only read a reply). Builds of the
same digest from concurrent cron jobs wait for the first one instead of racing it. An entry is reused
for `ttl` after it was built, so a later send (a catch-up, next week) always builds afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

from jobs.present.reply import Reply

REUSE_FOR = timedelta(minutes=5)


class RecentDigests:
    def __init__(self, ttl: timedelta = REUSE_FOR) -> None:
        self.ttl = ttl
        self._built: dict[Hashable, tuple[datetime, Reply]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, now: datetime, build: Callable[[], Reply]) -> Reply:
        """The digest for `key` built less than `ttl` before `now`, else `build()` (and keep it)."""
        with self._guard:
            self._forget_older_than(now - self.ttl)
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                entry = self._built.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                return entry[1]
            reply = build()  # a failed build raises and leaves nothing behind
            with self._guard:
                self._built[key] = (now, reply)
            return reply

    def _forget_older_than(self, cutoff: datetime) -> None:
        for key in [key for key, (built_at, _) in self._built.items() if built_at <= cutoff]:
            del self._built[key]
            self._locks.pop(key, None)
