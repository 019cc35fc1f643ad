"""`POST /feishu/events`: lark-oapi's EventDispatcherHandler behind our HTTP endpoint.

The SDK decrypts (`{"encrypt": …}` with the Encrypt Key), checks the verification token and
the signature (`X-Lark-Signature` = sha256(timestamp + nonce + encrypt key + body)), answers
`url_verification` with the challenge and dispatches to the registered handlers. It looks
headers up by their exact spelling, so the lower-cased ones Starlette gives are re-keyed first.

Every event type the app subscribes to is registered (see `SUBSCRIBED_EVENTS`), so none is
answered 500 and redelivered for hours. The SDK answers a rejection with 500 too; a failed
signature or token becomes 401 here, and an event type nobody registered (only reachable after
authentication) 200 with nothing done. A rejection is logged as one line (the SDK's own traceback
of it is dropped).

Freshness: the signature covers `X-Lark-Request-Timestamp`, but the SDK never looks at its age, so a
captured request could be replayed for ever. A signed request older than FRESHNESS_WINDOW (7 h 30 min)
or more than FUTURE_SKEW ahead is refused with 401. Feishu redelivers an unanswered event after 15 s,
5 min, 1 h and 6 h; whether a retry is signed anew is not documented, so the window covers the last
retry even if it kept the first timestamp (15 s + 5 min + 1 h + 6 h ≈ 7 h 5 min after it) plus
clock skew. Event ids are kept 24 h (housekeeping), longer than the window, so a replay inside the
window is caught by the event-id dedupe and one outside it by the timestamp.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from bot.adapters import HttpResponse
from bot.feishu.events import FeishuEvents

log = logging.getLogger(__name__)

EVENTS_PATH = "/feishu/events"
# Events the README asks to subscribe to (and a few an app commonly has on) → handler name.
SUBSCRIBED_EVENTS: dict[str, str] = {
    "im.message.receive_v1": "on_message",
    "im.chat.member.bot.added_v1": "on_bot_added",
    "im.chat.member.bot.deleted_v1": "ignore",
    "im.message.message_read_v1": "ignore",
    "im.message.reaction.created_v1": "ignore",
    "im.message.reaction.deleted_v1": "ignore",
    "im.message.recalled_v1": "ignore",
    "im.chat.disbanded_v1": "ignore",
    "im.chat.access_event.bot_p2p_chat_entered_v1": "ignore",
}
SDK_HEADER_NAMES = {
    name.lower(): name
    for name in (
        "X-Lark-Signature",
        "X-Lark-Request-Timestamp",
        "X-Lark-Request-Nonce",
        "X-Request-Id",
        "Content-Type",
    )
}
# SDK error texts meaning "not from Feishu": bad signature or token, or a body our key cannot decrypt.
# Another key's ciphertext passes the padding check about once in 256 tries and then fails as UTF-8.
REJECTIONS = (
    "signature verification failed",
    "invalid verification_token",
    "encrypt_key not found",
    "padding",
    "ciphertext",
    "codec can't decode",
)
SIGNATURE_HEADERS = ("X-Lark-Signature", "X-Lark-Request-Timestamp", "X-Lark-Request-Nonce")
FRESHNESS_WINDOW = timedelta(hours=7, minutes=30)
FUTURE_SKEW = timedelta(minutes=5)
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def build_event_handler(events: FeishuEvents, *, encrypt_key: str, verification_token: str) -> Any:
    """The SDK dispatcher with every subscribed event registered (webhook and long connection)."""
    import lark_oapi as lark

    builder = lark.EventDispatcherHandler.builder(encrypt_key, verification_token)
    for event_type, handler_name in SUBSCRIBED_EVENTS.items():
        builder = builder.register_p2_customized_event(event_type, getattr(events, handler_name))
    builder = builder.register_p2_card_action_trigger(events.on_card_action)
    return builder.build()


class FeishuWebhook:
    def __init__(
        self, events: FeishuEvents, *, encrypt_key: str, verification_token: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        quiet_sdk_rejections()
        if not encrypt_key and not verification_token:
            log.warning(
                "Feishu events are not authenticated: set FEISHU_ENCRYPT_KEY and/or FEISHU_VERIFICATION_TOKEN"
            )
        self._dispatcher = build_event_handler(
            events, encrypt_key=encrypt_key, verification_token=verification_token
        )

    def handle(self, body: bytes, headers: Mapping[str, str], query: str) -> HttpResponse:
        from lark_oapi.core.model import RawRequest

        rekeyed = sdk_headers(headers)
        if stale := self._stale(rekeyed):
            log.warning("Feishu event rejected: %s", stale)
            return HttpResponse(401, b'{"msg":"unauthorized"}', dict(JSON_HEADERS))
        request = RawRequest()
        request.uri = EVENTS_PATH
        request.body = body
        request.headers = rekeyed
        response = self._dispatcher.do(request)
        status = int(response.status_code or 500)
        content = bytes(response.content or b"")
        if status == 200:
            return HttpResponse(200, content, dict(JSON_HEADERS))
        return self._failure(status, content)

    def _stale(self, headers: Mapping[str, str]) -> str | None:
        """Why a signed request is too old (or from the future) to accept; None for a fresh or unsigned one
        (the SDK refuses an unsigned request whenever an Encrypt Key is set)."""
        stamp = headers.get("X-Lark-Request-Timestamp") or ""
        if not headers.get("X-Lark-Signature") or not stamp:
            return None
        try:
            age = self._clock() - float(stamp)
        except ValueError:
            return "X-Lark-Request-Timestamp is not a number"
        if age > FRESHNESS_WINDOW.total_seconds():
            return f"signed {age / 3600:.1f} h ago, older than the {FRESHNESS_WINDOW.total_seconds() / 3600:g} h window"
        if -age > FUTURE_SKEW.total_seconds():
            return f"timestamp {-age:.0f} s in the future"
        return None

    @staticmethod
    def _failure(status: int, content: bytes) -> HttpResponse:
        reason = _sdk_message(content)
        if any(rejection in reason for rejection in REJECTIONS):
            log.warning("Feishu event rejected: %s", reason)
            return HttpResponse(401, b'{"msg":"unauthorized"}', dict(JSON_HEADERS))
        if "processor not found" in reason:  # authenticated, but no handler for this type
            log.info("Feishu event ignored: %s", reason)
            return HttpResponse(200, b'{"msg":"ignored"}', dict(JSON_HEADERS))
        log.warning("Feishu event failed (status %s): %s", status, reason[:200])
        malformed = "Expecting" in reason or "JSON" in reason or "body is null" in reason
        return HttpResponse(400 if malformed else 500, b'{"msg":"error"}', dict(JSON_HEADERS))


class _DropDispatchTracebacks(logging.Filter):
    """The SDK logs every refused request with `logger.exception` (a traceback per forged request);
    `FeishuWebhook` logs its own line with the reason instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.pathname.replace("\\", "/").endswith("event/dispatcher_handler.py"))


_SDK_FILTER = _DropDispatchTracebacks()


def quiet_sdk_rejections() -> None:
    sdk_logger = logging.getLogger("Lark")
    if _SDK_FILTER not in sdk_logger.filters:
        sdk_logger.addFilter(_SDK_FILTER)


def sdk_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers spelled as the SDK looks them up (Starlette lower-cases every name). Missing
    signature headers become empty, so the SDK reports a failed signature, not a TypeError."""
    rekeyed = {SDK_HEADER_NAMES.get(name.lower(), name): value for name, value in headers.items()}
    for name in SIGNATURE_HEADERS:
        rekeyed.setdefault(name, "")
    return rekeyed


def _sdk_message(content: bytes) -> str:
    try:
        return str(json.loads(content).get("msg") or "")
    except (ValueError, AttributeError):
        return content.decode("utf-8", "replace")
