"""FEISHU_MODE=ws: events over lark-oapi's long connection instead of a public webhook URL.

`lark.ws.Client.start()` blocks forever on an event loop the SDK creates at import (one per
process, so one long connection per process). It runs here in a daemon thread with the same
dispatcher as the webhook; events arrive already decrypted and unsigned (the connection itself
is authenticated with the app secret). The SDK reconnects by itself after a drop; when `start`
gives up (bad credentials, endpoint down), this loop starts a fresh client after a pause.

The SDK logs the connection URL (it carries a connection ticket) at INFO, so its logger is kept
at WARNING and the state is logged here instead: connecting → connected → reconnecting ….
The SDK has no public connection state or stop: `_conn`, `_disconnect` and `_auto_reconnect`
are read and used below, pinned by the long-connection test.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class LongConnection:
    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        domain: str,
        event_handler: Any,
        retry_seconds: float = 5.0,
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._domain = domain
        self._handler = event_handler
        self._retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._connected = threading.Event()
        self.state = "stopped"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="feishu-long-connection", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        loop, client = self._loop, self._client
        if loop is not None and client is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(_close(client), loop).result(timeout)
            except Exception:
                log.debug("closing the Feishu long connection failed", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        self._set_state("stopped", connected=False)

    def _run(self) -> None:
        import lark_oapi as lark
        from lark_oapi.ws import client as ws_module

        loop = ws_module.loop  # the SDK's own loop; its client only ever runs on it
        asyncio.set_event_loop(loop)
        self._loop = loop
        while not self._stopping.is_set():
            client = lark.ws.Client(
                self._app_id,
                self._app_secret,
                log_level=lark.LogLevel.WARNING,
                event_handler=self._handler,
                domain=self._domain,
                auto_reconnect=True,
            )
            client.on_reconnecting = lambda: self._set_state("reconnecting", connected=False)
            client.on_reconnected = lambda: self._set_state("connected", connected=True)
            self._client = client
            self._set_state("connecting", connected=False)
            watcher = loop.create_task(self._watch(client))
            try:
                client.start()
            except Exception as exc:
                if not self._stopping.is_set():
                    log.warning(
                        "Feishu long connection failed (%s); retrying in %.0f s",
                        type(exc).__name__, self._retry_seconds,
                    )
            finally:
                watcher.cancel()
            self._set_state("disconnected", connected=False)
            self._stopping.wait(self._retry_seconds)

    async def _watch(self, client: Any) -> None:
        """Logs connects and drops (the SDK offers no hook for the first connect)."""
        while True:
            is_up = client._conn is not None
            if is_up != self._connected.is_set():
                self._set_state("connected" if is_up else "reconnecting", connected=is_up)
            await asyncio.sleep(0.1)

    def _set_state(self, state: str, *, connected: bool) -> None:
        if connected:
            self._connected.set()
        else:
            self._connected.clear()
        if state != self.state:
            log.info("Feishu long connection: %s", state)
            self.state = state


# The SDK's background coroutines for one client (and our watcher): cancelled on stop, so none
# wakes up on the closed socket to reconnect or to log a "never retrieved" exception.
CLIENT_COROUTINES = {"_receive_message_loop", "_ping_loop", "_handle_message", "_start_clear_cron", "_watch"}


async def _close(client: Any) -> None:
    client._auto_reconnect = False
    current = asyncio.current_task()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if task is not current and code is not None and code.co_name in CLIENT_COROUTINES:
            task.cancel()
    await client._disconnect()
