"""Slack's assistant surface (Bolt `Assistant`) over real HTTP against the fake Web API: a thread
starts with a greeting and suggested prompts in the user's language, questions are answered in the
thread by the same parser (follow-ups included) and title the thread, and threaded DMs keep working
although Bolt's `user_message` takes every threaded IM message (PLATFORM-NOTES-2 §8)."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_api import MEMBER_ID, SlackBot, message_event

DM = "D0MEMBER1"


def thread_started(user: str = MEMBER_ID, thread_ts: str = "1700000300.000100") -> dict[str, Any]:
    return {"type": "assistant_thread_started", "event_ts": thread_ts,
            "assistant_thread": {"user_id": user, "channel_id": DM, "thread_ts": thread_ts,
                                 "context": {"channel_id": "C0SALES1", "team_id": "T0KPI", "enterprise_id": None}}}


def test_a_new_thread_gets_a_greeting_and_prompts_in_the_users_language(slack_bot: SlackBot) -> None:
    slack_bot.fake.add_user("U0CHINESE", email="zh@shop.com", name="li", locale="zh-CN")
    slack_bot.event(thread_started("U0CHINESE"), event_id="Ev0ASSIST01")
    [prompts] = slack_bot.fake.wait_for("assistant.threads.setSuggestedPrompts")
    titles = [p["title"] for p in prompts.json_param("prompts")]
    assert titles == ["本月GMV", "本周主播排名", "我怎么样", "GMV走势"]
    [greeting] = slack_bot.fake.wait_for("chat.postMessage")
    assert greeting.params["thread_ts"] == "1700000300.000100" and "你好" in greeting.params["text"]


def test_english_locale_gets_english_prompts(slack_bot: SlackBot) -> None:
    slack_bot.fake.add_user("U0ENGLISH", email="en@shop.com", name="jo", locale="en-US")
    slack_bot.event(thread_started("U0ENGLISH", "1700000300.000200"), event_id="Ev0ASSIST02")
    [prompts] = slack_bot.fake.wait_for("assistant.threads.setSuggestedPrompts")
    assert [p["title"] for p in prompts.json_param("prompts")][:2] == ["GMV this month", "how am I doing"]


def test_questions_in_the_thread_are_answered_there_titled_and_followed_up(slack_bot: SlackBot) -> None:
    thread = "1700000300.000300"
    slack_bot.event(message_event("gmv this month", kind="message", channel=DM, ts="1700000300.000301",
                                  thread_ts=thread), event_id="Ev0ASSIST03")
    [title] = slack_bot.fake.wait_for("assistant.threads.setTitle")
    assert title.params["title"] == "gmv this month" and title.params["thread_ts"] == thread
    [answer] = slack_bot.fake.wait_for("chat.postMessage")
    assert answer.params["thread_ts"] == thread and "GMV · Team" in answer.params["text"]
    slack_bot.event(message_event("and last week?", kind="message", channel=DM, ts="1700000300.000302",
                                  thread_ts=thread), event_id="Ev0ASSIST04")
    follow = slack_bot.fake.wait_for("chat.postMessage", 2)[1]
    assert follow.params["thread_ts"] == thread
    assert "GMV · Team · week" in follow.params["text"]  # the follow-up kept the KPI, changed the period


def test_a_plain_dm_without_a_thread_still_reaches_the_bot(slack_bot: SlackBot) -> None:
    slack_bot.event(message_event("help", kind="message", channel=DM, ts="1700000300.000400"),
                    event_id="Ev0ASSIST05")
    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    assert posted.params["channel"] == DM and posted.params["thread_ts"] == "1700000300.000400"
