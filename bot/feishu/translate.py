"""Feishu payloads → neutral requests. Pure functions over the event JSON (no SDK types).

A message event (`im.message.receive_v1`) carries `message.content` as a JSON *string*:
`{"text": "@_user_1 /kpi gmv"}` for text, a nested paragraph list for rich text (`post`).
Each `@_user_N` key names an entry of `message.mentions`. In a group the bot answers only when
it is @mentioned; its own key is removed, every other mention becomes a `<@N>` token indexing
`CommandRequest.mentions`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.request import mention_token

MENTION_KEY = re.compile(r"@_user_\d+|@_all")
LEADING_KPI = re.compile(r"^/kpi(?:\s+|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    key: str
    open_id: str
    name: str | None = None


@dataclass(frozen=True)
class IncomingMessage:
    """A message addressed to the bot, with mentions already turned into `<@N>` tokens."""

    message_id: str
    chat_id: str
    chat_type: str  # p2p | group
    sender_open_id: str
    text: str
    mentions: list[Mention] = field(default_factory=list)
    is_text: bool = True  # False for images, files, stickers …
    root_id: str | None = None  # the first message of the reply chain this one answers, if any

    @property
    def conversation(self) -> str:
        """Where follow-ups belong: the whole 1:1 chat, or one reply chain (thread) in a group."""
        return self.chat_id if self.chat_type == "p2p" else f"{self.chat_id}:{self.root_id or self.message_id}"


@dataclass(frozen=True)
class CardAction:
    """A `card.action.trigger` callback: a button press or a form submit."""

    open_id: str
    action_id: str
    value: str
    form_value: dict[str, str]
    message_id: str | None
    chat_id: str | None
    lang: str | None = None  # the language of the card clicked, when it said


def message_id_of(event: dict[str, Any]) -> str:
    message = event.get("message") or {}
    return str(message.get("message_id") or "")


def parse_message(event: dict[str, Any], bot_open_id: str | None) -> IncomingMessage | None:
    """The message as a request to the bot, or None when it is not addressed to the bot."""
    message = event.get("message") or {}
    sender = event.get("sender") or {}
    if sender.get("sender_type", "user") != "user":
        return None  # other bots and apps, the bot itself
    sender_open_id = (sender.get("sender_id") or {}).get("open_id")
    message_id = message.get("message_id")
    chat_id = message.get("chat_id")
    if not sender_open_id or not message_id or not chat_id:
        return None
    chat_type = str(message.get("chat_type") or "group")
    mentions = _mentions(message.get("mentions") or [])
    bot_keys = {m.key for m in mentions if bot_open_id is not None and m.open_id == bot_open_id}
    if bot_open_id is None:  # bot info unavailable: fall back on the mention's own type
        bot_keys = {
            str(raw.get("key")) for raw in message.get("mentions") or [] if raw.get("mentioned_type") == "bot"
        }
    if chat_type != "p2p" and not bot_keys:
        return None
    message_type = str(message.get("message_type") or "text")
    raw_text = content_text(message_type, message.get("content"))
    text, people = _tokenise_mentions(raw_text or "", mentions, bot_keys)
    return IncomingMessage(
        message_id=str(message_id),
        chat_id=str(chat_id),
        chat_type=chat_type,
        sender_open_id=str(sender_open_id),
        text=normalise_command(text),
        mentions=people,
        is_text=raw_text is not None,
        root_id=str(message.get("root_id") or message.get("thread_id") or "") or None,
    )


def content_text(message_type: str, content: Any) -> str | None:
    """Plain text of a `text` or `post` message, keeping `@_user_N` keys; None for other types."""
    try:
        payload = json.loads(content) if isinstance(content, str) else content
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if message_type == "text":
        text = payload.get("text")
        return text if isinstance(text, str) else None
    if message_type == "post":
        return _post_text(payload)
    return None


def normalise_command(text: str) -> str:
    """Collapse whitespace (full-width spaces too) and drop an optional leading `/kpi`."""
    text = " ".join(text.replace("\u3000", " ").split())
    return LEADING_KPI.sub("", text, count=1).strip()


def parse_card_action(event: dict[str, Any]) -> CardAction | None:
    operator = event.get("operator") or {}
    action = event.get("action") or {}
    context = event.get("context") or {}
    open_id = operator.get("open_id")
    value = action.get("value")
    if isinstance(value, str):  # a button configured with a plain string value
        try:
            value = json.loads(value)
        except ValueError:
            value = {}
    if not open_id or not isinstance(value, dict) or not value.get("action_id"):
        return None
    form_value = action.get("form_value") or {}
    return CardAction(
        open_id=str(open_id),
        action_id=str(value["action_id"]),
        value=str(value.get("value") or ""),
        form_value={str(key): _form_text(item) for key, item in form_value.items()},
        message_id=context.get("open_message_id"),
        chat_id=context.get("open_chat_id"),
        lang=str(value["lang"]) if value.get("lang") else None,
    )


def _form_text(item: Any) -> str:
    if item is None:
        return ""
    if isinstance(item, list):
        return ",".join(str(part) for part in item)
    return str(item)


def _mentions(raw_mentions: list[dict[str, Any]]) -> list[Mention]:
    mentions = []
    for raw in raw_mentions:
        key = raw.get("key")
        open_id = (raw.get("id") or {}).get("open_id")
        if key and open_id:
            mentions.append(Mention(key=str(key), open_id=str(open_id), name=raw.get("name")))
    return mentions


def _tokenise_mentions(text: str, mentions: list[Mention], bot_keys: set[str]) -> tuple[str, list[Mention]]:
    """Replace each `@_user_N` key: the bot's (and `@_all`) by nothing, everyone else's by
    `<@i>`, numbering people in order of first appearance (one index per person)."""
    by_key = {mention.key: mention for mention in mentions if mention.key not in bot_keys}
    people: list[Mention] = []
    index_of: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        mention = by_key.get(match.group(0))
        if mention is None:
            return " "
        if mention.open_id not in index_of:
            index_of[mention.open_id] = len(people)
            people.append(mention)
        return f" {mention_token(index_of[mention.open_id])} "

    return MENTION_KEY.sub(replace, text), people


def _post_text(payload: dict[str, Any]) -> str | None:
    """Rich text: `{"title": …, "content": [[{"tag": "text", "text": …}, {"tag": "at", …}]]}`,
    possibly wrapped in a locale (`{"zh_cn": {…}}`)."""
    if "content" not in payload:
        for value in payload.values():
            if isinstance(value, dict) and "content" in value:
                payload = value
                break
    paragraphs = payload.get("content")
    if not isinstance(paragraphs, list):
        return None
    lines = []
    for paragraph in paragraphs:
        parts = []
        for node in paragraph if isinstance(paragraph, list) else []:
            tag = node.get("tag")
            if tag in ("text", "a", "code_block"):
                parts.append(str(node.get("text") or ""))
            elif tag == "at":
                parts.append(str(node.get("user_id") or node.get("key") or ""))
        lines.append("".join(parts))
    return " ".join(lines)
