"""`/kpi …` over real HTTP: the ack always within 3 s, slow answers via response_url, the target modal."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from bot.chat_kit.ack_watch import AckWatch
from bot.core.request import CommandRequest
from bot.slack.blocks import fallback_text
from jobs.present.reply import Chart, Reply
from tests.fakes.slack_api import (
    ADMIN_EMAIL,
    ADMIN_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    MEMBER_EMAIL,
    MEMBER_ID,
    SlackBot,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

ACK_DEADLINE = 3.0
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def record_requests(bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> list[CommandRequest]:
    """Wrap the core's `handle` on the instance (the boundary): the real answer, requests kept."""
    seen: list[CommandRequest] = []
    real_handle = bot.runtime.core.handle

    def handle(request: CommandRequest) -> Reply:
        seen.append(request)
        return real_handle(request)

    monkeypatch.setattr(bot.runtime.core, "handle", handle)
    return seen


def timed_slash(bot: SlackBot, text: str, **kwargs: Any) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    response = bot.slash(text, **kwargs)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    return elapsed, (response.json() if response.content else {})


def test_slash_command_is_answered_in_the_ack(slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = record_requests(slack_bot, monkeypatch)
    elapsed, ack = timed_slash(slack_bot, "help")
    assert elapsed < ACK_DEADLINE
    expected = slack_bot.runtime.core.handle(seen[0])
    assert ack["text"] == fallback_text(expected)
    assert ack["blocks"][0]["type"] == "header"
    assert ack["response_type"] == ("in_channel" if expected.public else "ephemeral")
    assert slack_bot.fake.calls_to("hook") == []  # nothing left to deliver later


def test_slash_command_request_carries_identity_mentions_and_channels(
    slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = record_requests(slack_bot, monkeypatch)
    timed_slash(
        slack_bot,
        f"<@{BOT_USER_ID}> role assign <@UADMIN01|ada> host &amp; more &lt; 3 in <#C0OPS111|ops>",
        user_id=MEMBER_ID,
    )
    request = seen[0]
    assert request.text == "role assign <@0> host & more < 3 in <#0>"
    assert request.user.platform == "slack"
    assert request.user.user_id == MEMBER_ID
    assert request.user.email == MEMBER_EMAIL
    assert [(m.user_id, m.email) for m in request.mentions] == [(ADMIN_ID, ADMIN_EMAIL)]
    assert request.channels == ["C0OPS111"]
    assert request.channel == CHANNEL_ID


def test_user_lookups_are_cached_and_an_unknown_user_is_still_answered(
    slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = record_requests(slack_bot, monkeypatch)
    timed_slash(slack_bot, "help", user_id=MEMBER_ID)
    timed_slash(slack_bot, "me", user_id=MEMBER_ID)
    lookups = [call.params["user"] for call in slack_bot.fake.calls_to("users.info")]
    assert lookups == [MEMBER_ID]

    _, ack = timed_slash(slack_bot, "help", user_id="U0GHOST01")
    assert ack["text"]
    assert (seen[-1].user.user_id, seen[-1].user.email) == ("U0GHOST01", None)


def test_public_reply_is_acked_in_channel(slack_bot: SlackBot) -> None:
    _, private = timed_slash(slack_bot, "gmv month")
    _, public = timed_slash(slack_bot, "gmv month public")
    assert private["response_type"] == "ephemeral"
    assert public["response_type"] == "in_channel"


def short_ack_budget(bot: SlackBot, seconds: float = 0.3) -> None:
    """The ack budget (2 s in production) scaled down, so a slow-path test waits tenths of a second."""
    bot.adapter.services.ack_watch.stop()
    bot.adapter.services.ack_watch = AckWatch(seconds)


class SlowCore:
    """The core takes `seconds` (or until `release` is set) before answering for real."""

    def __init__(self, bot: SlackBot, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
        self.release = threading.Event()
        self.seconds = seconds
        self.real_handle = bot.runtime.core.handle
        self.requests: list[CommandRequest] = []
        monkeypatch.setattr(bot.runtime.core, "handle", self.handle)

    def handle(self, request: CommandRequest) -> Reply:
        self.requests.append(request)
        self.release.wait(self.seconds)
        return self.real_handle(request)


def test_slow_answer_is_acked_in_time_and_delivered_via_response_url(
    slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    short_ack_budget(slack_bot)
    slow = SlowCore(slack_bot, monkeypatch, seconds=1.0)
    started = time.monotonic()
    elapsed, ack = timed_slash(slack_bot, "help", response_url_key="slow-1")
    assert elapsed < ACK_DEADLINE
    assert ack == {"text": "Working on it…", "response_type": "ephemeral"}

    [hook] = slack_bot.fake.wait_for("hook", timeout=10)
    assert time.monotonic() - started >= 1.0
    assert hook.path == "/hooks/slow-1"
    expected = slow.real_handle(slow.requests[0])
    assert hook.params["text"] == fallback_text(expected)
    assert hook.params["blocks"][0]["type"] == "header"
    assert hook.params["response_type"] == ("in_channel" if expected.public else "ephemeral")


def test_slow_user_lookup_does_not_delay_the_ack(slack_bot: SlackBot) -> None:
    short_ack_budget(slack_bot)
    slack_bot.fake.delays["users.info"] = 1.0
    elapsed, ack = timed_slash(slack_bot, "help", response_url_key="slow-lookup")
    assert elapsed < ACK_DEADLINE
    assert ack["text"] == "Working on it…"
    [hook] = slack_bot.fake.wait_for("hook", timeout=8)
    assert hook.params["blocks"][0]["type"] == "header"


def test_slow_answer_to_chinese_words_says_so_in_chinese(slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> None:
    short_ack_budget(slack_bot)
    slow = SlowCore(slack_bot, monkeypatch, seconds=5.0)
    elapsed, ack = timed_slash(slack_bot, "本月GMV达成率", response_url_key="slow-zh")
    slow.release.set()
    assert elapsed < ACK_DEADLINE
    assert ack["text"] == "处理中…"
    slack_bot.fake.wait_for("hook")


def test_charts_of_a_slash_answer_are_uploaded_to_the_channel(
    slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_handle = slack_bot.runtime.core.handle
    chart = Chart(name="gmv-pace.png", png=PNG, title="GMV pace")
    monkeypatch.setattr(slack_bot.runtime.core, "handle", lambda request: replace(real_handle(request), charts=[chart]))
    _, ack = timed_slash(slack_bot, "help")
    assert ack["blocks"]
    [complete] = slack_bot.fake.wait_for("files.completeUploadExternal")
    [get_url] = slack_bot.fake.calls_to("files.getUploadURLExternal")
    [upload] = slack_bot.fake.calls_to("upload")
    assert get_url.params["filename"] == "gmv-pace.png"
    assert int(get_url.params["length"]) == len(PNG)
    assert upload.body == PNG
    assert complete.params["channel_id"] == CHANNEL_ID
    assert [f["id"] for f in complete.json_param("files")] == [upload.params["file_id"]]


# ---- need the core (target form, admin rights, figures) ------------------------------------


def test_admin_target_opens_the_modal(slack_bot: SlackBot) -> None:
    elapsed, ack = timed_slash(slack_bot, "target", user_id=ADMIN_ID, trigger_id="trig-1")
    assert elapsed < ACK_DEADLINE
    assert ack == {}
    [opened] = slack_bot.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "trig-1"
    view = opened.params["view"]
    assert view["type"] == "modal"
    assert json.loads(view["private_metadata"]) == {"channel": CHANNEL_ID}
    assert {block["block_id"] for block in view["blocks"]} >= {"kpi", "scope", "period", "value"}


def test_member_target_does_not_open_the_modal(slack_bot: SlackBot) -> None:
    _, ack = timed_slash(slack_bot, "target", user_id=MEMBER_ID)
    assert ack.get("text")
    time.sleep(0.2)
    assert slack_bot.fake.calls_to("views.open") == []
