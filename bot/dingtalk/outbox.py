"""Posting to DingTalk: charts uploaded as media first, then one markdown message, or an interactive
card when the reply has buttons (alerts). An attached file (an export) is uploaded as media of type `file` and
sent after the message through the robot API as msgKey `sampleFile` (a session webhook cannot carry files).

A `channel` is an open conversation id (a group) or `user:STAFF_ID` (that person, directly). Plain
messages have no idempotency key on DingTalk; a card's `cardBizId` is one, so it is derived from the
send's idempotency key and a retried alert is never posted twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from bot.dingtalk.client import DingTalkApi
from bot.dingtalk.render import reply_card, reply_markdown
from bot.dingtalk.translate import Incoming
from jobs.present.reply import Attachment, Reply

USER_PREFIX = "user:"
CARD_NAMESPACE = uuid.UUID("5d1a7c0e-6b3f-4f0e-9a57-64696e677461")
WEBHOOK_MARGIN_MS = 60_000  # a session webhook this close to expiry is not trusted


def card_biz_id(idempotency_key: str | None) -> str:
    return (uuid.uuid5(CARD_NAMESPACE, idempotency_key) if idempotency_key else uuid.uuid4()).hex


class DingTalkOutbox:
    platform = "dingtalk"

    def __init__(self, api: DingTalkApi, *, now_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.api = api
        self._now_ms = now_ms

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` to a group or a person; returns the processQueryKey, or for a card its cardBizId (what
        `update_message` needs to replace it)."""
        media_ids = self.upload_charts(reply)
        staff_id = channel.removeprefix(USER_PREFIX) if channel.startswith(USER_PREFIX) else None
        if reply.actions:
            biz_id = card_biz_id(idempotency_key)
            self.api.send_card(biz_id, reply_card(reply, media_ids), conversation_id=None if staff_id else channel,
                               staff_id=staff_id)
            return biz_id
        title, text = reply_markdown(reply, media_ids)
        sent = self._robot_send(channel, "sampleMarkdown", {"title": title, "text": text})
        self.send_files(channel, reply.files)
        return sent

    def send_files(self, channel: str, files: list[Attachment]) -> None:
        """Each file uploaded, then sent as `sampleFile` {mediaId, fileName, fileType}."""
        for file in files:
            media_id = self.api.upload_file(file.data, file.name)
            self._robot_send(channel, "sampleFile", {"mediaId": media_id, "fileName": file.name,
                                                     "fileType": file.extension or "file"})

    def _robot_send(self, channel: str, msg_key: str, param: dict[str, str]) -> str:
        if channel.startswith(USER_PREFIX):
            return self.api.send_to_user(channel.removeprefix(USER_PREFIX), msg_key, param)
        return self.api.send_to_group(channel, msg_key, param)

    def direct_channel(self, user_id: str) -> str | None:
        return USER_PREFIX + user_id

    def answer(self, incoming: Incoming, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Answer a robot message: through its session webhook while it is valid (markdown only), else
        through the robot API to the same conversation."""
        webhook_ok = incoming.session_webhook and incoming.webhook_expires_ms - WEBHOOK_MARGIN_MS > self._now_ms()
        if reply.actions or not webhook_ok:
            return self.send(incoming.channel, reply, idempotency_key=idempotency_key)
        title, text = reply_markdown(reply, self.upload_charts(reply))
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text},
                   "at": {"atUserIds": [incoming.sender_staff_id], "isAtAll": False}}
        self.api.post_session_webhook(str(incoming.session_webhook), payload, conversation=incoming.conversation_id)
        self.send_files(incoming.channel, reply.files)
        return incoming.msg_id

    def update(self, card_id: str, reply: Reply) -> None:
        """Replace a card already sent (an alert once acknowledged or snoozed)."""
        self.api.update_card(card_id, reply_card(reply, self.upload_charts(reply)))

    def update_message(self, channel: str, message_id: str, reply: Reply) -> None:
        """Replace a card `send` posted (`message_id` is its cardBizId). DingTalk groups have no threads, so
        alert reminders and resolved notices are new messages naming the alert, and this updates the card."""
        self.update(message_id, reply)

    def upload_charts(self, reply: Reply) -> list[str]:
        return [self.api.upload_image(chart.png, chart.name) for chart in reply.charts]
