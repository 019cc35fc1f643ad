"""The Feishu adapter: `create_adapter(settings, core)` wires API client, events, webhook, long connection.

Created through the platform table (`bot.feishu.PLATFORM`) only when FEISHU_APP_ID and
FEISHU_APP_SECRET are set; lark_oapi is imported from here on, never earlier.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from bot.adapters import HttpEndpoint
from bot.core.bot import KpiBot
from bot.feishu.client import FeishuApi
from bot.feishu.events import FeishuEvents
from bot.feishu.identity import Identities
from bot.feishu.longconn import LongConnection
from bot.feishu.outbox import FeishuOutbox
from bot.feishu.webhook import EVENTS_PATH, FeishuWebhook, build_event_handler
from jobs.drain import finish_within
from storage.settings import Settings

log = logging.getLogger(__name__)

WORKER_THREADS = 8


class FeishuAdapter:
    name = "feishu"

    def __init__(self, settings: Settings, core: KpiBot) -> None:
        self.settings = settings
        app_secret = settings.feishu_app_secret.get_secret_value()
        encrypt_key = settings.feishu_encrypt_key.get_secret_value()
        verification_token = settings.feishu_verification_token.get_secret_value()
        self.api = FeishuApi(app_id=settings.feishu_app_id, app_secret=app_secret, domain=settings.feishu_domain)
        self.identities = Identities(self.api)
        self._outbox = FeishuOutbox(self.api)
        self.executor = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="feishu-work")
        self.events = FeishuEvents(
            core=core,
            api=self.api,
            identities=self.identities,
            outbox=self._outbox,
            executor=self.executor,
            locale=settings.locale,
        )
        self.webhook = FeishuWebhook(self.events, encrypt_key=encrypt_key, verification_token=verification_token)
        self.long_connection: LongConnection | None = None
        if settings.feishu_mode == "ws":
            self.long_connection = LongConnection(
                app_id=settings.feishu_app_id,
                app_secret=app_secret,
                domain=self.api.domain,
                # events over the connection are neither encrypted nor signed
                event_handler=build_event_handler(self.events, encrypt_key="", verification_token=""),
            )

    def endpoints(self) -> list[HttpEndpoint]:
        # Mounted in ws mode too: card callbacks may still be configured to an HTTPS URL.
        return [HttpEndpoint("POST", EVENTS_PATH, self.webhook.handle)]

    def start(self) -> None:
        if self.long_connection is not None:
            log.info("Feishu: starting the long connection")
            self.long_connection.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop taking events, then let answers under way finish for up to `timeout` seconds."""
        if self.long_connection is not None:
            self.long_connection.stop()
        return finish_within(lambda: self.executor.shutdown(wait=True), timeout, "Feishu answers")

    def connection_up(self) -> bool | None:
        """Long connection: whether it is connected; None in webhook mode (no connection to keep)."""
        return None if self.long_connection is None else self.long_connection.connected

    def outbox(self) -> FeishuOutbox:
        return self._outbox


def create_adapter(settings: Settings, core: KpiBot) -> FeishuAdapter:
    return FeishuAdapter(settings, core)
