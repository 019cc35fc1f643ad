"""Neutral requests: what every adapter (Slack, Feishu, console, test) turns platform payloads into."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UserRef:
    """A chat user as the platform identifies them."""

    platform: str  # slack | feishu | console | test
    user_id: str
    email: str | None = None
    display_name: str | None = None
    # The local operator (bare `kpibot console`, `kpibot status`): whoever runs the process can reach
    # the database anyway, so they are an admin. Never set for someone a surface speaks for.
    operator: bool = False

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"


# Adapters replace each user mention in the text by `<@N>`, N indexing `CommandRequest.mentions`.
MENTION_TOKEN = re.compile(r"<@(\d+)>")


def mention_token(index: int) -> str:
    return f"<@{index}>"


@dataclass(frozen=True)
class CommandRequest:
    """One message or slash command addressed to the bot, with the leading `/kpi` optional."""

    text: str
    user: UserRef
    channel: str | None = None  # platform channel / chat id, for `digest subscribe` defaults etc.
    mentions: list[UserRef] = field(default_factory=list)
    # Channel references the adapter resolved (`in #sales` → its id), by token `<#N>`.
    channels: list[str] = field(default_factory=list)
    lang: str | None = None  # force a language (console --lang); else detected from the text
    # Where a follow-up belongs: a thread, a DM, a console session (None: no follow-ups, e.g. a one-off).
    conversation: str | None = None
    # The person's previous question in this conversation (bot.language.questions.Question), set by
    # the core from conversation memory; a follow-up inherits what it does not say from it.
    previous: Any = None

    @property
    def platform(self) -> str:
        return self.user.platform


@dataclass(frozen=True)
class ActionRequest:
    """A button press or a form submission coming back from a rich surface."""

    user: UserRef
    action_id: str
    value: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # form field name → raw text
    channel: str | None = None
    lang: str | None = None  # the surface's language if known; else KPIBOT_LOCALE
    message_id: str | None = None  # the platform id of the message the button is on (Slack ts, Feishu, DingTalk card)


# `@alice` or `@alice@shop.com` typed on surfaces without native mentions (console, tests).
TYPED_MENTION = re.compile(r"(?<![\w:.@])@([\w.\-]+@[\w.\-]+|[\w\-]+)")


def extract_typed_mentions(text: str, lookup: Callable[[str], UserRef | None]) -> tuple[str, list[UserRef]]:
    """Replace each typed `@name` that `lookup` knows by a `<@N>` token; return text and mentions."""
    mentions: list[UserRef] = []

    def to_token(match: re.Match[str]) -> str:
        user = lookup(match.group(1))
        if user is None:
            return match.group(0)
        mentions.append(user)
        return mention_token(len(mentions) - 1)

    return TYPED_MENTION.sub(to_token, text), mentions
