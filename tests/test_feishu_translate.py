"""Feishu message and card-callback payloads → neutral requests (pure functions)."""

from __future__ import annotations

import json

import pytest

from bot.core.contracts import ACTION_ALERT_ACK, ACTION_SUBMIT_TARGET
from bot.feishu.forms import form_fields
from bot.feishu.translate import content_text, normalise_command, parse_card_action, parse_message
from tests.fakes.feishu_api import (
    BOT_OPEN_ID,
    MEMBER_OPEN_ID,
    OTHER_OPEN_ID,
    bot_mention,
    card_action_event,
    message_event,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

APP = "cli_translate"


def _event(text: str, **kwargs: object) -> dict:
    return message_event(text, app_id=APP, **kwargs)["event"]  # type: ignore[arg-type]


def test_group_mention_is_stripped_and_leading_kpi_dropped() -> None:
    incoming = parse_message(_event("@_user_1 /kpi gmv 本月", mentions=[bot_mention()]), BOT_OPEN_ID)
    assert incoming is not None
    assert incoming.text == "gmv 本月"
    assert incoming.chat_type == "group"
    assert incoming.sender_open_id == MEMBER_OPEN_ID
    assert incoming.mentions == []


def test_group_message_without_the_bot_is_not_addressed() -> None:
    event = _event("@_user_1 gmv", mentions=[("@_user_1", OTHER_OPEN_ID, "Tom")])
    assert parse_message(event, BOT_OPEN_ID) is None
    assert parse_message(_event("gmv"), BOT_OPEN_ID) is None


def test_p2p_needs_no_mention() -> None:
    incoming = parse_message(_event("GMV达成率多少", chat_type="p2p", chat_id="oc_p2p"), BOT_OPEN_ID)
    assert incoming is not None and incoming.text == "GMV达成率多少"


def test_other_mentions_become_tokens_one_per_person() -> None:
    event = _event(
        "@_user_2 role assign @_user_1 host @_user_3",
        mentions=[
            ("@_user_1", OTHER_OPEN_ID, "Tom Lee"),
            bot_mention("@_user_2"),
            ("@_user_3", OTHER_OPEN_ID, "Tom Lee"),
        ],
    )
    incoming = parse_message(event, BOT_OPEN_ID)
    assert incoming is not None
    assert incoming.text == "role assign <@0> host <@0>"
    assert [(m.open_id, m.name) for m in incoming.mentions] == [(OTHER_OPEN_ID, "Tom Lee")]


def test_user_keys_with_more_digits_are_not_confused() -> None:
    mentions = [bot_mention("@_user_1")] + [(f"@_user_{n}", f"ou_{n}", f"P{n}") for n in range(2, 12)]
    incoming = parse_message(_event("@_user_1 board gmv @_user_11 @_user_2", mentions=mentions), BOT_OPEN_ID)
    assert incoming is not None
    assert incoming.text == "board gmv <@0> <@1>"
    assert [m.open_id for m in incoming.mentions] == ["ou_11", "ou_2"]


def test_without_bot_info_the_bot_mention_is_found_by_type() -> None:
    event = _event("@_user_1 help", mentions=[bot_mention()])
    event["message"]["mentions"][0]["mentioned_type"] = "bot"
    incoming = parse_message(event, None)
    assert incoming is not None and incoming.text == "help"


def test_rich_text_post_is_flattened() -> None:
    content = {
        "zh_cn": {
            "title": "",
            "content": [[
                {"tag": "at", "user_id": "@_user_1", "user_name": "kpibot"},
                {"tag": "text", "text": " target set gmv 120万 "},
            ], [{"tag": "text", "text": "month"}]],
        }
    }
    event = _event("", message_type="post", content=content, mentions=[bot_mention()])
    incoming = parse_message(event, BOT_OPEN_ID)
    assert incoming is not None and incoming.text == "target set gmv 120万 month"


def test_non_text_messages_are_flagged() -> None:
    event = _event("", chat_type="p2p", message_type="image", content={"image_key": "img_1"})
    incoming = parse_message(event, BOT_OPEN_ID)
    assert incoming is not None and not incoming.is_text
    assert content_text("sticker", json.dumps({"file_key": "x"})) is None


def test_apps_are_ignored() -> None:
    event = _event("@_user_1 gmv", mentions=[bot_mention()])
    event["sender"]["sender_type"] = "app"
    assert parse_message(event, BOT_OPEN_ID) is None


def test_normalise_command() -> None:
    assert normalise_command("  /KPI   target\u3000set  gmv ") == "target set gmv"
    assert normalise_command("/kpi") == ""
    assert normalise_command("/kpis") == "/kpis"


def test_card_button_callback() -> None:
    payload = card_action_event(
        app_id=APP, open_id=MEMBER_OPEN_ID, value={"action_id": ACTION_ALERT_ACK, "value": "12"},
        message_id="om_alert", chat_id="oc_ops",
    )
    action = parse_card_action(payload["event"])
    assert action is not None
    assert (action.open_id, action.action_id, action.value) == (MEMBER_OPEN_ID, ACTION_ALERT_ACK, "12")
    assert (action.message_id, action.chat_id) == ("om_alert", "oc_ops")


def test_form_submit_callback_gives_the_core_field_names() -> None:
    payload = card_action_event(
        app_id=APP, open_id=MEMBER_OPEN_ID, value={"action_id": ACTION_SUBMIT_TARGET},
        form_value={"kpi": "gmv", "scope": "user", "user": OTHER_OPEN_ID, "period": "month",
                    "value": " 1.2m ", "junk": "x"},
    )
    action = parse_card_action(payload["event"])
    assert action is not None and action.action_id == ACTION_SUBMIT_TARGET
    assert form_fields(action.form_value) == {
        "kpi": "gmv", "scope": "user", "user": OTHER_OPEN_ID, "period": "month", "value": "1.2m",
    }


def test_callback_without_our_action_id_is_ignored() -> None:
    payload = card_action_event(app_id=APP, open_id=MEMBER_OPEN_ID, value={"other": "x"})
    assert parse_card_action(payload["event"]) is None
