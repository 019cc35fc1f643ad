"""Requests are fresh, once, and ours (issue 18 §4): Slack slash commands and interactions run once per
trigger_id and only for our workspace; a correctly signed Feishu request older than the freshness window is
refused, and a refused one is logged as one line, without the SDK's traceback."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.core.contracts import ACTION_OPEN_TARGET_FORM
from bot.core.request import CommandRequest
from jobs.present.reply import Reply
from storage.repositories import subscriptions as subscription_repo
from tests.fakes.feishu_api import MEMBER_OPEN_ID, P2P_CHAT, FeishuBot, no_reply_within
from tests.fakes.slack_api import ADMIN_ID, SlackBot, poll
from tests.test_slack_kpi_flow import home_button


def subscription_count(slack_bot: SlackBot) -> int:
    with slack_bot.runtime.db.session() as session:
        return len(subscription_repo.list_subscriptions(session))


def test_a_replayed_slash_command_runs_once(slack_bot: SlackBot) -> None:
    """The probe: the same signed `digest subscribe` sent twice made two subscriptions."""
    first = slack_bot.slash("digest subscribe weekly mon 09:00", user_id=ADMIN_ID, trigger_id="111.222.replayed")
    assert first.status_code == 200 and "Digest subscribed" in first.text
    again = slack_bot.slash("digest subscribe weekly mon 09:00", user_id=ADMIN_ID, trigger_id="111.222.replayed")
    assert again.status_code == 200 and again.text == ""
    assert subscription_count(slack_bot) == 1
    fresh = slack_bot.slash("digest subscribe weekly tue 09:00", user_id=ADMIN_ID)  # a new trigger runs
    assert "Digest subscribed" in fresh.text and subscription_count(slack_bot) == 2


def test_a_replayed_interaction_runs_once(slack_bot: SlackBot) -> None:
    payload = home_button(ACTION_OPEN_TARGET_FORM, ADMIN_ID, "form")
    assert slack_bot.interaction(payload).status_code == 200
    slack_bot.fake.wait_for("views.open")
    assert slack_bot.interaction(payload).status_code == 200  # same trigger_id
    time.sleep(0.3)
    assert len(slack_bot.fake.calls_to("views.open")) == 1


def test_a_request_from_another_workspace_is_refused(
    slack_bot: SlackBot, answers: list[tuple[CommandRequest, Reply]]
) -> None:
    response = slack_bot.slash("digest subscribe weekly mon 09:00", user_id=ADMIN_ID, team_id="T0ELSEWHERE")
    assert response.status_code == 403
    assert answers == [] and subscription_count(slack_bot) == 0
    assert slack_bot.slash("help").status_code == 200 and poll(lambda: answers)  # ours still works


def test_a_signed_feishu_request_a_day_old_is_refused(bot: FeishuBot) -> None:
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT, sender=MEMBER_OPEN_ID)
    message_id = event["event"]["message"]["message_id"]
    response = bot.poster.post(event, timestamp=time.time() - 24 * 3600)
    assert response.status_code == 401
    no_reply_within(bot, message_id)


def test_a_retry_inside_the_window_is_accepted(bot: FeishuBot) -> None:
    """Feishu's last retry comes ~7 h 5 min after the first try; the window is 7 h 30 min."""
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT, sender=MEMBER_OPEN_ID)
    response = bot.poster.post(event, timestamp=time.time() - (7 * 3600 + 5 * 60 + 15))
    assert response.status_code == 200
    bot.fake.wait_for_reply(event["event"]["message"]["message_id"])


def test_a_rejected_feishu_request_logs_one_line(bot: FeishuBot, caplog: pytest.LogCaptureFixture) -> None:
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
    with caplog.at_level(logging.DEBUG):
        assert bot.poster.post(event, signing_key="forged-key").status_code == 401
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in lines] == ["Feishu event rejected: signature verification failed"]
    assert not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in caplog.text and json.dumps(event)[:20] not in caplog.text
