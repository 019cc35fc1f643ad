"""Builds the Bolt app: a WebClient on `SLACK_API_URL` with 429 retries, request verification on,
and every listener (slash command, mentions and DMs, buttons, the target modal, App Home).

`process_before_response=False`: Bolt answers Slack as soon as a listener calls `ack()` and the
listener keeps running on Bolt's executor, so slow answers continue after the 3-second ack.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.core.bot import KpiBot
from bot.slack import assistant, commands, events, home, interactions
from bot.slack.identity import SlackDirectory
from bot.slack.outbox import SlackOutbox
from bot.slack.services import SlackServices
from storage.settings import Settings

log = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 15


class SlackSetupError(RuntimeError):
    """Slack is configured but cannot be used; the message never contains a token or secret."""


def web_client(settings: Settings) -> WebClient:
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=base_url,
        timeout=SLACK_TIMEOUT_SECONDS,
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def bolt_app(settings: Settings, client: WebClient, listeners: ThreadPoolExecutor) -> App:
    """A Bolt app verifying signatures (401 otherwise); `auth.test` runs once here."""
    try:
        return App(
            client=client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=False,
            request_verification_enabled=True,
            ignoring_self_events_enabled=True,
            listener_executor=listeners,
            name="kpibot",
        )
    except BoltError as exc:
        reason = "invalid_auth"
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, SlackApiError):
            reason = str(cause.response.get("error") or reason)
        raise SlackSetupError(f"Slack rejected SLACK_BOT_TOKEN (auth.test: {reason})") from None
    except (SlackClientError, OSError) as exc:
        raise SlackSetupError(
            f"Slack Web API at SLACK_API_URL is unreachable ({type(exc).__name__}); check SLACK_API_URL"
        ) from None


def build_app(settings: Settings, core: KpiBot) -> tuple[App, SlackServices]:
    client = web_client(settings)
    services = SlackServices(core=core, directory=SlackDirectory(client), outbox=SlackOutbox(
        client, history_interval=settings.slack_history_interval_seconds))
    try:
        app = bolt_app(settings, client, services.listeners)
    except SlackSetupError:
        services.close()
        raise
    events.register_dedupe(app, services)
    assistant.register(app, services, events.answer_message, settings.locale)  # before `message`: see assistant.py
    commands.register(app, services)
    interactions.register(app, services)
    home.register(app, services)
    events.register(app, services)  # last: ends with the catch-all for unhandled event types
    return app, services
