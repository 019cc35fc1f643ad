"""Posting to Slack: messages (Block Kit + text fallback), then charts via files_upload_v2.

Used by scheduled jobs (`Outbox.send`) and by the chat listeners (`post`, in a thread).
Sends to one channel are paced (~1/s, Slack's chat.postMessage allowance); a 429 is retried after
its `Retry-After` by the WebClient's `RateLimitErrorRetryHandler` (see `app.web_client`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.slack.blocks import message_payload
from jobs.delivery import PartialDelivery, describe
from jobs.present.reply import Chart, Reply

log = logging.getLogger(__name__)


class ChannelPacer:
    """At most one send per `interval` seconds per channel; callers wait for their slot."""

    def __init__(
        self,
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(channel, now))
            self._next_slot[channel] = slot + self.interval
            if len(self._next_slot) > 10_000:
                self._next_slot = {key: at for key, at in self._next_slot.items() if at > now}
        if slot > now:
            self._sleep(slot - now)


class SlackOutbox:
    platform = "slack"

    def __init__(self, client: WebClient, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` into `channel` (then its charts); return the message ts. Raises on failure."""
        return self.post(channel, reply, idempotency_key=idempotency_key)

    def post(
        self,
        channel: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        self.pacer.wait(channel)
        extra = {}
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
