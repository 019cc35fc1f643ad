"""DingTalk payloads → what the core understands: robot messages (topic `/v1.0/im/bot/messages/get`,
the same JSON in HTTP mode) and card callbacks (topic `/v1.0/card/instances/callback`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.dingtalk.render import parse_button_id

GROUP = "2"


@dataclass(frozen=True)
class AtUser:
    staff_id: str
    dingtalk_id: str = ""


@dataclass(frozen=True)
class Incoming:
    msg_id: str
    text: str | None  # None: not a text message
    conversation_id: str
    is_group: bool
    sender_staff_id: str
    sender_nick: str | None
    session_webhook: str | None
    webhook_expires_ms: int
    at_users: list[AtUser] = field(default_factory=list)

    @property
    def channel(self) -> str:
        """Where an answer or a `digest subscribe` goes: the group, or this person directly."""
        return self.conversation_id if self.is_group else f"user:{self.sender_staff_id}"


@dataclass(frozen=True)
class CardPress:
    card_id: str  # outTrackId = the cardBizId it was sent with
    staff_id: str
    action_id: str
    value: str


def parse_message(data: dict[str, Any]) -> Incoming | None:
    msg_id = str(data.get("msgId") or "")
    staff_id = str(data.get("senderStaffId") or "")
    conversation_id = str(data.get("conversationId") or "")
    if not msg_id or not staff_id or not conversation_id:
        return None
    text = None
    if data.get("msgtype", "text") == "text":
        text = str((data.get("text") or {}).get("content") or "").strip()
    at_users = [
        AtUser(str(user.get("staffId")), str(user.get("dingtalkId") or ""))
        for user in data.get("atUsers") or []
        if isinstance(user, dict) and user.get("staffId")
    ]
    return Incoming(
        msg_id=msg_id,
        text=text,
        conversation_id=conversation_id,
        is_group=str(data.get("conversationType")) == GROUP,
        sender_staff_id=staff_id,
        sender_nick=data.get("senderNick") or None,
        session_webhook=data.get("sessionWebhook") or None,
        webhook_expires_ms=_int(data.get("sessionWebhookExpiredTime")),
        at_users=[user for user in at_users if user.dingtalk_id != data.get("chatbotUserId")],
    )


def mention_tokens(text: str, names: list[tuple[int, str]]) -> str:
    """`@Name` in the text → `<@N>` for each (index, display name) of the message's @-mentioned users."""
    for index, name in names:
        if name:
            text = re.sub(rf"@{re.escape(name)}(?!\w)", f"<@{index}>", text, count=1)
    return text


def parse_card_callback(data: dict[str, Any]) -> CardPress | None:
    """`content` (a JSON string) holds `cardPrivateData` with the pressed button's id in `actionIds`
    (or our `action_id`/`value` in `params`)."""
    try:
        content = json.loads(data.get("content") or "{}")
    except (TypeError, ValueError):
        return None
    private = content.get("cardPrivateData") if isinstance(content, dict) else None
    if not isinstance(private, dict):
        return None
    params = private.get("params")
    if not isinstance(params, dict):
        params = {}
    pressed = None
    if params.get("action_id"):
        pressed = (str(params["action_id"]), str(params.get("value") or ""))
    else:
        for action in private.get("actionIds") or []:
            pressed = parse_button_id(str(action))
            if pressed:
                break
    card_id, staff_id = str(data.get("outTrackId") or ""), str(data.get("userId") or "")
    if pressed is None or not card_id or not staff_id:
        return None
    return CardPress(card_id=card_id, staff_id=staff_id, action_id=pressed[0], value=pressed[1])


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
