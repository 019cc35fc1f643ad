"""Posting replies to Feishu: charts uploaded as images, then one card (or text) message.

Every message carries a `uuid`: Feishu sends a message once per uuid (for an hour), so a retry
after a timeout or a rate limit never doubles it. With an idempotency key the uuid is derived
from it, so the same scheduled post retried after a crash is also sent once.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import timedelta
from typing import Any

from bot.feishu.cards import card_json, message_content, reply_card
from bot.feishu.client import FeishuApi
from jobs.present.reply import Reply

UUID_NAMESPACE = uuid_module.UUID("0b7f3c2e-5b55-4a53-9f5e-6b7069626f74")


def message_uuid(idempotency_key: str | None) -> str:
    """Feishu allows 50 characters: a UUID (36) derived from the key, or a fresh one."""
    if idempotency_key:
        return str(uuid_module.uuid5(UUID_NAMESPACE, idempotency_key))
    return str(uuid_module.uuid4())


class FeishuOutbox:
    platform = "feishu"
    # Feishu sends one message per uuid within an hour: a dead process's send resent with the same key
    # inside this window is not doubled (a margin below the hour for clocks and the resend itself).
    idempotency_window = timedelta(minutes=50)

    def __init__(self, api: FeishuApi) -> None:
        self.api = api

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` to the chat `channel` (a chat_id, or an open_id for a direct message); returns the
        message id. A rate limit raises `Throttled` with the advertised wait (the deliverer waits it out)."""
        msg_type, content = message_content(reply, self.upload_charts(reply))
        return self.api.send_message(channel, msg_type, content, message_uuid(idempotency_key), raise_throttled=True)

    def direct_channel(self, user_id: str) -> str | None:
        """An open_id: `send` posts to it as a direct message from the bot."""
        return user_id if user_id.startswith("ou_") else None

    def reply(
        self,
        message_id: str,
        reply: Reply,
        *,
        chat_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Answer a message (shown quoted under it)."""
        msg_type, content = message_content(reply, self.upload_charts(reply))
        return self.api.reply_message(
            message_id, msg_type, content, message_uuid(idempotency_key), chat_id=chat_id
        )

    def reply_card(
        self,
        message_id: str,
        card: dict[str, Any],
        *,
        chat_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        return self.api.reply_message(
            message_id, "interactive", card_json(card), message_uuid(idempotency_key), chat_id=chat_id
        )

    def update(self, message_id: str, reply: Reply) -> None:
        """Replace a card already sent (e.g. an alert once acknowledged)."""
        self.api.update_card(message_id, card_json(reply_card(reply, self.upload_charts(reply))))

    def upload_charts(self, reply: Reply) -> list[str]:
        return [self.api.upload_image(chart.png, chart.name) for chart in reply.charts]
