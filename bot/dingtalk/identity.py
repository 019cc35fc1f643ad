"""Who a DingTalk user is: staffId (`senderStaffId`) → name and email through `topapi/v2/user/get`,
cached. Email needs the Contacts permission for email; without it the user is still served, known
by staffId (and by `KPIBOT_ADMINS` entries `dingtalk:STAFF_ID`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from bot.chat_kit.user_cache import UserCache
from bot.core.request import UserRef

log = logging.getLogger(__name__)

PLATFORM = "dingtalk"


class UserDirectory(Protocol):
    def get_user(self, staff_id: str) -> dict[str, Any]: ...


class DingTalkDirectory:
    def __init__(
        self,
        directory: UserDirectory,
        *,
        ttl: float = 3600.0,
        failure_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._cache = UserCache(self._lookup, ttl=ttl, failure_ttl=failure_ttl, clock=clock)

    def user(self, staff_id: str, nick: str | None = None) -> UserRef:
        found = self._cache.get(staff_id)
        if found is not None:
            return UserRef(PLATFORM, staff_id, email=found.email, display_name=found.display_name or nick)
        return UserRef(PLATFORM, staff_id, display_name=nick or None)

    def _lookup(self, staff_id: str) -> UserRef | None:
        try:
            user = self._directory.get_user(staff_id)
        except Exception as exc:
            log.warning("DingTalk user lookup failed for %s: %s", staff_id, exc)
            return None
        email = (user.get("org_email") or user.get("email") or "").strip() or None
        return UserRef(PLATFORM, staff_id, email=email, display_name=user.get("name") or None)
