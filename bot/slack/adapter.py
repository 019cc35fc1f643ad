"""SlackAdapter: the Slack side of `PlatformAdapter`.

`POST /slack/events` (slash commands, Events API, interactivity): the signature and timestamp
are verified (401 otherwise, before anything is parsed), then Bolt's `App.dispatch` runs and its
`BoltResponse` becomes our `HttpResponse`. With `SLACK_APP_TOKEN`, Socket Mode feeds the same
app from `start()`. `outbox()` posts scheduled replies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.adapters import HttpEndpoint, HttpResponse
from bot.core.bot import KpiBot
from bot.slack.app import build_app
from bot.slack.outbox import SlackOutbox
from bot.slack.services import SlackServices
from bot.slack.socket_mode import SocketModeRunner
from storage.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
JSON = {"content-type": "application/json"}


class SlackAdapter:
    name = "slack"

    def __init__(self, app: App, services: SlackServices, *, signing_secret: str, app_token: str = "") -> None:
        self.app = app
        self.services = services
        self._verifier = SignatureVerifier(signing_secret)
        self.socket_mode = SocketModeRunner(app, app_token) if app_token else None

    def endpoints(self) -> list[HttpEndpoint]:
        return [HttpEndpoint("POST", EVENTS_PATH, self.handle_http)]

    def handle_http(self, body: bytes, headers: Mapping[str, str], query: str) -> HttpResponse:
        # Checked here before Bolt parses anything (junk bodies, non-numeric timestamps would be a
        # 500 inside Bolt); Bolt's RequestVerification checks again.
        if not self._signed(body, headers):
            return HttpResponse(status=401, body=b'{"error":"invalid request"}', headers=JSON)
        try:
            request = BoltRequest(body=body.decode("utf-8"), query=query or None, headers=dict(headers))
        except ValueError:  # signed, but not a payload Slack sends (bad UTF-8 or JSON)
            return HttpResponse(status=400)
        return http_response(self.app.dispatch(request))

    def start(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop taking events, then let answers under way finish for up to `timeout` seconds."""
        if self.socket_mode is not None:
            self.socket_mode.stop()
        return self.services.close(timeout)

    def connection_up(self) -> bool | None:
        """Socket Mode: whether it is connected; None over HTTP (no connection to keep)."""
        return None if self.socket_mode is None else self.socket_mode.connected

    def outbox(self) -> SlackOutbox:
        return self.services.outbox

    def _signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        lowered = {key.lower(): value for key, value in headers.items()}
        try:  # SignatureVerifier also rejects timestamps more than 5 minutes off
            return self._verifier.is_valid(
                body=body,
                timestamp=lowered.get("x-slack-request-timestamp", "0"),
                signature=lowered.get("x-slack-signature", ""),
            )
        except ValueError:
            return False


def http_response(response: BoltResponse) -> HttpResponse:
    body = response.body if isinstance(response.body, str) else str(response.body or "")
    headers = {name: ", ".join(values) for name, values in response.headers.items() if values}
    return HttpResponse(status=response.status, body=body.encode("utf-8"), headers=headers)


def create_adapter(settings: Settings, core: KpiBot) -> SlackAdapter:
    app, services = build_app(settings, core)
    return SlackAdapter(
        app,
        services,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        app_token=settings.slack_app_token.get_secret_value(),
    )
