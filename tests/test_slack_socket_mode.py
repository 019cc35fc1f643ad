"""Socket Mode (SLACK_APP_TOKEN set): the same app fed over a local websocket."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.core.request import CommandRequest
from bot.slack.blocks import fallback_text
from jobs.present.reply import Reply
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    MEMBER_ID,
    FakeSlack,
    SlackBot,
    event_envelope,
    message_event,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


@pytest.fixture
def slack_overrides() -> dict[str, str]:
    return {"SLACK_APP_TOKEN": APP_TOKEN}


@pytest.fixture
def slack_bot(slack_bot: SlackBot, fake_slack: FakeSlack) -> SlackBot:
    """The shared `slack_bot` in Socket Mode, once both ends of the websocket are up."""
    assert fake_slack.socket_connected.wait(5), "the bot never connected to the Socket Mode server"
    assert slack_bot.adapter.socket_mode.wait_connected(5)
    return slack_bot


def slash_envelope(envelope_id: str, text: str, fake: FakeSlack) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "legacy",
            "team_id": "T0KPI",
            "team_domain": "kpitest",
            "channel_id": CHANNEL_ID,
            "channel_name": "sales",
            "user_id": MEMBER_ID,
            "user_name": "mo",
            "command": "/kpi",
            "text": text,
            "api_app_id": "A0KPI",
            "response_url": fake.response_url("socket"),
            "trigger_id": "1.2.socket",
        },
    }


def events_envelope(envelope_id: str, event: dict[str, Any], event_id: str, retry: int = 0) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
        "payload": event_envelope(event, event_id=event_id),
    }


def test_connects_with_the_app_token(slack_bot: SlackBot) -> None:
    [opened] = slack_bot.fake.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"


def test_slash_command_envelope_is_acked_with_the_answer(
    slack_bot: SlackBot, answers: list[tuple[CommandRequest, Reply]]
) -> None:
    started = time.monotonic()
    slack_bot.fake.send_envelope(slash_envelope("env-slash-1", "help", slack_bot.fake))
    ack = slack_bot.fake.wait_for_ack("env-slash-1")
    assert time.monotonic() - started < 3.0
    [(request, reply)] = answers
    assert request.text == "help"
    assert ack["payload"]["text"] == fallback_text(reply)
    assert ack["payload"]["blocks"][0]["type"] == "header"


def test_mention_envelope_is_acked_and_answered_once_in_thread(slack_bot: SlackBot) -> None:
    event = message_event(f"<@{BOT_USER_ID}> help", ts="1700000000.009900")
    slack_bot.fake.send_envelope(events_envelope("env-ev-1", event, "Ev0SOCKET01"))
    slack_bot.fake.wait_for_ack("env-ev-1")
    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    assert posted.params["thread_ts"] == "1700000000.009900"

    slack_bot.fake.send_envelope(events_envelope("env-ev-2", event, "Ev0SOCKET01", retry=1))
    slack_bot.fake.wait_for_ack("env-ev-2")
    time.sleep(0.3)
    assert len(slack_bot.fake.calls_to("chat.postMessage")) == 1


def test_redelivered_envelope_is_acked_and_processed_once(slack_bot: SlackBot) -> None:
    event = {
        "type": "app_home_opened",
        "user": MEMBER_ID,
        "channel": "D0HOME001",
        "tab": "home",
        "event_ts": "1700000000.009950",
    }
    slack_bot.fake.send_envelope(events_envelope("env-home-1", event, "Ev0SOCKHOME"))
    slack_bot.fake.wait_for_ack("env-home-1")
    slack_bot.fake.wait_for("views.publish")
    slack_bot.fake.send_envelope(events_envelope("env-home-2", event, "Ev0SOCKHOME", retry=1))
    slack_bot.fake.wait_for_ack("env-home-2")
    time.sleep(0.3)
    assert len(slack_bot.fake.calls_to("views.publish")) == 1


def test_reconnects_within_seconds_after_an_abrupt_drop(slack_bot: SlackBot) -> None:
    """The probe: after the connection was cut (no close frame) the bot stayed deaf for about a minute."""
    fake = slack_bot.fake
    assert fake.socket_sessions == 1
    fake.drop_sockets()
    dropped = time.monotonic()
    deadline = dropped + 15
    while fake.socket_sessions < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.monotonic() - dropped
    print(f"\nSocket Mode reconnected {took:.1f} s after an abrupt drop")
    assert fake.socket_sessions == 2, "no new Socket Mode session within 15 s"
    assert took < 10
    assert len(fake.calls_to("apps.connections.open")) == 2
    fake.send_envelope(slash_envelope("env-after-drop", "help", fake))
    assert fake.wait_for_ack("env-after-drop", timeout=10)["envelope_id"] == "env-after-drop"
