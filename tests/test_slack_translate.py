"""Slack message text → neutral command text, mention tokens and channel tokens."""

from __future__ import annotations

import pytest

from bot.core.request import UserRef
from bot.slack.translate import command_request, is_message_for_bot, parse_text
from jobs.present.i18n import has_chinese

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


@pytest.mark.parametrize(
    ("raw", "text", "users", "channels"),
    [
        ("<@UBOT> gmv month", "gmv month", [], []),
        ("<@UBOT>   board gmv role:host  ", "board gmv role:host", [], []),
        ("role assign <@U123ABC|alice> host", "role assign <@0> host", ["U123ABC"], []),
        ("role assign <@W0ENTERP> host", "role assign <@0> host", ["W0ENTERP"], []),
        ("gmv <@U1> vs <@U2> vs <@U1>", "gmv <@0> vs <@1> vs <@0>", ["U1", "U2"], []),
        ("alert add gmv &lt; 1000 in <#C0OPS|ops>", "alert add gmv < 1000 in <#0>", [], ["C0OPS"]),
        ("digest subscribe <#C1> weekly mon 09:00", "digest subscribe <#0> weekly mon 09:00", [], ["C1"]),
        ("role assign <@U1> host as <mailto:al@ex.com|al@ex.com>", "role assign <@0> host as al@ex.com", ["U1"], []),
        ("see <https://example.com/x|the sheet> &amp; <https://a.b>", "see the sheet & https://a.b", [], []),
        ("<!here> 本月 GMV", "@here 本月 GMV", [], []),
        ("<@UBOT>\u3000本周主播排名", "本周主播排名", [], []),
        ("", "", [], []),
    ],
)
def test_parse_text(raw: str, text: str, users: list[str], channels: list[str]) -> None:
    parsed = parse_text(raw, bot_user_id="UBOT")
    assert parsed.text == text
    assert parsed.user_ids == users
    assert parsed.channel_ids == channels


def test_command_request_resolves_mentions_in_token_order() -> None:
    asked: list[tuple[str, str | None]] = []

    def resolve(user_id: str, name: str | None) -> UserRef:
        asked.append((user_id, name))
        return UserRef("slack", user_id, email=f"{user_id.lower()}@ex.com", display_name=name)

    me = UserRef("slack", "UME", email="me@ex.com")
    request = command_request("board gmv <@U2|bo> <@U1> <#C9|x>", user=me, channel="C0", resolve_user=resolve)
    assert request.text == "board gmv <@0> <@1> <#0>"
    assert [m.user_id for m in request.mentions] == ["U2", "U1"]
    assert request.mentions[0].display_name == "bo"
    assert asked == [("U2", "bo"), ("U1", None)]
    assert request.channels == ["C9"]
    assert request.platform == "slack" and request.channel == "C0"


@pytest.mark.parametrize(
    ("event", "answered"),
    [
        ({"type": "message", "user": "U1", "text": "hi", "ts": "1"}, True),
        ({"type": "message", "user": "U1", "text": "hi", "ts": "1", "subtype": "thread_broadcast"}, True),
        ({"type": "message", "user": "UBOT", "text": "hi", "ts": "1"}, False),
        ({"type": "message", "bot_id": "B1", "text": "hi", "ts": "1", "subtype": "bot_message"}, False),
        ({"type": "message", "user": "U1", "bot_id": "B2", "text": "hi", "ts": "1"}, False),
        ({"type": "message", "subtype": "message_changed", "message": {"user": "U1"}, "ts": "1"}, False),
        ({"type": "message", "user": "U1", "text": "hi", "ts": "1", "edited": {"user": "U1"}}, False),
        ({"type": "message", "user": "U1", "subtype": "channel_join", "ts": "1"}, False),
        ({"type": "message", "subtype": "message_deleted", "ts": "1"}, False),
    ],
)
def test_which_messages_are_for_the_bot(event: dict, answered: bool) -> None:
    assert is_message_for_bot(event, bot_user_id="UBOT") is answered


def test_has_chinese() -> None:
    assert has_chinese("本月GMV")
    assert not has_chinese("gmv month 1.2m")
