"""Events API over real HTTP: @mentions and DMs answered in thread, exactly once, bots ignored."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from bot.core.request import CommandRequest
from bot.slack.blocks import fallback_text
from jobs.present.reply import Chart, Reply
from tests.fakes.slack_api import (
    ADMIN_ID,
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    MEMBER_EMAIL,
    MEMBER_ID,
    SlackBot,
    message_event,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

GRACE = 0.3  # how long a wrongly answered event would take to reach the fake, at most


def test_mention_is_answered_in_its_thread(slack_bot: SlackBot, answers: list[tuple[CommandRequest, Reply]]) -> None:
    event = message_event(f"<@{BOT_USER_ID}> help", ts="1700000000.000100")
    response = slack_bot.event(event, event_id="Ev0MENTION1")
    assert response.status_code == 200

    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    assert posted.params["channel"] == CHANNEL_ID
    assert posted.params["thread_ts"] == "1700000000.000100"
    [(request, reply)] = answers
    assert request.text == "help"  # the bot's own mention is stripped
    assert request.user.email == MEMBER_EMAIL
    assert posted.params["text"] == fallback_text(reply)
    assert posted.params["blocks"][0]["type"] == "header"


def test_reply_in_an_existing_thread_stays_in_that_thread(slack_bot: SlackBot) -> None:
    event = message_event(f"<@{BOT_USER_ID}> help", ts="1700000000.000300", thread_ts="1700000000.000001")
    slack_bot.event(event, event_id="Ev0THREAD01")
    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    assert posted.params["thread_ts"] == "1700000000.000001"


def test_direct_message_is_answered(slack_bot: SlackBot, answers: list[tuple[CommandRequest, Reply]]) -> None:
    event = message_event("/kpi help", kind="message", channel="D0MEMBER1", ts="1700000000.000200")
    slack_bot.event(event, event_id="Ev0DM000001")
    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    assert posted.params["channel"] == "D0MEMBER1"
    assert [request.text for request, _ in answers] == ["/kpi help"]


def test_redelivered_event_is_answered_once(slack_bot: SlackBot) -> None:
    event = message_event(f"<@{BOT_USER_ID}> help", ts="1700000000.000400")
    first = slack_bot.event(event, event_id="Ev0REDELIV1")
    assert first.status_code == 200
    slack_bot.fake.wait_for("chat.postMessage")

    for retry in (1, 2, 3):
        again = slack_bot.event(event, event_id="Ev0REDELIV1", retry_num=retry)
        assert again.status_code == 200
        assert again.headers["x-slack-no-retry"] == "1"
    time.sleep(GRACE)
    assert len(slack_bot.fake.calls_to("chat.postMessage")) == 1


def test_concurrent_duplicates_are_answered_once(slack_bot: SlackBot) -> None:
    event = message_event(f"<@{BOT_USER_ID}> help", ts="1700000000.000500")
    responses = [slack_bot.event(event, event_id="Ev0DUPLIC01", retry_num=n or None) for n in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    slack_bot.fake.wait_for("chat.postMessage")
    time.sleep(GRACE)
    assert len(slack_bot.fake.calls_to("chat.postMessage")) == 1


def test_same_message_as_mention_and_dm_is_answered_once(slack_bot: SlackBot) -> None:
    ts = "1700000000.000600"
    slack_bot.event(message_event(f"<@{BOT_USER_ID}> help", channel="D0MEMBER1", ts=ts), event_id="Ev0BOTH0001")
    slack_bot.event(
        message_event(f"<@{BOT_USER_ID}> help", channel="D0MEMBER1", ts=ts, kind="message"), event_id="Ev0BOTH0002"
    )
    slack_bot.fake.wait_for("chat.postMessage")
    time.sleep(GRACE)
    assert len(slack_bot.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            message_event("help", kind="message", channel="D0MEMBER1", user=BOT_USER_ID, bot_id=BOT_ID),
            id="own-message",
        ),
        pytest.param(
            message_event("help", kind="message", channel="D0MEMBER1", bot_id="B0OTHER01", subtype="bot_message"),
            id="other-bot",
        ),
        pytest.param(message_event("help", kind="message", channel="D0MEMBER1", subtype="message_changed"), id="edit"),
        pytest.param(
            message_event("help", kind="message", channel="D0MEMBER1", subtype="message_deleted"), id="deletion"
        ),
        pytest.param(
            message_event("help", kind="message", channel="C0SALES1", channel_type="channel"),
            id="channel-message-without-mention",
        ),
    ],
)
def test_bot_messages_edits_and_other_messages_are_ignored(slack_bot: SlackBot, event: dict) -> None:
    response = slack_bot.event(event, event_id=f"Ev0IGN{event['ts'].replace('.', '')}")
    assert response.status_code == 200  # acknowledged, so Slack does not retry
    # A real message afterwards is answered; the ignored one before it never is.
    slack_bot.event(message_event("help", kind="message", channel="D0MEMBER1", user=ADMIN_ID), event_id="Ev0SENTINEL")
    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    time.sleep(GRACE)
    assert len(slack_bot.fake.calls_to("chat.postMessage")) == 1
    assert posted.params["channel"] == "D0MEMBER1"


def test_unhandled_event_types_are_acknowledged(slack_bot: SlackBot) -> None:
    event = {
        "type": "reaction_added",
        "user": MEMBER_ID,
        "reaction": "tada",
        "event_ts": "1700000000.000700",
        "item": {"type": "message", "channel": CHANNEL_ID, "ts": "1700000000.000100"},
    }
    response = slack_bot.event(event, event_id="Ev0REACTION")
    assert response.status_code == 200


def test_button_press_is_routed_to_the_core_and_answered_privately(slack_bot: SlackBot) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0KPI"},
        "user": {"id": MEMBER_ID, "username": "mo"},
        "api_app_id": "A0KPI",
        "trigger_id": "trig-btn",
        "response_url": slack_bot.fake.response_url("button"),
        "container": {"type": "message", "message_ts": "1700000000.000800", "channel_id": CHANNEL_ID},
        "channel": {"id": CHANNEL_ID},
        "message": {"ts": "1700000000.000800", "text": "x"},
        "actions": [
            {
                "type": "button",
                "action_id": "kpi.me",
                "block_id": "kpi_actions_0",
                "value": "me",
                "action_ts": "1700000001.000000",
            }
        ],
    }
    response = slack_bot.interaction(payload)
    assert response.status_code == 200
    [hook] = slack_bot.fake.wait_for("hook")
    assert hook.path == "/hooks/button"
    assert hook.params["response_type"] == "ephemeral"
    assert hook.params["replace_original"] is False
    assert hook.params["text"]


def test_redelivered_non_message_event_is_processed_once(slack_bot: SlackBot) -> None:
    """Dedupe by event_id alone (no message ts to fall back on): App Home is published once."""
    event = {
        "type": "app_home_opened",
        "user": MEMBER_ID,
        "channel": "D0HOME001",
        "tab": "home",
        "event_ts": "1700000000.000950",
    }
    assert slack_bot.event(event, event_id="Ev0HOMEONCE").status_code == 200
    slack_bot.fake.wait_for("views.publish")
    again = slack_bot.event(event, event_id="Ev0HOMEONCE", retry_num=1)
    assert again.headers["x-slack-no-retry"] == "1"
    time.sleep(GRACE)
    assert len(slack_bot.fake.calls_to("views.publish")) == 1


def test_charts_of_a_threaded_answer_go_into_the_same_thread(
    slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"thread-chart" * 100
    real_handle = slack_bot.runtime.core.handle
    chart = Chart(name="gmv.png", png=png, title="GMV")
    monkeypatch.setattr(slack_bot.runtime.core, "handle", lambda request: replace(real_handle(request), charts=[chart]))
    slack_bot.event(message_event(f"<@{BOT_USER_ID}> gmv month", ts="1700000000.001100"), event_id="Ev0CHART001")
    [complete] = slack_bot.fake.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL_ID
    assert complete.params["thread_ts"] == "1700000000.001100"
    [upload] = slack_bot.fake.calls_to("upload")
    assert upload.body == png
    [posted] = slack_bot.fake.calls_to("chat.postMessage")
    assert posted.at < complete.at  # the answer first, then its chart
