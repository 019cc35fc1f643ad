"""Who is asking: Slack user id → `UserRef` with email and display name (users.info, cached).

The email (scope `users:read.email`) is how admins listed by email and data member keys are
matched. A failed lookup never blocks an answer: the user is still known by their Slack id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.core.request import UserRef
from bot.slack.errors import reason

log = logging.getLogger(__name__)

PLATFORM = "slack"


class SlackDirectory:
    """users.info with a per-user cache: `ttl` seconds for answers, `failure_ttl` for failures."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 600.0,
        failure_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, UserRef | None]] = {}
        self._lock = threading.Lock()

    def user(self, user_id: str, name_hint: str | None = None) -> UserRef:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            found = cached[1]
        else:
            found = self._lookup(user_id)
            expires = now + (self._ttl if found is not None else self._failure_ttl)
            with self._lock:
                self._cache[user_id] = (expires, found)
        if found is not None:
            return found
        return UserRef(platform=PLATFORM, user_id=user_id, display_name=name_hint or None)

    def _lookup(self, user_id: str) -> UserRef | None:
        try:
            response = self._client.users_info(user=user_id)
        except (SlackClientError, OSError) as exc:  # SlackApiError is a SlackClientError
            log.warning("users.info failed for %s: %s", user_id, reason(exc))
            return None
        return user_ref_from_profile(user_id, response.get("user") or {})


def user_ref_from_profile(user_id: str, user: dict[str, Any]) -> UserRef:
    profile = user.get("profile") or {}
    email = (profile.get("email") or "").strip() or None
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or None
    return UserRef(platform=PLATFORM, user_id=user_id, email=email, display_name=name)
