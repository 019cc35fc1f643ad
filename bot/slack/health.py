"""`kpibot doctor`'s Slack checks: the bot token (`auth.test`) and, for Socket Mode, the app token
(`apps.connections.open`, which only hands out a websocket URL; nothing connects to it)."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.app import web_client
from storage.settings import Settings

FIX_BOT_TOKEN = ("copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into "
                 "SLACK_BOT_TOKEN, and reinstall the app if its scopes changed")
FIX_UNREACHABLE = "check SLACK_API_URL (https://slack.com/api/) and that this host may make outbound HTTPS calls"
FIX_APP_TOKEN = ("create an app-level token with the connections:write scope (Basic Information → App-Level "
                 "Tokens) and put it (xapp-…) in SLACK_APP_TOKEN, and turn Socket Mode on")


def credential_problems(settings: Settings) -> list[tuple[str, str, str]]:
    """(check, problem, fix) for each failing Slack credential; [] when all are accepted."""
    problems = []
    client = web_client(settings)
    if problem := _ask(lambda: client.auth_test(), FIX_BOT_TOKEN):
        problems.append(("Slack bot token (auth.test)", *problem))
    app_token = settings.slack_app_token.get_secret_value()
    if app_token:
        app_client = WebClient(token=app_token, base_url=client.base_url, timeout=client.timeout)
        if problem := _ask(lambda: app_client.apps_connections_open(app_token=app_token), FIX_APP_TOKEN):
            problems.append(("Slack app token (apps.connections.open)", *problem))
    return problems


def _ask(call: Callable[[], object], fix: str) -> tuple[str, str] | None:
    """None when Slack accepted the call, else (problem, fix)."""
    try:
        call()
        return None
    except SlackApiError as exc:
        return f"Slack answered {exc.response.get('error') or 'an error'}", fix
    except (SlackClientError, OSError) as exc:
        return f"cannot reach SLACK_API_URL ({type(exc).__name__})", FIX_UNREACHABLE
