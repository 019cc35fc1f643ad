"""The DingTalk adapter: `create_adapter(settings, core)` wires the API client, the user directory,
events, the HTTP callback and (in stream mode) the Stream connection. Created through the platform
table only when DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET are set."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from bot.adapters import HttpEndpoint
from bot.core.bot import KpiBot
from bot.dingtalk.callback import EVENTS_PATH, DingTalkCallback
from bot.dingtalk.client import DingTalkApi
from bot.dingtalk.events import DingTalkEvents
from bot.dingtalk.identity import DingTalkDirectory
from bot.dingtalk.outbox import DingTalkOutbox
from jobs.drain import finish_within
from storage.settings import Settings

log = logging.getLogger(__name__)

WORKER_THREADS = 8


class DingTalkAdapter:
    name = "dingtalk"

    def __init__(self, settings: Settings, core: KpiBot) -> None:
        secret = settings.dingtalk_client_secret.get_secret_value()
        self.api = DingTalkApi(client_id=settings.dingtalk_client_id, client_secret=secret,
                               robot_code=settings.dingtalk_robot_code, api_url=settings.dingtalk_api_url,
                               oapi_url=settings.dingtalk_oapi_url)
        self._outbox = DingTalkOutbox(self.api)
        self.executor = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="dingtalk-work")
        self.events = DingTalkEvents(core=core, outbox=self._outbox, directory=DingTalkDirectory(self.api),
                                     executor=self.executor, locale=settings.locale)
        self.callback = DingTalkCallback(self.events, app_secret=secret)
        self.stream = None
        if settings.dingtalk_mode == "stream":
            from bot.dingtalk.stream import StreamConnection  # imports dingtalk_stream

            self.stream = StreamConnection(self.events, client_id=settings.dingtalk_client_id, client_secret=secret,
                                           api_url=settings.dingtalk_api_url)

    def endpoints(self) -> list[HttpEndpoint]:
        # Mounted in stream mode too: a robot may still be set to an HTTP callback URL.
        return [HttpEndpoint("POST", EVENTS_PATH, self.callback.handle)]

    def start(self) -> None:
        if self.stream is not None:
            log.info("DingTalk: starting the Stream connection")
            self.stream.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop taking events, then let answers under way finish for up to `timeout` seconds."""
        if self.stream is not None:
            self.stream.stop()
        finished = finish_within(lambda: self.executor.shutdown(wait=True), timeout, "DingTalk answers")
        self.api.close()
        return finished

    def connection_up(self) -> bool | None:
        """Stream mode: whether the Stream connection is up; None with an HTTP callback only."""
        return None if self.stream is None else self.stream.client.connected.is_set()

    def outbox(self) -> DingTalkOutbox:
        return self._outbox


def create_adapter(settings: Settings, core: KpiBot) -> DingTalkAdapter:
    return DingTalkAdapter(settings, core)
