"""Who is asking: Slack user id → `UserRef` with email and display name (users.info, cached).

The email (scope `users:read.email`) is how admins listed by email and data member keys are
matched. A failed lookup never blocks an answer: the user is still known by their Slack id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.chat_kit.user_cache import UserCache
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
        self._cache = UserCache(self._lookup, ttl=ttl, failure_ttl=failure_ttl, clock=clock)

    def user(self, user_id: str, name_hint: str | None = None) -> UserRef:
        found = self._cache.get(user_id)
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
