"""DingTalk (钉钉) adapter: the only package that imports `dingtalk_stream` (from `stream` on, only when
DingTalk is configured; never from this module, which the platform table imports at start-up).

Folder shape: `translate` (robot payloads → neutral requests), `render` (replies → DingTalk markdown
and cards, escaped), `identity` (staffId → name and email), `client` (OpenAPI: token, sends, media,
rate limits) and `outbox` (posting), `callback` (HTTP mode at `POST /dingtalk/events`), `stream`
(Stream mode), `events` (what each message or card callback does), `adapter` (wiring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters import Platform, PlatformAdapter
from storage.settings import Settings

if TYPE_CHECKING:
    from bot.core.bot import KpiBot


def _describe(settings: Settings) -> str:
    mode = "Stream mode" if settings.dingtalk_mode == "stream" else "HTTP callback at POST /dingtalk/events"
    return f"DingTalk ({mode})"


def _create(settings: Settings, core: KpiBot) -> PlatformAdapter:
    from bot.dingtalk.adapter import create_adapter

    return create_adapter(settings, core)


PLATFORM = Platform(name="dingtalk", enabled=lambda s: s.dingtalk_enabled, describe=_describe, create=_create)
