"""Issue 16's review-meeting commands on DingTalk, end to end against the fake (real HTTP callbacks and a
real Stream websocket): action items with their Done card button, the funnel, the flywheel, and personal
digest subscriptions listed and then sent to the subscriber by direct message exactly once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from jobs.delivery import Deliverer
from jobs.digest.schedule import DigestRunner
from jobs.meetings.actions import ACTION_ITEM_DONE
from storage.models import ActionItem
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fakes.dingtalk_api import (
    ADMIN_STAFF_ID,
    CARD_TOPIC,
    GROUP,
    MEMBER_STAFF_ID,
    ROBOT_TOPIC,
    DingTalkBot,
    card_callback,
    robot_message,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

# Funnel rows on one day of each week (the same figures as tests/test_meetings_chat.py):
#              impressions  clicks  add_to_cart  orders  paid_orders
#   last week  10,000       200     40           10      9
#   before     10,000       150     30           12      11
FUNNEL = {"last": (10000, 200, 40, 10, 9), "before": (10000, 150, 30, 12, 11)}
STAGES = ("impressions", "clicks", "add_to_cart", "orders", "paid_orders")


def link_anna(bot: DingTalkBot) -> None:
    """Anna (staff 0200, anna@shop.com per the fake's user/get) is a host in the data."""
    with bot.runtime.db.session() as session:
        member_repo.assign_role(session, member_repo.ensure_member(session, "anna@shop.com", email="anna@shop.com",
                                                                   display_name="Anna"), "host")


def ask_stream(bot: DingTalkBot, text: str, staff_id: str = MEMBER_STAFF_ID, count: int = 1) -> str:
    frame = bot.fake.push(ROBOT_TOPIC, robot_message(bot.fake, text, staff_id=staff_id))
    assert bot.fake.wait_for_ack(frame)["code"] == 200
    return bot.fake.wait_for_sent(count)[count - 1].markdown


def ask(bot: DingTalkBot, text: str, staff_id: str = MEMBER_STAFF_ID) -> str:
    before = len(bot.fake.sent)
    assert bot.signed_post(robot_message(bot.fake, text, staff_id=staff_id)).status_code == 200
    return bot.fake.wait_for_sent(before + 1)[before].markdown


def test_action_add_list_and_the_done_card_button(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    link_anna(bot)
    ask_stream(bot, "action add raise hook rate to 40% by 2026-W50")
    (card,) = bot.fake.sent
    assert card.how == "card" and card.target == GROUP  # the answer carries a Done button: a card
    assert "#1 for Anna: raise hook rate to 40% (by 2026-W50)" in card.markdown
    buttons = [a for part in json.loads(card.body["cardData"])["contents"] for a in part.get("actions", [])]
    assert [(b["id"], b["label"]["text"]) for b in buttons] == [(f"{ACTION_ITEM_DONE}|1", "Done #1")]
    listed = ask_stream(bot, "行动 列表", count=2)
    assert "raise hook rate to 40%" in listed and "进行中" in listed

    frame = bot.fake.push(CARD_TOPIC, card_callback(card.body["cardBizId"], f"{ACTION_ITEM_DONE}|1"))
    assert bot.fake.wait_for_ack(frame)["code"] == 200
    card_id, updated = bot.fake.wait_for(lambda: next(iter(bot.fake.card_updates), None))
    assert card_id == card.body["cardBizId"]
    assert "#1 marked done." in updated["contents"][0]["text"]
    assert not any(part.get("actions") for part in updated["contents"])  # nothing left to press
    with bot.runtime.db.session() as session:
        item = session.get(ActionItem, 1)
        assert item is not None and item.status == "done"
    done = ask_stream(bot, "action list done", count=3)
    assert "raise hook rate to 40%" in done and "done" in done


def test_someone_elses_action_cannot_be_closed_by_its_button(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    link_anna(bot)
    with bot.runtime.db.session() as session:  # the boss (staff 0100, boss@shop.com) is in the data too
        member_repo.ensure_member(session, "boss@shop.com", email="boss@shop.com", display_name="Boss")
    ask_stream(bot, "action add call the supplier", staff_id=ADMIN_STAFF_ID)  # the boss's own action
    (card,) = bot.fake.sent
    frame = bot.fake.push(CARD_TOPIC, card_callback(card.body["cardBizId"], f"{ACTION_ITEM_DONE}|1"))
    assert bot.fake.wait_for_ack(frame)["code"] == 200
    _, note = bot.fake.wait_for_sent(2)  # a direct note to Anna, who neither owns nor added it
    assert note.how == "user" and note.target == MEMBER_STAFF_ID
    assert "only they, whoever added it, or an admin can close it" in json.dumps(note.body, ensure_ascii=False)
    time.sleep(0.3)
    assert not bot.fake.card_updates
    with bot.runtime.db.session() as session:
        item = session.get(ActionItem, 1)
        assert item is not None and item.status == "open"


def test_funnel_over_the_http_callback(dingtalk: DingTalkBot) -> None:
    engine = dingtalk.runtime.core.engine
    last = engine.calendar.previous(engine.calendar.week(engine.today()))
    before = engine.calendar.previous(last)
    with dingtalk.runtime.db.session() as session:
        upsert_facts(session, [FactRecord(metric, week.start, value, source="shop")
                               for week, values in ((last, FUNNEL["last"]), (before, FUNNEL["before"]))
                               for metric, value in zip(STAGES, values, strict=True)])
    text = ask(dingtalk, "funnel last week")
    # 200 / 10,000 = 2 % (score 120, capped), 40 / 200 = 20 % (120), 10 / 40 = 25 % against 30 % (83),
    # 9 / 10 = 90 % (100); orders' rate the week before 12 / 30 = 40 % → 25 / 40 − 1 = −37.5 %
    assert "Biggest leak: Orders — 25.0% against a threshold of 30.0% (score 83)." in text
    assert "-37.5%" in text
    assert len(dingtalk.fake.media) == 2  # the funnel and the radar of stage scores
    for media_id, png in dingtalk.fake.media.items():
        assert png.startswith(b"\x89PNG") and f"]({media_id})" in text
    zh = ask(dingtalk, "给我看看上周的漏斗")
    assert "最大漏损：订单数" in zh and "83" in zh


def test_flywheel_in_chinese(dingtalk: DingTalkBot) -> None:
    engine = dingtalk.runtime.core.engine
    month = engine.calendar.previous(engine.calendar.month(engine.today()))
    day = month.start + timedelta(days=4)
    with dingtalk.runtime.db.session() as session:
        upsert_facts(session, [FactRecord(metric, day, value, source="crm") for metric, value in (
            ("promoters", 60), ("passives", 25), ("detractors", 15), ("ad_spend", 3000), ("new_customers", 120))])
    text = ask(dingtalk, "飞轮")
    assert "增长飞轮" in text
    # NPS (60 − 15) / (60 + 25 + 15) × 100 = 45; CAC without marketing spend: ad spend 3,000 / 120 = $25
    assert "净推荐值" in text and "45" in text and "$25" in text
    assert "获客成本按广告消耗计算" in text
    assert len(dingtalk.fake.media) == 1  # the small multiples


def test_digest_subscribe_list_and_the_personal_send(dingtalk: DingTalkBot) -> None:
    link_anna(dingtalk)
    engine = dingtalk.runtime.core.engine
    today = engine.today()
    monday = today + timedelta(days=7 - today.weekday())  # the next Monday: its send reviews the week before
    week = engine.calendar.previous(engine.calendar.week(monday))
    with dingtalk.runtime.db.session() as session:  # Anna's GMV: 800 a day the week before, 1,000 a day in it
        upsert_facts(session, [FactRecord("gmv", week.start + timedelta(days=n), 800 if n < 0 else 1000,
                                          member="anna@shop.com", source="shop") for n in range(-7, 7)])
    refused = ask(dingtalk, "digest subscribe weekly mon 09:00")  # a channel subscription needs an admin
    assert "admin" in refused.lower()
    mine = ask(dingtalk, "digest subscribe me weekly mon 09:00 tz:Asia/Shanghai")
    assert "Subscription #1: weekly on mon at 09:00 (Asia/Shanghai) to you (direct message)." in mine
    group = ask(dingtalk, "周报 订阅 每天 08:30 role:host", staff_id=ADMIN_STAFF_ID)
    assert "订阅 #2：每天 08:30（UTC）发送到" in group
    listed = ask(dingtalk, "digest list")
    assert "**#1** — Channel: DM · dingtalk:0200 · Schedule: weekly on mon at 09:00 (Asia/Shanghai)" in listed
    # DingTalk's escaping puts a zero-width space after @ (an address in data text can never @ anyone)
    assert "Scope · KPIs: member:anna@\u200bshop.com" in listed and "Scope · KPIs: role:host · Language: zh" in listed

    # Monday 09:00 in Shanghai (01:00 UTC): Anna's own weekly review reaches her by direct message, once.
    fire = datetime(monday.year, monday.month, monday.day, 1, 0, tzinfo=UTC)
    runtime = dingtalk.runtime
    runner = DigestRunner(runtime.db, engine, runtime.registry, Deliverer(runtime.db, runtime.outboxes),
                          currency="USD", default_timezone="UTC", charts=False)
    sent_before = len(dingtalk.fake.sent)
    first = runner.run(1, fire + timedelta(minutes=1))
    assert first is not None and first.outcome.value == "sent"
    again = runner.run(1, fire + timedelta(minutes=2))  # a doubled cron fire
    assert again is None or again.outcome.value != "sent"
    runner.run_due(fire + timedelta(minutes=3))  # the sweep: #1 already sent (#2, the group's, is not Anna's)
    (personal,) = [s for s in dingtalk.fake.sent[sent_before:] if s.target == MEMBER_STAFF_ID]
    assert personal.how == "user"  # DingTalk's 1:1 send to her staff id, not a group send
    body = json.loads(personal.body["msgParam"])
    assert body["title"].startswith(f"Your weekly review · week {int(week.key.split('-W')[1])}, {week.key[:4]} (")
    # GMV in the week 7 × 1,000 = $7,000 against 7 × 800 = $5,600 the week before: +25.0 %
    assert "$7,000" in body["text"] and "$5,600" in body["text"] and "+25.0%" in body["text"]
