"""An app access token (Feishu tenant token, DingTalk app token) owned by one adapter: fetched by one
caller at a time (the others wait for its token), renewed ahead of expiry, dropped when rejected."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

REFRESH_MARGIN_SECONDS = 600.0  # renew ten minutes before expiry (as the platforms' SDKs do)


class TokenCache:
    def __init__(self, fetch: Callable[[], tuple[str, float]], clock: Callable[[], float] = time.monotonic) -> None:
        """`fetch()` returns (token, seconds it is valid)."""
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                token, expires_in = self._fetch()
                self._token = token
                self._renew_at = self._clock() + max(expires_in - REFRESH_MARGIN_SECONDS, expires_in / 2)
            return self._token

    def drop(self, token: str) -> None:
        """Forget `token` (the platform rejected it); a newer token fetched meanwhile stays."""
        with self._lock:
            if self._token == token:
                self._token = None
