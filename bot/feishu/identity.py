"""Who a Feishu user is: open_id → name and email through the contact API, cached with a TTL.

The email lets the core match a Feishu user to a team member and to `KPIBOT_ADMINS` entries
written as emails. A lookup that fails (scope not granted, user outside the app's visibility)
is cached briefly and the user is still served, just without an email.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.request import UserRef

log = logging.getLogger(__name__)

PLATFORM = "feishu"


class UserDirectory(Protocol):
    def get_user(self, open_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Profile:
    email: str | None = None
    name: str | None = None


class Identities:
    def __init__(
        self,
        directory: UserDirectory,
        *,
        ttl_seconds: float = 3600.0,
        failure_ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Profile]] = {}

    def profile(self, open_id: str) -> Profile:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(open_id)
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            user = self._directory.get_user(open_id)
        except Exception as exc:  # the user is served without an email
            log.warning("Feishu contact lookup failed for %s: %s", open_id, exc)
            profile, ttl = Profile(), self._failure_ttl
        else:
            email = user.get("enterprise_email") or user.get("email") or None
            name = user.get("name") or user.get("en_name") or None
            profile, ttl = Profile(email=email, name=name), self._ttl
        with self._lock:
            self._cache[open_id] = (now + ttl, profile)
        return profile

    def user_ref(self, open_id: str, display_name: str | None = None) -> UserRef:
        profile = self.profile(open_id)
        return UserRef(
            platform=PLATFORM,
            user_id=open_id,
            email=profile.email,
            display_name=display_name or profile.name,
        )
