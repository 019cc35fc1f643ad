"""Who a Feishu user is: open_id → name and email through the contact API, cached with a TTL.

The email lets the core match a Feishu user to a team member and to `KPIBOT_ADMINS` entries
written as emails. A lookup that fails (scope not granted, user outside the app's visibility)
is cached briefly and the user is still served, just without an email.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.chat_kit.user_cache import UserCache
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
        self._cache = UserCache(self._lookup, ttl=ttl_seconds, failure_ttl=failure_ttl_seconds, clock=clock)

    def profile(self, open_id: str) -> Profile:
        return self._cache.get(open_id) or Profile()

    def _lookup(self, open_id: str) -> Profile | None:
        try:
            user = self._directory.get_user(open_id)
        except Exception as exc:  # the user is served without an email
            log.warning("Feishu contact lookup failed for %s: %s", open_id, exc)
            return None
        email = user.get("enterprise_email") or user.get("email") or None
        name = user.get("name") or user.get("en_name") or None
        return Profile(email=email, name=name)

    def user_ref(self, open_id: str, display_name: str | None = None) -> UserRef:
        profile = self.profile(open_id)
        return UserRef(
            platform=PLATFORM,
            user_id=open_id,
            email=profile.email,
            display_name=display_name or profile.name,
        )
