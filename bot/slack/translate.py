"""Slack message text → neutral `CommandRequest`.

Slack writes references inside angle brackets and escapes `& < >`:
`<@U123>` / `<@U123|name>` (users), `<#C123|sales>` (channels), `<https://x|label>` (links),
`<!here>` (special mentions), `&lt;` … The core wants plain words with users as `<@N>` and
channels as `<#N>` tokens indexing the request's `mentions` / `channels` lists.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.request import CommandRequest, UserRef, mention_token

_USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK_REF = re.compile(r"<((?:https?|mailto|tel):[^>|]*)(?:\|([^>]*))?>")
_SPECIAL_REF = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")

# Message subtypes that are still a person typing to the bot. Everything else (edits, deletions,
# joins, bot posts, channel topic changes …) is ignored.
_USER_SUBTYPES = frozenset({"thread_broadcast"})


@dataclass
class ParsedText:
    """Text with Slack references replaced by neutral tokens."""

    text: str
    user_ids: list[str] = field(default_factory=list)
    user_names: list[str | None] = field(default_factory=list)
    channel_ids: list[str] = field(default_factory=list)


def parse_text(raw: str, *, bot_user_id: str | None = None) -> ParsedText:
    """Replace Slack references by tokens; drop mentions of the bot itself; unescape `&amp;` …"""
    parsed = ParsedText(text="")

    def user(match: re.Match[str]) -> str:
        user_id, name = match.group(1), match.group(2)
        if bot_user_id and user_id == bot_user_id:
            return " "
        if user_id not in parsed.user_ids:
            parsed.user_ids.append(user_id)
            parsed.user_names.append(name or None)
        return mention_token(parsed.user_ids.index(user_id))

    def channel(match: re.Match[str]) -> str:
        channel_id = match.group(1)
        if channel_id not in parsed.channel_ids:
            parsed.channel_ids.append(channel_id)
        return f"<#{parsed.channel_ids.index(channel_id)}>"

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return label
        return target.removeprefix("mailto:").removeprefix("tel:")

    def special(match: re.Match[str]) -> str:
        name, label = match.group(1), match.group(2)
        return label or "@" + name.split("^")[0]

    text = _USER_REF.sub(user, raw or "")
    text = _CHANNEL_REF.sub(channel, text)
    text = _LINK_REF.sub(link, text)
    text = _SPECIAL_REF.sub(special, text)
    text = html.unescape(text) if "&" in text else text
    parsed.text = _SPACES.sub(" ", text).strip()
    return parsed


def command_request(
    raw_text: str,
    *,
    user: UserRef,
    channel: str | None,
    resolve_user: Callable[[str, str | None], UserRef],
    bot_user_id: str | None = None,
    conversation: str | None = None,
) -> CommandRequest:
    """Build the neutral request; `resolve_user(user_id, name_hint)` looks a mentioned user up."""
    parsed = parse_text(raw_text, bot_user_id=bot_user_id)
    mentions = [resolve_user(uid, name) for uid, name in zip(parsed.user_ids, parsed.user_names, strict=True)]
    return CommandRequest(
        text=parsed.text,
        user=user,
        channel=channel,
        mentions=mentions,
        channels=list(parsed.channel_ids),
        conversation=conversation,
    )


def is_message_for_bot(event: Mapping[str, Any], *, bot_user_id: str | None) -> bool:
    """True for a person's new message; False for bots (us included), edits, deletions, joins …"""
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    subtype = event.get("subtype")
    if subtype and subtype not in _USER_SUBTYPES:
        return False
    if "edited" in event or event.get("hidden"):
        return False
    sender = event.get("user")
    return bool(sender) and sender != bot_user_id


