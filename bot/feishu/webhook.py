"""`POST /feishu/events`: lark-oapi's EventDispatcherHandler behind our HTTP endpoint.

The SDK decrypts (`{"encrypt": …}` with the Encrypt Key), checks the verification token and
the signature (`X-Lark-Signature` = sha256(timestamp + nonce + encrypt key + body)), answers
`url_verification` with the challenge and dispatches to the registered handlers. It looks
headers up by their exact spelling, so the lower-cased ones Starlette gives are re-keyed first.

Every event type the app subscribes to is registered (see `SUBSCRIBED_EVENTS`), so none is
answered 500 and redelivered for hours. The SDK answers a rejection with 500 too; a failed
signature or token becomes 401 here, and an event type nobody registered (only reachable after
authentication) 200 with nothing done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
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
REJECTIONS = (
    "signature verification failed",
    "invalid verification_token",
    "encrypt_key not found",
    "padding",
    "ciphertext",
)
SIGNATURE_HEADERS = ("X-Lark-Signature", "X-Lark-Request-Timestamp", "X-Lark-Request-Nonce")
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
    def __init__(self, events: FeishuEvents, *, encrypt_key: str, verification_token: str) -> None:
        if not encrypt_key and not verification_token:
            log.warning(
                "Feishu events are not authenticated: set FEISHU_ENCRYPT_KEY and/or FEISHU_VERIFICATION_TOKEN"
            )
        self._dispatcher = build_event_handler(
            events, encrypt_key=encrypt_key, verification_token=verification_token
        )

    def handle(self, body: bytes, headers: Mapping[str, str], query: str) -> HttpResponse:
        from lark_oapi.core.model import RawRequest

        request = RawRequest()
        request.uri = EVENTS_PATH
        request.body = body
        request.headers = sdk_headers(headers)
        response = self._dispatcher.do(request)
        status = int(response.status_code or 500)
        content = bytes(response.content or b"")
        if status == 200:
            return HttpResponse(200, content, dict(JSON_HEADERS))
        return self._failure(status, content)

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
