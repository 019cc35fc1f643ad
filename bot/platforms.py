"""The platform table: every chat platform kpibot can serve, in start-up order.

Each entry is the `PLATFORM` of a platform folder's `__init__` (name, enabled by which settings, how
start-up describes it, how its adapter is created from settings and the core). Adding a platform is
one folder plus one line here.
"""

from __future__ import annotations

from bot import dingtalk, feishu, slack
from bot.adapters import Platform
from storage.settings import Settings

PLATFORMS: tuple[Platform, ...] = (
    slack.PLATFORM,
    feishu.PLATFORM,
    dingtalk.PLATFORM,
)


def enabled_platforms(settings: Settings) -> list[Platform]:
    return [platform for platform in PLATFORMS if platform.enabled(settings)]
