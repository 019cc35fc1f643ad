"""Quieter alerts end to end on the fake platforms (issue 16 §8): reminders and the resolved notice in the
original alert's thread (Slack thread_ts, a Feishu reply; DingTalk, which has no threads, a new message that
names the alert), the original updated when it is acknowledged, snoozed or resolved, snooze for 1 hour,
1 day, 1 week or until Monday 09:00 in the team's zone, by button and by chat, in English and Chinese.

The scheduler's clock is `evaluate_all(now)`; the chat's is `services.clock` (the snooze's start)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.core.contracts import ACTION_ALERT_ACK
from jobs.alerts import AlertRunner
from jobs.delivery import Deliverer
from storage.models import AlertState, AuditEntry, DeliveryLedger
from storage.repositories import alerts as alert_repo
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fakes.dingtalk_api import GROUP, DingTalkBot, card_callback, robot_message, running_dingtalk_bot
from tests.fakes.feishu_api import (
    GROUP_CHAT,
    MEMBER_EMAIL,
    MEMBER_OPEN_ID,
    P2P_CHAT,
    FeishuBot,
    find_elements,
    running_feishu_bot,
)
from tests.fakes.slack_api import CHANNEL_ID, MEMBER_ID, TEAM_ID, SlackBot, poll
from tests.fakes.slack_api import MEMBER_EMAIL as SLACK_MEMBER_EMAIL

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def spend(runtime: Any, days: list[date], value: float) -> None:
    with runtime.db.session() as session:
        upsert_facts(session, [FactRecord("ad_spend", day, value, source="ads") for day in days])


def add_rule(runtime: Any, channel: str, lang: str) -> int:
    """Daily team ad spend > $5,000 for 1 day, reminders every 24 h."""
    with runtime.db.session() as session:
        rule = alert_repo.add_rule(session, kpi="ad_spend", scope_kind="team", scope_key="", mode="value", op=">",
                                   threshold=5000, days=1, channel=channel, lang=lang, created_by="admin",
                                   cooldown_hours=24.0)
        assert rule.id is not None
        return rule.id


def runner(runtime: Any) -> AlertRunner:
    """The scheduler's alert runner over the bot's own outboxes (the real platform clients)."""
    core = runtime.core
    return AlertRunner(runtime.db, core.engine, runtime.registry, Deliverer(runtime.db, runtime.outboxes),
                       currency="USD")


def kinds(run: AlertRunner, now: datetime) -> list[str]:
    return [event.kind for event in run.evaluate_all(now)]


def state_of(runtime: Any, rule_id: int) -> AlertState:
    with runtime.db.session() as session:
        state = session.get(AlertState, rule_id)
        assert state is not None
        return state


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """Every text a Slack message shows, in order (header, sections, fields, context, buttons)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


# -- Slack: thread_ts, chat.update ------------------------------------------------------------------


def press(bot: SlackBot, rule_id: int, ts: str, action_id: str, value: str) -> None:
    payload = {
        "type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": MEMBER_ID, "username": "mo"},
        "api_app_id": "A0KPI", "trigger_id": f"trig-{ts}-{value}",
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL_ID},
        "channel": {"id": CHANNEL_ID}, "message": {"ts": ts, "text": "alert"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "kpi_actions_0", "value": value,
                     "action_ts": "1700000001.000000"}],
    }
    assert bot.interaction(payload).status_code == 200


def test_slack_reminder_and_resolved_in_the_thread_and_the_original_updated(slack_bot: SlackBot) -> None:
    bot, runtime = slack_bot, slack_bot.runtime
    with runtime.db.session() as session:  # the presser is a known member
        member_repo.ensure_member(session, SLACK_MEMBER_EMAIL)
    rule = add_rule(runtime, f"slack:{CHANNEL_ID}", "en")
    run = runner(runtime)
    spend(runtime, [date(2026, 11, 22)], 6000)
    assert kinds(run, utc(2026, 11, 23, 10)) == ["alert"]  # 6,000 > 5,000
    [fired] = bot.fake.posted
    assert fired["thread_ts"] is None and fired["channel"] == CHANNEL_ID
    assert state_of(runtime, rule).message_id == fired["ts"]  # kept from the ledger's record of the send
    shown = block_texts(fired["blocks"])
    assert "Alert · Ad spend > $5,000 for 1 day(s) · team" in shown
    assert buttons(fired["blocks"]) == ["Acknowledge", "Snooze 1 hour", "Snooze 1 day", "Snooze 1 week",
                                        "Until Monday"]
    assert f"`alert snooze {rule} 1h|1d|1w|monday`" in shown

    spend(runtime, [date(2026, 11, 23)], 7000)
    assert kinds(run, utc(2026, 11, 24, 10)) == ["alert_reminder"]  # 24 h later, still 7,000 > 5,000
    reminder = bot.fake.posted[1]
    assert reminder["thread_ts"] == fired["ts"]  # in the alert's thread
    shown = block_texts(reminder["blocks"])
    assert "Still firing · Ad spend > $5,000 for 1 day(s) · team" in shown
    assert "Firing since 2026-11-23 10:00 UTC" in shown and "$7,000" in shown
    assert f"or `alert ack {rule}` / `alert snooze {rule} 1d`" in shown
    assert buttons(reminder["blocks"]) == [] and "Re: alert" not in shown  # the buttons are on the alert above

    press(bot, rule, fired["ts"], ACTION_ALERT_ACK, str(rule))  # acknowledged on the alert itself
    [update] = poll(lambda: list(bot.fake.updated))
    assert (update["channel"], update["ts"]) == (CHANNEL_ID, fired["ts"])
    shown = block_texts(update["blocks"])
    assert "Alert · Ad spend > $5,000 for 1 day(s) · team" in shown
    assert "Acknowledged by mo: no more reminders until it clears." in shown
    assert buttons(update["blocks"]) == []  # nothing left to press
    spend(runtime, [date(2026, 11, 24)], 6500)
    assert kinds(run, utc(2026, 11, 25, 10)) == []  # 6,500 > 5,000 still, but acknowledged: no reminder

    spend(runtime, [date(2026, 11, 25)], 100)  # clear: 100 ≤ 5,000
    assert kinds(run, utc(2026, 11, 26, 10)) == []  # clear once
    assert kinds(run, utc(2026, 11, 26, 11)) == ["alert_resolved"]  # clear twice
    resolved = bot.fake.posted[2]
    assert resolved["thread_ts"] == fired["ts"]
    assert "Resolved · Ad spend > $5,000 for 1 day(s) · team" in block_texts(resolved["blocks"])
    assert "Was firing since 2026-11-23 10:00 UTC" in block_texts(resolved["blocks"])
    last = poll(lambda: bot.fake.updated[1] if len(bot.fake.updated) > 1 else None)
    assert last["ts"] == fired["ts"]
    shown = block_texts(last["blocks"])
    assert "Resolved · Ad spend > $5,000 for 1 day(s) · team" in shown and "Resolved 2026-11-26 11:00 UTC." in shown
    assert buttons(last["blocks"]) == []
    assert [m["thread_ts"] for m in bot.fake.posted] == [None, fired["ts"], fired["ts"]]  # one top-level post
    with runtime.db.session() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "alert.ack")).all()
        assert [(e.actor_email, e.subject, e.outcome) for e in entries] == [(SLACK_MEMBER_EMAIL, f"alert #{rule}",
                                                                             "ok")]


def test_slack_original_unknown_falls_back_to_a_top_level_post_naming_the_alert(slack_bot: SlackBot) -> None:
    """An alert sent before ids were kept: no thread to post in, so the reminder names the alert and has
    the buttons; acknowledging it there updates that reminder (the only message known)."""
    bot, runtime = slack_bot, slack_bot.runtime
    with runtime.db.session() as session:
        member_repo.ensure_member(session, SLACK_MEMBER_EMAIL)
    rule = add_rule(runtime, f"slack:{CHANNEL_ID}", "en")
    run = runner(runtime)
    spend(runtime, [date(2026, 11, 22), date(2026, 11, 23)], 6000)
    assert kinds(run, utc(2026, 11, 23, 10)) == ["alert"]
    with runtime.db.session() as session:  # as a send recorded before this change
        state = session.get(AlertState, rule)
        assert state is not None
        state.message_id = None
        for row in session.exec(select(DeliveryLedger)).all():
            row.message_id = None
            session.add(row)
        session.add(state)
    assert kinds(run, utc(2026, 11, 24, 10)) == ["alert_reminder"]
    reminder = bot.fake.posted[1]
    assert reminder["thread_ts"] is None
    shown = block_texts(reminder["blocks"])
    assert f"Re: alert #{rule} (Ad spend &gt; $5,000 for 1 day(s) · team), posted 2026-11-23 10:00 UTC." in shown
    assert buttons(reminder["blocks"])[0] == "Acknowledge"
    press(bot, rule, reminder["ts"], "alert.snooze::2", f"{rule}:1w")  # the third snooze button (de-duplicated id)
    [update] = poll(lambda: list(bot.fake.updated))
    assert update["ts"] == reminder["ts"]
    # The chat's clock is the real one here: a week from the press.
    assert "Snoozed by mo until" in block_texts(update["blocks"])
    assert state_of(runtime, rule).snoozed_until is not None


# -- Feishu: replies, PATCH, in Chinese; snooze 1 day by button, acknowledge by chat --------------------


@pytest.fixture
def feishu_shanghai(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[FeishuBot]:
    with running_feishu_bot(make_settings, tmp_path, KPIBOT_TIMEZONE="Asia/Shanghai") as running:
        yield running


def card_text(card: dict[str, Any]) -> str:
    parts = [card["header"]["title"]["content"]]
    parts += [e["content"] for e in find_elements(card, "markdown")]
    parts += [e["text"]["content"] for e in find_elements(card, "button")]
    return "\n".join(parts)


def card_buttons(card: dict[str, Any]) -> list[str]:
    return [e["text"]["content"] for e in find_elements(card, "button")]


def test_feishu_in_chinese_snooze_a_day_then_reminder_as_a_reply_ack_by_chat_resolve(
    feishu_shanghai: FeishuBot,
) -> None:
    bot, runtime = feishu_shanghai, feishu_shanghai.runtime
    with runtime.db.session() as session:
        member_repo.ensure_member(session, MEMBER_EMAIL)
    rule = add_rule(runtime, f"feishu:{GROUP_CHAT}", "zh")
    run = runner(runtime)
    spend(runtime, [date(2026, 11, 22), date(2026, 11, 23), date(2026, 11, 24)], 6000)
    assert kinds(run, utc(2026, 11, 23, 2)) == ["alert"]  # 10:00 in Shanghai: yesterday 11-22, 6,000 > 5,000
    [fired] = bot.fake.messages
    assert fired.reply_to is None and fired.msg_type == "interactive"
    assert state_of(runtime, rule).message_id == fired.message_id
    shown = card_text(fired.content)
    assert "告警 · 广告消耗 > $5,000（连续 1 天） · 团队" in shown
    assert card_buttons(fired.content) == ["知道了", "暂停 1 小时", "暂停 1 天", "暂停 1 周", "暂停到周一"]
    assert f"`预警 暂停 {rule} 1小时|1天|1周|到周一`" in shown

    # Snooze 1 day, pressed at 11:00 Shanghai (03:00 UTC): until 11-24 03:00 UTC = 11:00 CST, a Tuesday.
    runtime.core.services.clock = lambda: utc(2026, 11, 23, 3)
    snooze_day = next(e for e in find_elements(fired.content, "button") if e["text"]["content"] == "暂停 1 天")
    answer = bot.poster.post(bot.card_action(open_id=MEMBER_OPEN_ID, value=snooze_day["behaviors"][0]["value"],
                                             message_id=fired.message_id)).json()
    assert answer["toast"]["content"].endswith(f"已暂停告警 #{rule} 的提醒，至 2026-11-24（周二）11:00 CST。")
    card = answer["card"]["data"]  # the pressed card (the original) is replaced by the callback's answer
    assert "已暂停提醒至 2026-11-24（周二）11:00 CST，在此之前不再提醒。" in card_text(card)
    assert card_buttons(card)[0] == "知道了"  # still answerable
    assert bot.fake.patches == []  # the pressed card is the original: no second update
    assert state_of(runtime, rule).snoozed_until == utc(2026, 11, 24, 3)

    assert kinds(run, utc(2026, 11, 24, 2)) == []  # 24 h cooldown over at 02:00 UTC, but snoozed until 03:00
    assert kinds(run, utc(2026, 11, 24, 3)) == ["alert_reminder"]  # the snooze is over
    [reminder] = bot.fake.replies_to(fired.message_id)
    shown = card_text(reminder.content)
    assert "仍在告警 · 广告消耗 > $5,000（连续 1 天） · 团队" in shown
    assert "自 2026-11-23 10:00 CST 起告警" in shown
    assert f"可在上方告警上点“知道了”或暂停，或发送 `预警 确认 {rule}` / `预警 暂停 {rule} 1天`。" in shown
    assert card_buttons(reminder.content) == []

    answer_text = bot.ask(f"预警 确认 {rule}", sender=MEMBER_OPEN_ID, chat_id=P2P_CHAT, chat_type="p2p").text
    assert f"已确认告警 #{rule}：恢复前不再提醒。" in answer_text
    [(patched_id, patched)] = bot.fake.patches
    assert patched_id == fired.message_id
    assert "已确认：恢复前不再提醒。" in card_text(patched) and card_buttons(patched) == []

    spend(runtime, [date(2026, 11, 25), date(2026, 11, 26)], 100)
    assert kinds(run, utc(2026, 11, 26, 2)) == []
    assert kinds(run, utc(2026, 11, 26, 3)) == ["alert_resolved"]
    replies = bot.fake.replies_to(fired.message_id)
    assert len(replies) == 2 and "已恢复 · 广告消耗 > $5,000（连续 1 天） · 团队" in card_text(replies[1].content)
    (last_id, last) = bot.fake.patches[-1]
    assert last_id == fired.message_id and "已于 2026-11-26 11:00 CST 恢复。" in card_text(last)
    assert [m.message_id for m in bot.fake.messages if m.reply_to is None] == [fired.message_id]  # one post


# -- DingTalk: no threads — a message naming the alert, the card updated; until Monday by chat ----------


@pytest.fixture
def dingtalk_shanghai(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[DingTalkBot]:
    with running_dingtalk_bot(make_settings, tmp_path, KPIBOT_TIMEZONE="Asia/Shanghai") as running:
        yield running


def test_dingtalk_until_monday_across_the_week_boundary_and_references_to_the_card(
    dingtalk_shanghai: DingTalkBot,
) -> None:
    bot, runtime = dingtalk_shanghai, dingtalk_shanghai.runtime
    with runtime.db.session() as session:
        member_repo.ensure_member(session, "anna@shop.com")  # the member behind staff id 0200
    rule = add_rule(runtime, f"dingtalk:{GROUP}", "en")
    run = runner(runtime)
    spend(runtime, [date(2026, 11, 27) + timedelta(days=n) for n in range(12)], 6000)  # 11-27 … 12-08
    assert kinds(run, utc(2026, 11, 28, 2)) == ["alert"]  # Sat 10:00 CST
    (card,) = bot.fake.wait_for_sent()
    biz_id = card.body["cardBizId"]
    assert card.how == "card" and state_of(runtime, rule).message_id == biz_id  # the card's id, not processQueryKey

    assert kinds(run, utc(2026, 11, 29, 2)) == ["alert_reminder"]  # Sun 10:00 CST, 24 h on
    _, reminder = bot.fake.wait_for_sent(2)
    assert reminder.how == "group"  # a message in the group: DingTalk groups have no threads
    text = reminder.markdown
    assert "#### 🔴 Still firing · Ad spend ＞ $5,000 for 1 day(s) · team" in text  # ＞: DingTalk markdown escaped
    assert f"Re: alert #{rule} (Ad spend ＞ $5,000 for 1 day(s) · team), posted 2026-11-28 10:00 CST." in text
    assert f"Acknowledge or snooze on the alert's card, or `alert ack {rule}` / `alert snooze {rule} 1d`." in text

    # Sunday 20:00 UTC is already Monday 04:00 in Shanghai: "until Monday" is the NEXT Monday,
    # 2026-12-07 09:00 CST = 2026-12-07 01:00 UTC (not 2026-11-30, which is today there).
    runtime.core.services.clock = lambda: utc(2026, 11, 29, 20)
    assert bot.signed_post(robot_message(bot.fake, f"alert snooze {rule} until monday")).status_code == 200
    answer = bot.fake.wait_for(lambda: next((s for s in bot.fake.sent if s.how == "webhook"), None))
    assert f"Alert #{rule} snoozed by Anna until Mon 2026-12-07 09:00 CST." in answer.markdown
    assert state_of(runtime, rule).snoozed_until == utc(2026, 12, 7, 1)
    card_id, updated = bot.fake.wait_for(lambda: next(iter(bot.fake.card_updates), None))
    assert card_id == biz_id
    assert "Snoozed by Anna until Mon 2026-12-07 09:00 CST: no reminders until then." in updated["contents"][0]["text"]

    sent_before = len(bot.fake.sent)
    for day in range(30, 37):  # daily 10:00 CST, Mon 11-30 … Sun 12-06: snoozed
        moment = utc(2026, 11, day, 2) if day <= 30 else utc(2026, 12, day - 30, 2)
        assert kinds(run, moment) == []
    assert kinds(run, utc(2026, 12, 7, 0)) == []  # Mon 08:00 CST: an hour to go
    assert kinds(run, utc(2026, 12, 7, 1)) == ["alert_reminder"]  # Mon 09:00 CST
    assert len(bot.fake.sent) == sent_before + 1

    # Acknowledged on the card: the card is the pressed message and is updated once, with no buttons.
    frame = bot.signed_post(card_callback(biz_id, f"{ACTION_ALERT_ACK}|{rule}"))
    assert frame.status_code == 200
    bot.fake.wait_for(lambda: bot.fake.card_updates[1] if len(bot.fake.card_updates) > 1 else None)
    card_id, updated = bot.fake.card_updates[1]
    assert card_id == biz_id and "Acknowledged by Anna" in updated["contents"][0]["text"]
    assert not any(part.get("actions") for part in updated["contents"])
    assert json.loads(card.body["cardData"])["contents"][1]["actions"][4]["label"]["text"] == "Until Monday"
