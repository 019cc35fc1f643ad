"""Feishu / Lark adapter: the only package that imports `lark_oapi` (lazily, when Feishu is configured;
never from this module, which the platform table imports at start-up).

Modules: `adapter` (wiring), `client` (Open API calls, tenant token, retries, pacing), `webhook`
(event URL), `longconn` (long connection), `events` (what each event does), `translate`
(payloads → neutral requests), `identity` (open_id → email), `cards` / `forms` (replies → card
JSON 2.0), `outbox` (posting cards with charts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters import Platform, PlatformAdapter
from storage.settings import Settings

if TYPE_CHECKING:
    from bot.core.bot import KpiBot


def _describe(settings: Settings) -> str:
    mode = "long connection" if settings.feishu_mode == "ws" else "webhook at POST /feishu/events"
    return f"Feishu/Lark {settings.feishu_domain} ({mode})"


def _create(settings: Settings, core: KpiBot) -> PlatformAdapter:
    from bot.feishu.adapter import create_adapter

    return create_adapter(settings, core)


PLATFORM = Platform(name="feishu", enabled=lambda s: s.feishu_enabled, describe=_describe, create=_create)
