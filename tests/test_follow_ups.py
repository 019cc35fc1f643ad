"""Follow-ups (issue 13): within a thread, a DM or a console session, a question asked within 15
minutes inherits what it does not say from the same person's previous question. Stored in the
database, so any replica answers it. Core, console, Slack, Feishu and

DingTalk too. Core figures use tests/conversation_fixture.py (today Fri 2026-11-20, data Nov 1–18, 1,800 GMV a
day for the team + 2,400 on Nov 2; Hana 1,000 a day, Hugo 500 a day)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.console import run_script
from bot.core.request import UserRef
from bot.testing import TestAdapter
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.models import ConversationMemory
from tests.conversation_fixture import conversation_team
from tests.fakes.dingtalk_api import DingTalkBot, robot_message
from tests.fakes.feishu_api import P2P_CHAT, FeishuBot, bot_mention
from tests.fakes.slack_api import BOT_USER_ID, SlackBot, message_event


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    return conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))


def figures(reply) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.label: f.value for f in reply.figures}


def test_and_last_week_inherits_the_kpi_and_scope(chat: TestAdapter) -> None:
    chat.ask("Hana's gmv this month", as_user="boss")
    reply = chat.ask("and last week?", as_user="boss")
    assert reply.title == "GMV · Hana · week 46, 2026 (Nov 09–Nov 15)"
    assert figures(reply)["Actual"] == "$7,000"  # 7 days × 1,000
    reply = chat.ask("what about Hugo?", as_user="boss")
    assert reply.title == "GMV · Hugo · week 46, 2026 (Nov 09–Nov 15)"
    assert figures(reply)["Actual"] == "$3,500"  # 7 days × 500


def test_chinese_follow_ups(chat: TestAdapter) -> None:
    chat.ask("本月GMV", as_user="boss")
    reply = chat.ask("那上周呢", as_user="boss")
    assert reply.title == "GMV · 团队 · 2026年第46周（11/09–11/15）"
    assert figures(reply)["实际"] == "$1.26万"  # 7 × 1,800 = 12,600
    reply = chat.ask("主播呢", as_user="boss")  # the hosts' GMV, still last week: 7 × (1,000 + 500)
    assert reply.title == "GMV · 主播 · 2026年第46周（11/09–11/15）"
    assert figures(reply)["实际"] == "$1.05万"
    reply = chat.ask("主播表现怎么样", as_user="boss")
    reply = chat.ask("投手呢", as_user="boss")  # a role's table follows with the other role's
    assert reply.title == "投手 · 2026年11月"
    assert [row[0] for row in reply.tables[0].rows] == ["Bo"]


def test_each_thread_and_each_person_has_its_own_memory(chat: TestAdapter) -> None:
    chat.ask("gmv this month", as_user="boss", thread="T1")
    assert chat.ask("and last week?", as_user="boss", thread="T1").kind == ReplyKind.ANSWER
    other_thread = chat.ask("and last week?", as_user="boss", thread="T2")
    other_person = chat.ask("and last week?", as_user="hana", thread="T1")
    for reply in (other_thread, other_person):
        assert reply.kind == ReplyKind.ERROR
        assert "no earlier question in this conversation" in (reply.text or "")


def test_a_follow_up_after_15_minutes_starts_afresh(chat: TestAdapter, db: Database) -> None:
    chat.ask("gmv this month", as_user="boss")
    with db.session() as session:  # the question was asked 16 minutes ago
        memory = session.exec(select(ConversationMemory)).one()
        memory.asked_at = memory.asked_at - timedelta(minutes=16)
        session.add(memory)
    reply = chat.ask("and last week?", as_user="boss")
    assert reply.kind == ReplyKind.ERROR and "15 minutes" in (reply.text or "")


def test_a_refused_question_is_not_remembered(chat: TestAdapter) -> None:
    chat.ask("gmv this month", as_user="boss")
    assert chat.ask("gmv blorp", as_user="boss").kind == ReplyKind.ERROR
    reply = chat.ask("and last week?", as_user="boss")  # still follows "gmv this month"
    assert reply.title == "GMV · Team · week 46, 2026 (Nov 09–Nov 15)"


def test_console_session_follow_up(chat: TestAdapter) -> None:
    out = io.StringIO()
    boss = UserRef("console", "boss@shop.com", email="boss@shop.com")
    run_script(chat.core, ["orders this month", "and gmv for Bo?", "上周呢"], boss, None, out)
    text = out.getvalue()
    assert "> and gmv for Bo?\n⚪ GMV · Bo · November 2026\n  Actual: $2,400" in text  # one day, Nov 2, no target
    assert "> 上周呢\n⚪ GMV · Bo · 2026年第46周" in text  # Bo has no rows in week 46


# --- Slack: a thread (mention) and a DM ---------------------------------------------------------------

def _last_week_label(slack_bot: SlackBot) -> str:
    engine = slack_bot.runtime.core.engine
    week = Calendar().previous(engine.calendar.week(engine.today()))
    return f"week {int(week.key[-2:])}, {week.key[:4]}"


def test_slack_follow_up_in_a_mention_thread(slack_bot: SlackBot) -> None:
    first = message_event(f"<@{BOT_USER_ID}> gmv this month", ts="1700000100.000100")
    slack_bot.event(first, event_id="Ev0FOLLOW01")
    slack_bot.fake.wait_for("chat.postMessage", 1)
    follow = message_event(f"<@{BOT_USER_ID}> and last week?", ts="1700000100.000200", thread_ts=first["ts"])
    slack_bot.event(follow, event_id="Ev0FOLLOW02")
    posted = slack_bot.fake.wait_for("chat.postMessage", 2)[1]
    assert posted.params["thread_ts"] == first["ts"]
    assert f"GMV · Team · {_last_week_label(slack_bot)}" in posted.params["text"].splitlines()[0]
    elsewhere = message_event(f"<@{BOT_USER_ID}> and last week?", ts="1700000100.000300")  # a new thread
    slack_bot.event(elsewhere, event_id="Ev0FOLLOW03")
    refused = slack_bot.fake.wait_for("chat.postMessage", 3)[2]
    assert "no earlier question in this conversation" in refused.params["text"]


def test_slack_follow_up_in_a_direct_message(slack_bot: SlackBot) -> None:
    slack_bot.event(message_event("roas this month", kind="message", channel="D0MEMBER1", ts="1700000200.000100"),
                    event_id="Ev0FOLLDM1")
    slack_bot.fake.wait_for("chat.postMessage", 1)
    slack_bot.event(message_event("and last week?", kind="message", channel="D0MEMBER1", ts="1700000200.000200"),
                    event_id="Ev0FOLLDM2")
    posted = slack_bot.fake.wait_for("chat.postMessage", 2)[1]
    assert f"ROAS · Team · {_last_week_label(slack_bot)}" in posted.params["text"].splitlines()[0]


# --- Feishu: a reply chain in a group, and a 1:1 chat ------------------------------------------------

def _ask_feishu(bot: FeishuBot, text: str, root_id: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    event = bot.message(text, **kwargs)
    if root_id:
        event["event"]["message"]["root_id"] = root_id
    assert bot.poster.post(event).status_code == 200
    return event["event"]["message"]["message_id"], bot.fake.wait_for_reply(event["event"]["message"]["message_id"])


def _title(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.content["header"]["title"]["content"])


def test_feishu_follow_up_in_a_reply_chain_and_in_a_1_to_1_chat(bot: FeishuBot) -> None:
    engine = bot.runtime.core.engine
    last_week = Calendar().previous(engine.calendar.week(engine.today()))
    zh_week = f"{last_week.key[:4]}年第{int(last_week.key[-2:])}周"
    root, _ = _ask_feishu(bot, "@_user_1 本月GMV", mentions=[bot_mention()])
    _, follow = _ask_feishu(bot, "@_user_1 那上周呢", root_id=root, mentions=[bot_mention()])
    assert f"GMV · 团队 · {zh_week}" in _title(follow)
    _, unrelated = _ask_feishu(bot, "@_user_1 那上周呢", mentions=[bot_mention()])  # another chain
    assert "没有上一个问题" in str(unrelated.content)
    _ask_feishu(bot, "投产比", chat_type="p2p", chat_id=P2P_CHAT)
    _, dm = _ask_feishu(bot, "上周呢", chat_type="p2p", chat_id=P2P_CHAT)
    assert f"投产比 · 团队 · {zh_week}" in _title(dm)


# --- DingTalk: a group chat (no threads there: the person's questions in that chat) --------------------

def test_dingtalk_follow_up_in_a_group_chat(dingtalk: DingTalkBot) -> None:
    engine = dingtalk.runtime.core.engine
    last_week = Calendar().previous(engine.calendar.week(engine.today()))
    zh_week = f"{last_week.key[:4]}年第{int(last_week.key[-2:])}周"
    assert dingtalk.signed_post(robot_message(dingtalk.fake, "本月GMV")).status_code == 200
    dingtalk.fake.wait_for_sent()
    assert dingtalk.signed_post(robot_message(dingtalk.fake, "那上周呢")).status_code == 200
    follow = dingtalk.fake.wait_for_sent(2)[1]
    assert f"GMV · 团队 · {zh_week}" in follow.markdown
