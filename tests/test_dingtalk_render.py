"""DingTalk rendering and payload reading, without a network: escaping, tables as lists, the size cap,
robot messages and card callbacks read as DingTalk sends them."""

from __future__ import annotations

import json

import pytest

from bot.dingtalk.callback import signature
from bot.dingtalk.render import MESSAGE_LIMIT_BYTES, escape, reply_card, reply_markdown
from bot.dingtalk.translate import mention_tokens, parse_card_callback, parse_message
from jobs.present.reply import Action, Chart, Figure, Mark, Reply, Table

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def test_escaped_text_cannot_link_or_mention_everyone() -> None:
    text = escape("@所有人 @all [x](https://evil.example) www.evil.example <a href='x'>hi</a>")
    assert "@所有人" not in text and "@all" not in text
    assert "](" not in text and "https://" not in text and "www.evil" not in text and "<a" not in text
    assert "所有人" in text and "evil" in text  # the words stay readable


def test_table_rows_become_list_lines_and_figures_and_charts_follow() -> None:
    reply = Reply(
        title="Host board · week",
        mark=Mark.AT_RISK,
        figures=[Figure("Attainment", "77.3%", Mark.AT_RISK)],
        tables=[Table(["Host", "GMV", "Pace"], [["Anna [lead]", "$115.9K", "77.3%"]], [Mark.AT_RISK])],
        charts=[Chart("board.png", b"\x89PNG", "Board")],
        footnotes=["Data through 2026-11-22"],
    )
    title, text = reply_markdown(reply, ["@lADPmedia1"])
    assert title == "Host board · week"
    lines = text.split("  \n")
    assert lines[0] == "#### 🟡 Host board · week"
    assert "- **Attainment**: 77.3% 🟡" in lines
    assert "- **Anna ［lead］** — GMV: $115.9K · Pace: 77.3% 🟡" in lines
    assert "![Board](@lADPmedia1)" in lines
    assert "· Data through 2026-11-22" in lines
    assert "|" not in text


def test_a_long_table_is_cut_to_the_message_limit_and_says_so() -> None:
    rows = [[f"member-{n:04d}", "$1,234.5K", "99.9%"] for n in range(2000)]
    _, text = reply_markdown(Reply(title="Everyone", tables=[Table(["Who", "GMV", "Pace"], rows)]))
    assert len(text.encode()) <= MESSAGE_LIMIT_BYTES
    assert "more rows not shown" in text


def test_buttons_carry_their_action_back() -> None:
    reply = Reply(title="ROAS below 2.00", actions=[Action("alert.ack", "Acknowledge", "7", "primary")])
    card = reply_card(reply)
    (buttons,) = [part["actions"] for part in card["contents"] if part["type"] == "action"]
    assert [(b["id"], b["actionType"]) for b in buttons] == [("alert.ack|7", "request")]
    press = parse_card_callback({
        "outTrackId": "card-1", "userId": "0200",
        "content": json.dumps({"cardPrivateData": {"actionIds": ["alert.ack|7"], "params": {}}}),
    })
    assert press is not None and (press.card_id, press.staff_id, press.action_id, press.value) == (
        "card-1", "0200", "alert.ack", "7")
    assert parse_card_callback({"outTrackId": "card-1", "userId": "0200", "content": "not json"}) is None


def test_robot_message_fields() -> None:
    incoming = parse_message({
        "msgId": "msgA", "msgtype": "text", "text": {"content": " gmv month @Anna"}, "conversationType": "2",
        "conversationId": "cidX==", "senderStaffId": "0100", "senderNick": "王经理", "chatbotUserId": "$bot",
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=s", "sessionWebhookExpiredTime": 9,
        "atUsers": [{"dingtalkId": "$bot"}, {"dingtalkId": "$anna", "staffId": "0200"}],
    })
    assert incoming is not None
    assert (incoming.text, incoming.is_group, incoming.channel) == ("gmv month @Anna", True, "cidX==")
    assert [u.staff_id for u in incoming.at_users] == ["0200"]  # the robot itself is not a mention
    assert mention_tokens(incoming.text, [(0, "Anna")]) == "gmv month <@0>"
    direct = parse_message({"msgId": "m", "msgtype": "picture", "conversationType": "1",
                            "conversationId": "cidD", "senderStaffId": "0200"})
    assert direct is not None and direct.text is None and direct.channel == "user:0200"
    assert parse_message({"msgtype": "text"}) is None


def test_signature_matches_dingtalks_algorithm() -> None:
    # base64(HMAC-SHA256(key="secret", msg="1700000000000\nsecret")), computed independently:
    # python -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b"secret",
    #   b"1700000000000\nsecret",hashlib.sha256).digest()).decode())'
    assert signature("1700000000000", "secret") == EXPECTED_SIGNATURE


EXPECTED_SIGNATURE = "OuzzJR5+xZ4/EYwqtNt6sMYZQMTa/HEGvc9miJe7XzY="
