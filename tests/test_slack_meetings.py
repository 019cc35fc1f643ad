"""Issue 16's review-meeting commands through Slack end to end (signed slash commands, interactions, the Web
API of the fake): an action's Done button, refused for someone else, the funnel with its charts, a `me`
subscription and the list."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from jobs.meetings.actions import ACTION_ITEM_DONE
from storage.models import ActionItem
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fakes.slack_api import CHANNEL_ID, MEMBER_EMAIL, MEMBER_ID, TEAM_ID, SlackBot, poll

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def slash(bot: SlackBot, text: str, user_id: str = MEMBER_ID) -> dict[str, Any]:
    response = bot.slash(text, user_id=user_id)
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def done_press(bot: SlackBot, user_id: str, action_id: int) -> dict[str, Any]:
    return {
        "type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user_id, "username": "someone"},
        "api_app_id": "A0KPI", "trigger_id": f"trig-done-{user_id}", "response_url": bot.fake.response_url("done"),
        "container": {"type": "message", "message_ts": "1700000000.002000", "channel_id": CHANNEL_ID},
        "channel": {"id": CHANNEL_ID}, "message": {"ts": "1700000000.002000", "text": "Action added"},
        "actions": [{"type": "button", "action_id": ACTION_ITEM_DONE, "block_id": "kpi_actions_0",
                     "value": str(action_id), "action_ts": "1700000001.000000"}],
    }


def test_action_done_button_and_its_refusal(slack_bot: SlackBot) -> None:
    with slack_bot.runtime.db.session() as session:  # Mo (mo@example.com) is a host in the data
        member_repo.assign_role(session, member_repo.ensure_member(session, MEMBER_EMAIL, email=MEMBER_EMAIL,
                                                                   display_name="Mo"), "host")
    added = slash(slack_bot, "action add two more live sessions by 2026-W50")
    assert "#1 for Mo: two more live sessions (by 2026-W50)" in added["text"]
    buttons = [e for block in added["blocks"] for e in block.get("elements", []) if e.get("type") == "button"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(ACTION_ITEM_DONE, "1")]

    slack_bot.fake.add_user("U0STRANGER", email="zed@elsewhere.com", name="zed")
    assert slack_bot.interaction(done_press(slack_bot, "U0STRANGER", 1)).status_code == 200
    poll(lambda: [c for c in slack_bot.fake.calls_to("hook") if c.path.endswith("/done")])
    hook = next(call for call in slack_bot.fake.calls_to("hook") if call.path.endswith("/done"))
    assert "#1 belongs to Mo" in json.dumps(hook.params) and hook.params.get("response_type") == "ephemeral"
    assert slack_bot.fake.calls_to("chat.update") == []  # the message stays for everyone else

    # Mo's own press closes it; Slack tells the presser (the answer it was on was theirs, and private)
    assert slack_bot.interaction(done_press(slack_bot, MEMBER_ID, 1)).status_code == 200
    poll(lambda: [c for c in slack_bot.fake.calls_to("hook") if "marked done" in json.dumps(c.params)])
    with slack_bot.runtime.db.session() as session:
        assert [item.status for item in session.exec(select(ActionItem))] == ["done"]


def test_funnel_and_a_personal_subscription(slack_bot: SlackBot) -> None:
    engine = slack_bot.runtime.core.engine
    last = engine.calendar.previous(engine.calendar.week(engine.today()))
    with slack_bot.runtime.db.session() as session:  # one day of last week: 2 % CTR, 20 %, 25 % (< 30 %), 90 %
        upsert_facts(session, [FactRecord(metric, last.start + timedelta(days=1), value, source="shop")
                               for metric, value in (("impressions", 10000), ("clicks", 200), ("add_to_cart", 40),
                                                     ("orders", 10), ("paid_orders", 9))])
        member_repo.ensure_member(session, MEMBER_EMAIL, email=MEMBER_EMAIL, display_name="Mo")
    ack = slash(slack_bot, "funnel last week")  # the answer in the ack, or through response_url when slow

    def answered() -> list[str]:
        said = [json.dumps(ack, ensure_ascii=False)]
        said += [json.dumps(c.params, ensure_ascii=False) for c in slack_bot.fake.calls_to("hook")]
        return [text for text in said if "Biggest leak" in text]

    [answer] = poll(answered)
    assert "Biggest leak: Orders — 25.0% against a threshold of 30.0% (score 83)." in answer
    [upload] = slack_bot.fake.wait_for("files.completeUploadExternal")
    assert len(json.loads(upload.params["files"])) == 2  # the funnel and the radar of stage scores, in one post

    mine = slash(slack_bot, "digest subscribe me weekly mon 09:00 tz:Asia/Shanghai")
    assert "Subscription #1: weekly on mon at 09:00 (Asia/Shanghai) to you (direct message)." in json.dumps(mine)
    listed = json.dumps(slash(slack_bot, "digest list"), ensure_ascii=False)
    assert f"DM · slack:{MEMBER_ID}" in listed and "member:mo@example.com" in listed
