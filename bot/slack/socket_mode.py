"""Socket Mode (`SLACK_APP_TOKEN` set): the same Bolt app, fed over a websocket instead of HTTP.

slack_sdk's built-in SocketModeClient calls `apps.connections.open` (on `SLACK_API_URL`) and
connects to the URL it returns; Bolt's SocketModeHandler dispatches each envelope through the app
and sends the ack (with any ack payload). Connecting happens in a background thread, retried
with backoff, so `start()` returns at once and a Slack outage at boot does not stop the process.

A connection cut without a close frame (network drop, server crash) shows only as failed pings:
slack_sdk drops the session after 5 failed pings or 4 ping intervals without a pong and reconnects.
Bolt's default interval (10 s) made that about a minute of deafness; PING_INTERVAL (1 s) makes it a
few seconds, for one small frame a second.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler

from bot.slack.errors import reason

log = logging.getLogger(__name__)

PING_INTERVAL = 1.0


class SocketModeRunner:
    def __init__(
        self, app: App, app_token: str, *, max_backoff: float = 60.0, ping_interval: float = PING_INTERVAL
    ) -> None:
        self._app = app
        self._ping_interval = ping_interval
        self._app_token = app_token
        self._max_backoff = max_backoff
        self._handler: SocketModeHandler | None = None
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._connect_until_stopped, name="slack-socket-mode", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._handler is not None:
            try:
                _wake_receiver(self._handler)
                self._handler.close()
            except Exception as exc:
                log.warning("closing Socket Mode failed: %s", reason(exc))
            self._handler = None
        self._connected.clear()

    def _connect_until_stopped(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            handler = SocketModeHandler(self._app, app_token=self._app_token, web_client=self._app.client,
                                        ping_interval=self._ping_interval)
            try:
                handler.connect()
            except Exception as exc:
                log.warning("Socket Mode connect failed (%s); retrying in %.0f s", reason(exc), backoff)
                handler.close()
                if self._stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if self._stopping.is_set():
                handler.close()
                return
            self._handler = handler
            self._connected.set()
            log.info("Slack Socket Mode connected")
            return


def _wake_receiver(handler: SocketModeHandler) -> None:
    """Let slack_sdk's close() return at once. It takes the socket's receive lock, which the receiving thread
    holds for up to the 3 s receive timeout of a `recv` with nothing to read: every stop waited that long.
    The session is marked terminated first (as close() would), so the woken receiver does not reconnect."""
    client = handler.client
    client.auto_reconnect_enabled = False
    client.current_session_state.terminated = True
    sock = getattr(client.current_session, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
