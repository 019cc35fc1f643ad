"""Delivery rules for Feishu events, over real HTTP against the fake: a redelivered event is
answered once, HTTP 200 comes within 3 s however slow the command, other subscribed events
get 200, non-text and bot messages are handled quietly."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.fakes.feishu_api import (
    ADMIN_OPEN_ID,
    BOT_OPEN_ID,
    MEMBER_OPEN_ID,
    P2P_CHAT,
    VERIFICATION_TOKEN,
    FeishuBot,
    bot_mention,
    event_header,
    no_reply_within,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

# -- redelivery and the 3-second rule ----------------------------------------------------------------


def test_same_event_delivered_twice_is_answered_once(bot: FeishuBot) -> None:
    event = bot.message("@_user_1 gmv", mentions=[bot_mention()])
    message_id = event["event"]["message"]["message_id"]
    assert bot.poster.post(event).status_code == 200
    assert bot.poster.post(event).status_code == 200
    bot.fake.wait_for_reply(message_id)
    no_reply_within(bot, message_id + "-none")  # let a second answer surface, if any
    assert len(bot.fake.replies_to(message_id)) == 1


def test_same_message_under_a_new_event_id_is_answered_once(bot: FeishuBot) -> None:
    event = bot.message("@_user_1 gmv", mentions=[bot_mention()])
    message_id = event["event"]["message"]["message_id"]
    bot.poster.post(event)
    again = json.loads(json.dumps(event))
    again["header"] = event_header("im.message.receive_v1", app_id=bot.app_id, token=VERIFICATION_TOKEN)
    bot.poster.post(again)
    bot.fake.wait_for_reply(message_id)
    time.sleep(0.6)
    assert len(bot.fake.replies_to(message_id)) == 1


def test_slow_command_is_acknowledged_at_once_and_answered_later(bot: FeishuBot) -> None:
    core = bot.runtime.core
    real_handle = core.handle

    def slow_handle(request: Any) -> Any:  # slower than the acknowledgement, well short of Feishu's 3 s
        time.sleep(1.5)
        return real_handle(request)

    core.handle = slow_handle  # the boundary: a slow core, not a mock of the adapter
    event = bot.message("/kpi gmv", chat_type="p2p", chat_id=P2P_CHAT)
    started = time.monotonic()
    response = bot.poster.post(event)
    acknowledged = time.monotonic() - started
    assert response.status_code == 200
    assert acknowledged < 1.5
    assert not bot.fake.replies_to(event["event"]["message"]["message_id"])
    bot.fake.wait_for_reply(event["event"]["message"]["message_id"], timeout=10)
    assert time.monotonic() - started >= 1.5


# -- other subscribed events ---------------------------------------------------------------------


def test_other_events_get_200(bot: FeishuBot) -> None:
    """Subscribed events kpibot ignores, and an unknown future one: never a 500 (no redelivery)."""
    for event_type in ("im.message.message_read_v1", "im.chat.member.bot.deleted_v1",
                       "im.message.reaction.created_v1", "some.future.event_v9"):
        payload = {
            "schema": "2.0",
            "header": event_header(event_type, app_id=bot.app_id, token=VERIFICATION_TOKEN),
            "event": {"reader": {"reader_id": {"open_id": MEMBER_OPEN_ID}}, "message_id_list": ["om_1"]},
        }
        assert bot.poster.post(payload).status_code == 200, event_type


def test_bot_added_to_group_posts_help_once(bot: FeishuBot) -> None:
    payload = {
        "schema": "2.0",
        "header": event_header("im.chat.member.bot.added_v1", app_id=bot.app_id, token=VERIFICATION_TOKEN),
        "event": {"chat_id": "oc_newgroup", "operator_id": {"open_id": ADMIN_OPEN_ID}, "name": "Sales"},
    }
    assert bot.poster.post(payload).status_code == 200
    assert bot.poster.post(payload).status_code == 200
    bot.fake.wait_for(lambda: [m for m in bot.fake.messages if m.chat_id == "oc_newgroup"])
    time.sleep(0.5)
    assert len([m for m in bot.fake.messages if m.chat_id == "oc_newgroup"]) == 1


def test_image_in_p2p_gets_a_text_hint(bot: FeishuBot) -> None:
    event = bot.message(
        "", chat_type="p2p", chat_id=P2P_CHAT, message_type="image", content={"image_key": "img_x"}
    )
    bot.poster.post(event)
    reply = bot.fake.wait_for_reply(event["event"]["message"]["message_id"])
    assert reply.msg_type == "text"
    assert "help" in reply.content["text"]


def test_bot_messages_are_ignored(bot: FeishuBot) -> None:
    event = bot.message("@_user_1 gmv", mentions=[bot_mention()], sender=BOT_OPEN_ID)
    event["event"]["sender"]["sender_type"] = "app"
    bot.poster.post(event)
    no_reply_within(bot, event["event"]["message"]["message_id"])
