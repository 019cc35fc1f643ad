"""DingTalk end to end over real HTTP and a real Stream websocket against the fake: questions answered
with exact figures, signatures and timestamps checked, redeliveries answered once, digests with their
chart, alert buttons, rate limits waited out, failure notices to admins by DM."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.dingtalk.client import DingTalkApi
from jobs.alerts import ACTION_ALERT_ACK, AlertRunner
from jobs.delivery import Deliverer, Outcome, RetryPolicy
from jobs.digest import send_weekly_digest
from jobs.present.reply import Reply
from storage.kpi.scope import Scope
from storage.models import AlertState, ProcessedEvent, Target
from storage.repositories import alerts as alert_repo
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.ledger import DeliveryKey
from storage.repositories.targets import set_target
from tests.fakes.dingtalk_api import (
    ADMIN_STAFF_ID,
    CARD_TOPIC,
    CLIENT_ID,
    CLIENT_SECRET,
    GROUP,
    MEMBER_STAFF_ID,
    ROBOT_CODE,
    ROBOT_TOPIC,
    DingTalkBot,
    FakeDingTalk,
    card_callback,
    robot_message,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def seed_gmv(bot: DingTalkBot, actual: float = 600_000, target: float = 1_200_000) -> None:
    core = bot.runtime.core
    today = core.engine.today()
    with bot.runtime.db.session() as session:
        upsert_facts(session, [FactRecord("gmv", today, actual, source="test")])
        set_target(session, "gmv", Scope.team(), core.engine.calendar.month(today), target, "test")


def processed_events(bot: DingTalkBot) -> list[str]:
    with bot.runtime.db.session() as session:
        return [row.event_id for row in session.exec(select(ProcessedEvent))]


def quiet_for(fake: FakeDingTalk, seconds: float = 0.5) -> None:
    """Work is queued within milliseconds here; half a second with no send means none."""
    time.sleep(seconds)
    assert fake.sent == []


# -- HTTP callback mode -------------------------------------------------------------------------------


def test_signed_mention_is_answered_with_the_figure(dingtalk: DingTalkBot) -> None:
    seed_gmv(dingtalk)
    response = dingtalk.signed_post(robot_message(dingtalk.fake, "gmv month"))
    assert response.status_code == 200
    (sent,) = dingtalk.fake.wait_for_sent()
    assert sent.how == "webhook"  # the message's sessionWebhook, still valid
    # 600,000 actual / 1,200,000 month target = 50.0 % attainment
    assert "50.0%" in sent.markdown
    assert "$600K" in sent.markdown and "$1.2M" in sent.markdown
    assert sent.body["at"] == {"atUserIds": [MEMBER_STAFF_ID], "isAtAll": False}
    assert "|" not in sent.markdown  # no markdown tables on DingTalk


def test_forged_signature_is_refused_and_changes_nothing(dingtalk: DingTalkBot) -> None:
    payload = robot_message(dingtalk.fake, "target set gmv 1m month", staff_id=ADMIN_STAFF_ID)
    assert dingtalk.signed_post(payload, secret="not-the-app-secret").status_code == 401
    unsigned = dingtalk.http.post(dingtalk.events_url, json=payload)
    assert unsigned.status_code == 401
    quiet_for(dingtalk.fake)
    assert processed_events(dingtalk) == []
    with dingtalk.runtime.db.session() as session:
        assert session.exec(select(Target)).all() == []


def test_stale_timestamp_is_refused(dingtalk: DingTalkBot) -> None:
    payload = robot_message(dingtalk.fake, "gmv month")
    an_hour_and_a_minute_ago = int(time.time() * 1000) - 61 * 60 * 1000
    assert dingtalk.signed_post(payload, timestamp_ms=an_hour_and_a_minute_ago).status_code == 401
    fifty_nine_minutes_ago = int(time.time() * 1000) - 59 * 60 * 1000
    assert dingtalk.signed_post(payload, timestamp_ms=fifty_nine_minutes_ago).status_code == 200
    dingtalk.fake.wait_for_sent()


def test_redelivered_message_is_answered_once(dingtalk: DingTalkBot) -> None:
    payload = robot_message(dingtalk.fake, "help")
    assert dingtalk.signed_post(payload).status_code == 200
    assert dingtalk.signed_post(payload).status_code == 200
    dingtalk.fake.wait_for_sent()
    time.sleep(0.5)
    assert len(dingtalk.fake.sent) == 1
    assert processed_events(dingtalk) == [f"msg:{payload['msgId']}"]


def test_admin_from_settings_may_set_a_target_and_a_member_may_not(dingtalk: DingTalkBot) -> None:
    refused = robot_message(dingtalk.fake, "target set gmv 1.2m month", staff_id=MEMBER_STAFF_ID)
    dingtalk.signed_post(refused)
    (refusal,) = dingtalk.fake.wait_for_sent()
    assert "admin" in refusal.markdown.lower()
    allowed = robot_message(dingtalk.fake, "target set gmv 1.2m month", staff_id=ADMIN_STAFF_ID)
    dingtalk.signed_post(allowed)
    confirmation = dingtalk.fake.wait_for_sent(2)[1]
    assert "$1.2M" in confirmation.markdown
    with dingtalk.runtime.db.session() as session:
        assert [t.value for t in session.exec(select(Target))] == [1_200_000]


def test_user_text_cannot_mention_everyone_or_link(dingtalk: DingTalkBot) -> None:
    dingtalk.signed_post(robot_message(dingtalk.fake, "@所有人 [click](http://evil.example) <a href=x>"))
    (sent,) = dingtalk.fake.wait_for_sent()
    assert "@所有人" not in sent.markdown and "](http" not in sent.markdown
    assert "http://" not in sent.markdown and "<a " not in sent.markdown


# -- Stream mode ---------------------------------------------------------------------------------------


def test_stream_message_is_acked_and_answered_in_chinese(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    seed_gmv(bot)
    frame_id = bot.fake.push(ROBOT_TOPIC, robot_message(bot.fake, "本月GMV达成率多少"))
    ack = bot.fake.wait_for_ack(frame_id)
    assert ack["code"] == 200 and json.loads(ack["data"]) == {"response": "OK"}
    (sent,) = bot.fake.wait_for_sent()
    # 600,000 / 1,200,000 = 50.0 %; 600,000 = 60万, 1,200,000 = 120万
    assert "50.0%" in sent.markdown and "$60万" in sent.markdown and "$120万" in sent.markdown


def test_stream_redelivery_is_answered_once(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    payload = robot_message(bot.fake, "help")
    first, second = bot.fake.push(ROBOT_TOPIC, payload), bot.fake.push(ROBOT_TOPIC, payload)
    assert bot.fake.wait_for_ack(first)["code"] == 200 and bot.fake.wait_for_ack(second)["code"] == 200
    bot.fake.wait_for_sent()
    time.sleep(0.5)
    assert len(bot.fake.sent) == 1


def test_stream_reconnects_after_the_server_drops_it(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    bot.adapter.stream.client.backoff_start = 0.05  # the pause before reconnecting (1 s in production)
    opened = len(bot.fake.calls_to("/v1.0/gateway/connections/open"))
    bot.fake.drop()
    bot.fake.wait_for(lambda: len(bot.fake.calls_to("/v1.0/gateway/connections/open")) > opened)
    frame_id = bot.fake.push(ROBOT_TOPIC, robot_message(bot.fake, "help"))  # waits for the new connection
    assert bot.fake.wait_for_ack(frame_id)["code"] == 200
    bot.fake.wait_for_sent()


def _press_alert_ack(bot: DingTalkBot, *, known_presser: bool) -> tuple[int, Any]:
    """An alert card in the group, and Anna (anna@shop.com per user/get) pressing Acknowledge on it."""
    core = bot.runtime.core
    yesterday = core.engine.today() - timedelta(days=1)
    with bot.runtime.db.session() as session:
        upsert_facts(session, [FactRecord("ad_spend", yesterday, 6000, source="ads")])
        rule = alert_repo.add_rule(session, kpi="ad_spend", scope_kind="team", scope_key="", mode="value", op=">",
                                   threshold=5000, days=1, channel=f"dingtalk:{GROUP}", lang="en",
                                   created_by="admin", cooldown_hours=24.0)
        rule_id = rule.id
        if known_presser:  # alert buttons answer to known members and admins (issue 18)
            member_repo.ensure_member(session, "anna@shop.com")
    runner = AlertRunner(bot.runtime.db, core.engine, bot.runtime.registry,
                         Deliverer(bot.runtime.db, bot.runtime.outboxes), currency="USD")
    assert [event.kind for event in runner.evaluate_all()] == ["alert"]  # 6,000 > 5,000
    (card,) = bot.fake.wait_for_sent()
    assert card.how == "card" and card.target == GROUP and card.body["robotCode"] == ROBOT_CODE
    # As dingtalk-stream's own ChatbotHandler.reply_card: a StandardCard without callbackRouteKey, whose presses
    # come back on the Stream topic the client subscribed to (the SDK sets a route key only for HTTP callbacks).
    assert card.body["cardTemplateId"] == "StandardCard" and "callbackRouteKey" not in card.body
    assert CARD_TOPIC in bot.fake.subscribed
    buttons = [a for part in json.loads(card.body["cardData"])["contents"] for a in part.get("actions", [])]
    ack_button = next(b["id"] for b in buttons if b["id"].startswith(ACTION_ALERT_ACK))
    assert ack_button == f"{ACTION_ALERT_ACK}|{rule_id}"
    frame_id = bot.fake.push(CARD_TOPIC, card_callback(card.body["cardBizId"], ack_button))
    assert bot.fake.wait_for_ack(frame_id)["code"] == 200
    assert rule_id is not None
    return rule_id, card


def test_alert_card_acknowledge_button(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    rule_id, card = _press_alert_ack(bot, known_presser=True)
    card_id, updated = bot.fake.wait_for(lambda: next(iter(bot.fake.card_updates), None))
    assert card_id == card.body["cardBizId"]
    assert "Acknowledged by Anna" in updated["contents"][0]["text"]
    assert not any(part.get("actions") for part in updated["contents"])  # no buttons left to press
    with bot.runtime.db.session() as session:
        state = session.get(AlertState, rule_id)
        assert state is not None and state.acknowledged_by == "anna@shop.com"  # the email from user/get


def test_alert_card_button_refuses_a_presser_no_member_is_linked_to(dingtalk_stream_bot: DingTalkBot) -> None:
    bot = dingtalk_stream_bot
    rule_id, _ = _press_alert_ack(bot, known_presser=False)
    _, note = bot.fake.wait_for_sent(2)  # the card, then a direct note to the presser
    assert note.how == "user"
    assert "Only team members and admins can acknowledge or snooze alerts" in json.dumps(note.body,
                                                                                        ensure_ascii=False)
    time.sleep(0.3)
    assert not bot.fake.card_updates  # the alert card stays as it is
    with bot.runtime.db.session() as session:
        state = session.get(AlertState, rule_id)
        assert state is None or not state.acknowledged_by


# -- sends from jobs ----------------------------------------------------------------------------------


def test_digest_is_posted_to_the_group_with_its_chart(dingtalk: DingTalkBot) -> None:
    core = dingtalk.runtime.core
    today = core.engine.today()
    with dingtalk.runtime.db.session() as session:
        upsert_facts(session, [FactRecord("gmv", today - timedelta(days=n), 1000.0 + n, source="test")
                               for n in range(1, 15)])
    outbox = dingtalk.runtime.outboxes["dingtalk"]
    send_weekly_digest(core.engine, dingtalk.runtime.registry, outbox, GROUP, lang="en", currency="USD")
    (sent,) = dingtalk.fake.wait_for_sent()
    assert sent.how == "group" and sent.target == GROUP
    assert json.loads(sent.body["msgParam"])["title"]
    assert dingtalk.fake.media, "no chart was uploaded"
    for media_id, png in dingtalk.fake.media.items():
        assert png.startswith(b"\x89PNG")
        assert f"]({media_id})" in sent.markdown


def test_throttled_send_waits_and_then_delivers(dingtalk: DingTalkBot) -> None:
    dingtalk.fake.throttle_next("/v1.0/robot/groupMessages/send", times=2, retry_after="0.2")
    outbox = dingtalk.runtime.outboxes["dingtalk"]
    started = time.monotonic()
    outbox.send(GROUP, Reply(title="Weekly review"))
    assert time.monotonic() - started >= 0.4  # two Retry-After waits of 0.2 s
    assert [c.status for c in dingtalk.fake.calls_to("/v1.0/robot/groupMessages/send")] == [429, 429, 200]
    assert len(dingtalk.fake.sent) == 1


def test_flow_controlled_user_is_a_wait_not_a_failure() -> None:
    waits: list[float] = []
    with FakeDingTalk() as fake:
        api = DingTalkApi(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, robot_code=ROBOT_CODE,
                          api_url=fake.url, oapi_url=fake.url, sleep=waits.append)
        fake.flow_control_user(ADMIN_STAFF_ID, times=2)
        api.send_to_user(ADMIN_STAFF_ID, "sampleMarkdown", {"title": "t", "text": "hello"})
        api.send_to_user(ADMIN_STAFF_ID, "sampleMarkdown", {"title": "t", "text": "again"})
        api.close()
    assert [s.target for s in fake.sent] == [ADMIN_STAFF_ID, ADMIN_STAFF_ID]
    assert waits.count(2.0) == 2  # the default wait for each flow-controlled answer (pacing waits aside)
    assert fake.tokens_issued == 1  # the token is cached across calls


def test_failed_post_is_told_to_the_dingtalk_admin_by_direct_message(dingtalk: DingTalkBot) -> None:
    runtime = dingtalk.runtime
    deliverer = Deliverer(runtime.db, runtime.outboxes, retry=RetryPolicy(()), admin_ids=runtime.settings.admin_list)
    key = DeliveryKey("digest", "1", "2026-W47", "dingtalk:gone-group")  # the fake knows no such group
    assert deliverer.deliver(key, lambda: Reply(title="Weekly review")).outcome == Outcome.FAILED
    direct = dingtalk.fake.wait_for_sent()
    assert [(s.how, s.target) for s in direct] == [("user", ADMIN_STAFF_ID)]
    assert "could not post the review digest" in direct[0].markdown


def test_start_up_lists_dingtalk_and_the_cli_does_not_import_its_sdk(dingtalk: DingTalkBot) -> None:
    import subprocess
    import sys

    from bot.serve import describe_platforms

    assert describe_platforms(dingtalk.runtime) == "Platforms: DingTalk (HTTP callback at POST /dingtalk/events)"
    code = "import sys, bot.cli, bot.runtime, bot.platforms; print('dingtalk_stream' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
