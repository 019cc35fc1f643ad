"""Posting to Slack: messages (Block Kit + text fallback), then charts via files_upload_v2.

Used by scheduled jobs (`Outbox.send`) and by the chat listeners (`post`, in a thread).
Sends to one channel are paced (~1/s, Slack's chat.postMessage allowance); a 429 is retried after
its `Retry-After` by the WebClient's `RateLimitErrorRetryHandler` (see `app.web_client`).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.chat_kit.pacing import ChannelPacer
from bot.slack.blocks import message_payload
from jobs.delivery import PartialDelivery, describe
from jobs.present.reply import Chart, Reply

log = logging.getLogger(__name__)


class SlackOutbox:
    platform = "slack"

    def __init__(self, client: WebClient, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` into `channel` (then its charts); return the message ts. Raises on failure."""
        return self.post(channel, reply, idempotency_key=idempotency_key)

    def direct_channel(self, user_id: str) -> str | None:
        """chat.postMessage to a user id posts in the app's DM with them."""
        return user_id

    def post(
        self,
        channel: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        self.pacer.wait(channel)
        extra: dict[str, Any] = {}
        if idempotency_key:
            extra["metadata"] = {"event_type": "kpibot_delivery", "event_payload": {"key": idempotency_key}}
        response = self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **message_payload(reply),
            **extra,
        )
        ts = str(response["ts"])
        posted_channel = str(response.get("channel") or channel)
        if reply.charts:
            try:
                self.upload_charts(posted_channel, reply.charts, thread_ts=thread_ts)
            except Exception as exc:
                # The message is out: a retry must not post it again; the problem is recorded instead.
                raise PartialDelivery(ts, describe(exc)) from exc
        return ts

    def upload_charts(self, channel: str, charts: list[Chart], *, thread_ts: str | None = None) -> None:
        """All charts in one files_upload_v2 (getUploadURLExternal, upload, completeUploadExternal)."""
        if not charts:
            return
        self.pacer.wait(channel)
        self.client.files_upload_v2(
            file_uploads=[
                {"file": chart.png, "filename": chart.name, "title": chart.title or chart.name} for chart in charts
            ],
            channel=channel,
            thread_ts=thread_ts,
        )

    def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user_id, **message_payload(reply))
