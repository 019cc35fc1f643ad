"""Stream mode (DINGTALK_MODE=stream, no public URL): the official `dingtalk-stream` SDK's client on
its own thread and event loop.

The SDK parses frames, routes them to our handlers by topic and sends their ACKs; two of its parts are
replaced here. `open_connection` posts to DINGTALK_API_URL (the SDK reads its base URL once, at import,
from an environment variable) with a timeout (the SDK has none). `start` reconnects with a capped
backoff and can be stopped (0.24.3 loops forever and swallows cancellation). The SDK would log the
connection ticket; this client does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any
from urllib.parse import quote_plus

import dingtalk_stream
import requests
import websockets
from dingtalk_stream import AckMessage, CallbackMessage

from bot.dingtalk.events import DingTalkEvents

log = logging.getLogger(__name__)

OPEN_CONNECTION_PATH = "/v1.0/gateway/connections/open"
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0


class RobotMessages(dingtalk_stream.ChatbotHandler):
    """Topic `/v1.0/im/bot/messages/get`: claimed and queued off the loop, ACKed at once."""

    def __init__(self, events: DingTalkEvents) -> None:
        super().__init__()
        self.events = events

    async def process(self, callback: CallbackMessage) -> tuple[int, str]:
        await asyncio.to_thread(self.events.on_message, callback.data)
        return AckMessage.STATUS_OK, "OK"


class CardCallbacks(dingtalk_stream.CallbackHandler):
    """Topic `/v1.0/card/instances/callback`: the ACK's `response` may update the card."""

    def __init__(self, events: DingTalkEvents) -> None:
        super().__init__()
        self.events = events

    async def process(self, callback: CallbackMessage) -> tuple[int, Any]:
        answer = await asyncio.to_thread(self.events.on_card_callback, callback.data)
        return AckMessage.STATUS_OK, answer


class StreamClient(dingtalk_stream.DingTalkStreamClient):
    def __init__(self, client_id: str, client_secret: str, *, api_url: str) -> None:
        super().__init__(dingtalk_stream.Credential(client_id, client_secret), logger=log)
        self._open_url = api_url.rstrip("/") + OPEN_CONNECTION_PATH
        self.backoff_start, self.backoff_max = BACKOFF_START, BACKOFF_MAX
        self._stopped = asyncio.Event()  # bound to the loop that first waits on it (Python ≥ 3.10)
        self.connected = threading.Event()

    def open_connection(self) -> dict[str, Any] | None:
        topics = [{"type": "EVENT", "topic": "*"}] if self._is_event_required else []
        topics += [{"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map]
        body = {"clientId": self.credential.client_id, "clientSecret": self.credential.client_secret,
                "subscriptions": topics, "ua": "kpibot", "localIp": ""}
        try:
            response = requests.post(self._open_url, json=body, timeout=10.0)
            response.raise_for_status()
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("DingTalk Stream: opening a connection failed (%s)", type(exc).__name__)
            return None
        return answer if isinstance(answer, dict) and answer.get("endpoint") and answer.get("ticket") else None

    async def start(self) -> None:
        self.pre_start()
        backoff = self.backoff_start
        while not self._stopped.is_set():
            connection = await asyncio.to_thread(self.open_connection)
            if connection is not None:
                uri = f'{connection["endpoint"]}?ticket={quote_plus(connection["ticket"])}'
                try:
                    await self._serve(uri)
                    backoff = self.backoff_start
                except (OSError, websockets.exceptions.WebSocketException) as exc:
                    log.warning("DingTalk Stream: connection lost (%s); reconnecting", type(exc).__name__)
            if not self._stopped.is_set():
                await self._pause(backoff)
                backoff = min(backoff * 2, self.backoff_max)

    async def _serve(self, uri: str) -> None:
        async with websockets.connect(uri) as websocket:
            self.websocket = websocket
            self.connected.set()
            keepalive = asyncio.create_task(self.keepalive(websocket))
            closer = asyncio.create_task(self._close_when_stopped(websocket))
            in_flight: set[asyncio.Task[None]] = set()
            try:
                async for raw in websocket:
                    task = asyncio.create_task(self.background_task(json.loads(raw)))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
            finally:
                self.connected.clear()
                keepalive.cancel()
                closer.cancel()

    async def _close_when_stopped(self, websocket: Any) -> None:
        await self._stopped.wait()
        await websocket.close()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout=seconds)

    def request_stop(self) -> None:
        """Call on the client's loop (`loop.call_soon_threadsafe`); `start` returns once the connection closes."""
        self._stopped.set()


class StreamConnection:
    """The Stream client on a daemon thread with its own event loop."""

    def __init__(self, events: DingTalkEvents, *, client_id: str, client_secret: str, api_url: str) -> None:
        self.client = StreamClient(client_id, client_secret, api_url=api_url)
        self.client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, RobotMessages(events))
        self.client.register_callback_handler(dingtalk_stream.CallbackHandler.TOPIC_CARD_CALLBACK,
                                              CardCallbacks(events))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="kpibot-dingtalk-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.client.start())
        except Exception:
            log.exception("DingTalk Stream stopped unexpectedly")

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self.client.request_stop)
        self._thread.join(timeout)
