"""Builds the Bolt app: a WebClient on `SLACK_API_URL` with 429 retries, request verification on,
and every listener (slash command, mentions and DMs, buttons, the target modal, App Home).

`process_before_response=False`: Bolt answers Slack as soon as a listener calls `ack()` and the
listener keeps running on Bolt's executor, so slow answers continue after the 3-second ack.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.core.bot import KpiBot
from bot.core.request import CommandRequest, UserRef
from bot.slack.ack_watch import AckWatch
from bot.slack.identity import SlackDirectory
from bot.slack.outbox import SlackOutbox
from bot.slack.translate import command_request
from storage.settings import Settings

log = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 15
ACK_BUDGET_SECONDS = 2.0  # wait this long for an answer before acking "working on it…"


class SlackSetupError(RuntimeError):
    """Slack is configured but cannot be used; the message never contains a token or secret."""


@dataclass
class SlackServices:
    """What the listeners share: the core, user lookup, posting, their threads and the ack watch."""

    core: KpiBot
    directory: SlackDirectory
    outbox: SlackOutbox
    listeners: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="kpibot-slack-listener")
    )
    ack_watch: AckWatch = field(default_factory=lambda: AckWatch(ACK_BUDGET_SECONDS))

    def user(self, user_id: str, name_hint: str | None = None) -> UserRef:
        return self.directory.user(user_id, name_hint)

    def command(self, raw_text: str, *, user: UserRef, channel: str | None, bot_user_id: str | None) -> CommandRequest:
        return command_request(
            raw_text, user=user, channel=channel, resolve_user=self.directory.user, bot_user_id=bot_user_id
        )

    def is_admin(self, user: UserRef) -> bool:
        try:
            return bool(self.core.is_admin(user))
        except Exception:
            log.exception("is_admin failed")
            return False

    def close(self) -> None:
        self.ack_watch.stop()
        self.listeners.shutdown(wait=False, cancel_futures=True)


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
    from bot.slack import commands, events, home, interactions

    client = web_client(settings)
    services = SlackServices(core=core, directory=SlackDirectory(client), outbox=SlackOutbox(client))
    try:
        app = bolt_app(settings, client, services.listeners)
    except SlackSetupError:
        services.close()
        raise
    events.register_dedupe(app, services)
    commands.register(app, services)
    interactions.register(app, services)
    home.register(app, services)
    events.register(app, services)  # last: ends with the catch-all for unhandled event types
    return app, services
