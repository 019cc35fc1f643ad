"""`POST /dingtalk/events`: the robot's HTTP callback (DINGTALK_MODE=http).

DingTalk signs each request: header `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key=AppSecret,
msg=f"{timestamp}\\n{AppSecret}")). A missing or wrong sign, or a timestamp more than an hour from
now, is refused with 401 before the body is read as JSON; nothing changes. The body is the same JSON
as a Stream robot message (or a card callback); the answer goes out through the message's session
webhook or the robot API, so the HTTP answer is an empty 200 at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping

from bot.adapters import HttpResponse
from bot.dingtalk.events import DingTalkEvents

log = logging.getLogger(__name__)

EVENTS_PATH = "/dingtalk/events"
MAX_SKEW_MS = 60 * 60 * 1000
JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}


def signature(timestamp: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkCallback:
    def __init__(self, events: DingTalkEvents, *, app_secret: str,
                 now_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.events = events
        self._secret = app_secret
        self._now_ms = now_ms

    def handle(self, body: bytes, headers: Mapping[str, str], query: str) -> HttpResponse:
        lowered = {name.lower(): value for name, value in headers.items()}
        if not self.signed(lowered.get("timestamp", ""), lowered.get("sign", "")):
            log.warning("DingTalk callback refused: bad or stale signature")
            return HttpResponse(401, b'{"error":"invalid signature"}', dict(JSON_HEADERS))
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return HttpResponse(400, b'{"error":"body is not JSON"}', dict(JSON_HEADERS))
        if not isinstance(data, dict):
            return HttpResponse(400, b'{"error":"expected a JSON object"}', dict(JSON_HEADERS))
        if "outTrackId" in data:
            answer = self.events.on_card_callback(data)
            return HttpResponse(200, json.dumps(answer).encode(), dict(JSON_HEADERS))
        if not self.events.on_message(data):
            return HttpResponse(400, b'{"error":"not a robot message"}', dict(JSON_HEADERS))
        return HttpResponse(200, b"{}", dict(JSON_HEADERS))

    def signed(self, timestamp: str, sign: str) -> bool:
        if not timestamp.isdigit() or not sign:
            return False
        if abs(self._now_ms() - int(timestamp)) > MAX_SKEW_MS:
            return False
        return hmac.compare_digest(signature(timestamp, self._secret).encode(), sign.encode())
