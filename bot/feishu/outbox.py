"""Posting replies to Feishu: charts uploaded as images, then one card (or text) message, then each attached
file (an export) uploaded through im/v1/files and sent as a `file` message after it.

Every message carries a `uuid`: Feishu sends a message once per uuid (for an hour), so a retry
after a timeout or a rate limit never doubles it. With an idempotency key the uuid is derived
from it, so the same scheduled post retried after a crash is also sent once.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from datetime import timedelta
from typing import Any

from bot.feishu.cards import card_json, message_content, reply_card
from bot.feishu.client import FeishuApi
from jobs.present.reply import Attachment, Reply

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
        message_id = self.api.send_message(channel, msg_type, content, message_uuid(idempotency_key),
                                           raise_throttled=True)
        for index, file in enumerate(reply.files):
            self.api.send_message(channel, "file", self.file_content(file), _file_uuid(idempotency_key, index))
        return message_id

    def send_in_thread(self, channel: str, thread: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """A scheduled post as a reply to message `thread` (im/v1/messages/:id/reply), with the same uuid
        idempotency as `send`; a rate limit raises `Throttled`."""
        msg_type, content = message_content(reply, self.upload_charts(reply))
        return self.api.reply_message(thread, msg_type, content, message_uuid(idempotency_key), chat_id=channel,
                                      raise_throttled=True)

    def update_message(self, channel: str, message_id: str, reply: Reply) -> None:
        """PATCH a card the bot sent (an alert once acknowledged, snoozed or resolved)."""
        self.update(message_id, reply)

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
        answer_id = self.api.reply_message(
            message_id, msg_type, content, message_uuid(idempotency_key), chat_id=chat_id
        )
        for index, file in enumerate(reply.files):
            self.api.reply_message(message_id, "file", self.file_content(file), _file_uuid(idempotency_key, index),
                                   chat_id=chat_id)
        return answer_id

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

    def file_content(self, file: Attachment) -> str:
        """Upload one attachment; the `content` of its `file` message. Spreadsheets go up as `xls` (Feishu
        previews them), anything else as `stream`."""
        key = self.api.upload_file(file.data, file.name, FILE_TYPES.get(file.extension, "stream"))
        return json.dumps({"file_key": key})


# im/v1/files `file_type` by extension (Feishu's own list: opus mp4 pdf doc xls ppt stream).
FILE_TYPES = {"xlsx": "xls", "xls": "xls", "csv": "stream", "pdf": "pdf", "doc": "doc", "docx": "doc"}


def _file_uuid(idempotency_key: str | None, index: int) -> str:
    return message_uuid(f"{idempotency_key}:file:{index}" if idempotency_key else None)
