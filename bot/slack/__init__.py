"""Slack surface: the only package in the product that imports slack_sdk / slack_bolt (from
`adapter` on, never from this module, which the platform table imports at start-up).

`adapter.create_adapter(settings, core)` wires a Bolt app (HTTP on `POST /slack/events`, Socket Mode
when `SLACK_APP_TOKEN` is set) to the neutral core, and offers `SlackOutbox` to scheduled jobs.
Folder shape: `translate` (inbound), `blocks` / `modal` / `home` (outbound rendering), `identity`
(user lookup), `outbox` (posting), `app` / `services` / `commands` / `events` / `interactions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters import Platform, PlatformAdapter
from storage.settings import Settings

if TYPE_CHECKING:
    from bot.core.bot import KpiBot


def _describe(settings: Settings) -> str:
    mode = "Socket Mode" if settings.slack_app_token.get_secret_value() else "HTTP at POST /slack/events"
    return f"Slack ({mode})"


def _create(settings: Settings, core: KpiBot) -> PlatformAdapter:
    from bot.slack.adapter import create_adapter

    return create_adapter(settings, core)


PLATFORM = Platform(name="slack", enabled=lambda s: s.slack_enabled, describe=_describe, create=_create)
