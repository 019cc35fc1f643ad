"""Issue 16's review-meeting commands through Feishu end to end (signed, encrypted events and card callbacks
against the fake): an action's Done button, refused for someone else, the funnel with its charts, a `me`
subscription and the list."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from jobs.meetings.actions import ACTION_ITEM_DONE
from storage.models import ActionItem
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fakes.feishu_api import MEMBER_EMAIL, MEMBER_OPEN_ID, OTHER_OPEN_ID, P2P_CHAT, FeishuBot, find_elements

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def text_of(content: object) -> str:
    return json.dumps(content, ensure_ascii=False)


def link_member(bot: FeishuBot) -> None:
    """The member (wang.wei@example.com per the fake's contact API) is a host in the data."""
    with bot.runtime.db.session() as session:
        member_repo.assign_role(session, member_repo.ensure_member(session, MEMBER_EMAIL, email=MEMBER_EMAIL,
                                                                   display_name="Wang Wei"), "host")


def test_action_done_button_and_its_refusal(bot: FeishuBot) -> None:
    link_member(bot)
    added = bot.ask("行动 添加 提升完播率 截止 2026-W50", chat_type="p2p", chat_id=P2P_CHAT)
    assert "#1 负责人 Wang Wei：提升完播率（截止 2026-W50）" in text_of(added.content)
    (button,) = find_elements(added.content, "button")
    value = button["behaviors"][0]["value"]
    assert (value["action_id"], value["value"]) == (ACTION_ITEM_DONE, "1")

    refused = bot.poster.post(bot.card_action(open_id=OTHER_OPEN_ID, value=value, message_id="om_act01")).json()
    assert "card" not in refused  # the card stays as it is for everyone
    assert "#1 属于 Wang Wei" in refused["toast"]["content"]
    done = bot.poster.post(bot.card_action(open_id=MEMBER_OPEN_ID, value=value, message_id="om_act01")).json()
    assert "#1 已标记完成。" in text_of(done)
    with bot.runtime.db.session() as session:
        assert [item.status for item in session.exec(select(ActionItem))] == ["done"]


def test_funnel_and_a_personal_subscription(bot: FeishuBot) -> None:
    link_member(bot)
    engine = bot.runtime.core.engine
    last = engine.calendar.previous(engine.calendar.week(engine.today()))
    with bot.runtime.db.session() as session:  # one day of last week: 2 % CTR, 20 %, 25 % (< 30 %), 90 %
        upsert_facts(session, [FactRecord(metric, last.start + timedelta(days=1), value, source="shop")
                               for metric, value in (("impressions", 10000), ("clicks", 200), ("add_to_cart", 40),
                                                     ("orders", 10), ("paid_orders", 9))])
    funnel = bot.ask("看看上周的漏斗", chat_type="p2p", chat_id=P2P_CHAT)
    assert "最大漏损：订单数，转化率 25.0%，低于阈值 30.0%（得分 83）。" in text_of(funnel.content)
    assert len(find_elements(funnel.content, "img")) == 2 and len(bot.fake.images) == 2  # funnel and radar

    mine = bot.ask("digest subscribe me weekly mon 09:00 tz:Asia/Shanghai", chat_type="p2p", chat_id=P2P_CHAT)
    assert "Subscription #1: weekly on mon at 09:00 (Asia/Shanghai) to you (direct message)." in text_of(mine.content)
    listed = text_of(bot.ask("digest list", chat_type="p2p", chat_id=P2P_CHAT).content)
    assert f"feishu:{MEMBER_OPEN_ID}" in listed and "member:wang.wei" in listed
