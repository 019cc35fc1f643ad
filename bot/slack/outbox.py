"""Posting to Slack: messages (Block Kit + text fallback), then charts and attached files (exports) via
files_upload_v2 (files.getUploadURLExternal → the bytes to the returned URL → files.completeUploadExternal with
channel_id and thread_ts; files.upload is retired).

Used by scheduled jobs (`Outbox.send`) and by the chat listeners (`post`, in a thread).
Sends to one channel are paced (~1/s, Slack's chat.postMessage allowance). In chat a 429 is retried
after its `Retry-After` by the WebClient's `RateLimitErrorRetryHandler` (see `app.web_client`); a
scheduled send goes through a copy of the client without it and raises `Throttled(Retry-After)`, so
the deliverer waits exactly that long, as often as needed, without spending an attempt.

Scheduled sends carry message metadata (`event_type: kpibot_delivery`, the ledger key): with
`channels:history` / `groups:history`, `find_deliveries` finds a send whose process died before
recording it. `conversations.history` allows apps outside the Marketplace one call a minute, so those
look-ups are paced by `history_interval` (SLACK_HISTORY_INTERVAL_SECONDS).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.chat_kit.pacing import ChannelPacer
from bot.slack.blocks import message_payload
from jobs.delivery import PartialDelivery, Throttled, describe
from jobs.present.reply import Attachment, Chart, Reply
from jobs.recovery import HistoryUnavailable

DELIVERY_EVENT = "kpibot_delivery"
HISTORY_PAGE = 15  # the most apps outside the Marketplace may ask for
HISTORY_PAGES = 20
NO_HISTORY_ERRORS = frozenset({"missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type"})

log = logging.getLogger(__name__)


class SlackOutbox:
    platform = "slack"

    def __init__(
        self, client: WebClient, pacer: ChannelPacer | None = None, *, history_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.scheduled_client = without_rate_limit_retries(client)
        self.pacer = pacer or ChannelPacer()
        self.history_pacer = ChannelPacer(history_interval, clock=clock, sleep=sleep)
        self._sleep = sleep

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` into `channel` (then its charts); return the message ts. Raises `Throttled` on a 429
        (nothing was posted), PartialDelivery when only the charts failed, and other errors as they come."""
        try:
            return self._post(self.scheduled_client, channel, reply, idempotency_key=idempotency_key)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise Throttled(retry_after(exc.response.headers), "Slack 429 ratelimited") from None
            raise

    def send_in_thread(self, channel: str, thread: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """A scheduled post in the thread of message `thread` (its ts): alert reminders and resolved notices."""
        try:
            return self._post(self.scheduled_client, channel, reply, thread_ts=thread, idempotency_key=idempotency_key)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise Throttled(retry_after(exc.response.headers), "Slack 429 ratelimited") from None
            raise

    def update_message(self, channel: str, message_id: str, reply: Reply) -> None:
        """chat.update of a message the app posted (its ts): an alert once acknowledged, snoozed or resolved."""
        self.pacer.wait(channel)
        self.client.chat_update(channel=channel, ts=message_id, **message_payload(reply))

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
        return self._post(self.client, channel, reply, thread_ts=thread_ts, idempotency_key=idempotency_key)

    def find_deliveries(self, channel: str, keys: list[str], since: datetime) -> dict[str, str]:
        """ts of the scheduled sends among `keys` found in `channel` since `since` (by their metadata).
        Raises HistoryUnavailable when the app may not read the channel."""
        wanted = set(keys)
        found: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            self.history_pacer.wait("conversations.history")
            try:
                page = self.scheduled_client.conversations_history(
                    channel=channel, oldest=f"{since.timestamp():.6f}", include_all_metadata=True,
                    limit=HISTORY_PAGE, cursor=cursor,
                )
            except SlackApiError as exc:
                if exc.response.status_code == 429:
                    self._sleep(retry_after(exc.response.headers))
                    continue
                error = str(exc.response.get("error") or "error")
                needed = exc.response.get("needed")
                if error in NO_HISTORY_ERRORS:
                    raise HistoryUnavailable(
                        f"the Slack app cannot read {channel} to check (conversations.history: {error}"
                        + (f", needs {needed}" if needed else "")
                        + "; add channels:history and groups:history to let kpibot check such sends itself)"
                    ) from None
                raise
            for message in page.get("messages") or []:
                key = delivery_key(message)
                if key in wanted:
                    found.setdefault(key, str(message.get("ts")))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or len(found) == len(wanted):
                break
        return found

    def _post(
        self,
        client: WebClient,
        channel: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        self.pacer.wait(channel)
        extra: dict[str, Any] = {}
        if idempotency_key:
            extra["metadata"] = {"event_type": DELIVERY_EVENT, "event_payload": {"key": idempotency_key}}
        response = client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **message_payload(reply),
            **extra,
        )
        ts = str(response["ts"])
        posted_channel = str(response.get("channel") or channel)
        if reply.charts or reply.files:
            try:
                self.upload_charts(posted_channel, reply.charts, thread_ts=thread_ts, client=client, files=reply.files)
            except Exception as exc:
                # The message is out: a retry must not post it again; the problem is recorded instead.
                raise PartialDelivery(ts, describe(exc)) from exc
        return ts

    def upload_charts(
        self, channel: str, charts: list[Chart], *, thread_ts: str | None = None, client: WebClient | None = None,
        files: list[Attachment] | None = None,
    ) -> None:
        """All charts and files in one files_upload_v2 (getUploadURLExternal per file, the bytes, then one
        completeUploadExternal sharing them in `channel`, in the thread when `thread_ts` is given)."""
        uploads = [{"file": chart.png, "filename": chart.name, "title": chart.title or chart.name} for chart in charts]
        uploads += [{"file": file.data, "filename": file.name, "title": file.title or file.name}
                    for file in files or []]
        if not uploads:
            return
        self.pacer.wait(channel)
        (client or self.client).files_upload_v2(
            file_uploads=uploads,
            channel=channel,
            thread_ts=thread_ts,
        )

    def post_ephemeral(self, channel: str, user_id: str, reply: Reply) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user_id, **message_payload(reply))


def without_rate_limit_retries(client: WebClient) -> WebClient:
    """The same client minus `RateLimitErrorRetryHandler` (it sleeps Retry-After plus up to a second of
    jitter, twice, then gives up): scheduled sends wait out throttling themselves."""
    copy = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout, headers=client.headers)
    copy.retry_handlers = [h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)]
    return copy


def retry_after(headers: Any) -> float:
    """Seconds of a `Retry-After` header (any case); 1 when absent or unreadable."""
    for name, value in dict(headers or {}).items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(text))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def delivery_key(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != DELIVERY_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key else None
