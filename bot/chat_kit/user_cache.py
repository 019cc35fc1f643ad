"""A per-user cache of directory lookups (Slack users.info, Feishu contact, DingTalk user/get): an
answer is kept `ttl` seconds, a failed lookup `failure_ttl` seconds, so a missing scope or an outage
never slows every message down and never blocks an answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Found = TypeVar("Found")


class UserCache(Generic[Found]):
    """`get(user_id)` → `lookup(user_id)`'s result, cached; `lookup` returns None for a failure."""

    def __init__(
        self,
        lookup: Callable[[str], Found | None],
        *,
        ttl: float = 600.0,
        failure_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, Found | None]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> Found | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self._lookup(user_id)
        expires = now + (self._ttl if found is not None else self._failure_ttl)
        with self._lock:
            self._cache[user_id] = (expires, found)
        return found
