"""The command language end to end through Slack: targets by /kpi and by modal, exact figures,
admin rights, App Home, buttons."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlmodel import select

from bot.core.contracts import ACTION_ALERT_ACK, ACTION_ME, ACTION_OPEN_TARGET_FORM
from storage.models import AlertRule, AlertState, Fact, Target
from storage.repositories import members as member_repo
from tests.fakes.slack_api import (
    ADMIN_EMAIL,
    ADMIN_ID,
    CHANNEL_ID,
    MEMBER_EMAIL,
    MEMBER_ID,
    TEAM_ID,
    SlackBot,
    poll,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def add_team_gmv(bot: SlackBot, value: float) -> None:
    with bot.runtime.db.session() as session:
        session.add(Fact(metric="gmv", date=bot.runtime.core.engine.today(), member="", source="api", value=value))


def targets(bot: SlackBot) -> list[Target]:
    with bot.runtime.db.session() as session:
        return list(session.exec(select(Target)).all())


def slash(bot: SlackBot, text: str, user_id: str, **kwargs: Any) -> dict[str, Any]:
    response = bot.slash(text, user_id=user_id, **kwargs)
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def field_texts(ack: dict[str, Any]) -> list[str]:
    return [field["text"] for block in ack["blocks"] for field in block.get("fields", [])]


def test_admin_sets_a_target_and_a_member_gets_exact_figures(slack_bot: SlackBot) -> None:
    add_team_gmv(slack_bot, 600)
    saved = slash(slack_bot, "target set gmv 1000 month", ADMIN_ID)
    assert "$1,000" in saved["text"]
    [target] = targets(slack_bot)
    assert (target.kpi, target.scope_kind, target.value, target.set_by) == ("gmv", "team", 1000, ADMIN_EMAIL)

    status = slash(slack_bot, "gmv month", MEMBER_ID)
    assert "$600" in status["text"] and "$1,000" in status["text"] and "60.0%" in status["text"]
    assert any(text.endswith("\n60.0%") for text in field_texts(status))

    chinese = slash(slack_bot, "本月GMV达成率", MEMBER_ID)
    assert "60.0%" in chinese["text"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese["text"])


def test_member_cannot_set_targets(slack_bot: SlackBot) -> None:
    refused = slash(slack_bot, "target set gmv 5 month", MEMBER_ID)
    assert refused["text"]
    assert targets(slack_bot) == []


def opened_modal(bot: SlackBot) -> dict[str, Any]:
    ack = slash(bot, "target", ADMIN_ID, trigger_id="trig-modal")
    assert ack == {}
    [opened] = bot.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "trig-modal"
    return opened.params["view"]


def submission(view: dict[str, Any], values: dict[str, str], user_id: str = ADMIN_ID) -> dict[str, Any]:
    """What Slack posts when the modal is submitted: the view as opened, plus the entered state."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block["element"]
        entered = values.get(block["block_id"])
        if element["type"] == "static_select":
            option = next((o for o in element["options"] if o["value"] == entered), element.get("initial_option"))
            state[block["block_id"]] = {element["action_id"]: {"type": "static_select", "selected_option": option}}
        elif element["type"] == "users_select":
            state[block["block_id"]] = {element["action_id"]: {"type": "users_select", "selected_user": entered}}
        else:
            state[block["block_id"]] = {element["action_id"]: {"type": element["type"], "value": entered}}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": {"id": user_id, "username": "ada"},
        "api_app_id": "A0KPI",
        "trigger_id": f"trig-submit-{uuid.uuid4().hex}",  # every submission is a new interaction
        "response_urls": [],
        "view": {**view, "id": "V0MODAL01", "team_id": TEAM_ID, "state": {"values": state}},
    }


def test_modal_rejects_a_bad_value_then_saves_a_good_one(slack_bot: SlackBot) -> None:
    view = opened_modal(slack_bot)
    assert json.loads(view["private_metadata"]) == {"channel": CHANNEL_ID}

    bad = slack_bot.interaction(submission(view, {"kpi": "gmv", "scope": "team", "period": "month", "value": "lots"}))
    assert bad.status_code == 200
    answer = bad.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["value"]
    assert "lots" in answer["errors"]["value"]
    assert targets(slack_bot) == []

    good = slack_bot.interaction(submission(view, {"kpi": "gmv", "scope": "team", "period": "month", "value": "1.2m"}))
    assert good.status_code == 200
    assert not good.content or "response_action" not in good.json()
    [target] = targets(slack_bot)
    assert (target.kpi, target.scope_kind, target.value) == ("gmv", "team", 1_200_000)

    # Confirmed in the channel the form came from: to all (public reply) or to the admin alone.
    confirmations = poll(
        lambda: [*slack_bot.fake.calls_to("chat.postMessage"), *slack_bot.fake.calls_to("chat.postEphemeral")]
    )
    assert confirmations[0].params["channel"] == CHANNEL_ID
    assert "1.2M" in confirmations[0].params["text"]

    listed = slash(slack_bot, "target list", MEMBER_ID)
    assert "$1.2M" in listed["text"]


def test_modal_submission_by_a_member_saves_nothing(slack_bot: SlackBot) -> None:
    view = opened_modal(slack_bot)
    response = slack_bot.interaction(
        submission(view, {"kpi": "gmv", "scope": "team", "period": "month", "value": "1m"}, user_id=MEMBER_ID)
    )
    assert response.status_code == 200
    assert targets(slack_bot) == []


def home_opened(bot: SlackBot, user_id: str, event_id: str) -> dict[str, Any]:
    event = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D0HOME001",
        "tab": "home",
        "event_ts": "1700000000.000900",
    }
    assert bot.event(event, event_id=event_id).status_code == 200
    published = [c for c in bot.fake.wait_for("views.publish", count=1) if c.params["user_id"] == user_id]
    return published[-1].params["view"]


def button_ids(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_app_home_offers_set_target_to_admins_only(slack_bot: SlackBot) -> None:
    admin_view = home_opened(slack_bot, ADMIN_ID, "Ev0HOMEADM1")
    assert admin_view["type"] == "home"
    assert set(button_ids(admin_view)) == {ACTION_ME, ACTION_OPEN_TARGET_FORM}
    slack_bot.fake.calls.clear()
    member_view = home_opened(slack_bot, MEMBER_ID, "Ev0HOMEMEM1")
    assert button_ids(member_view) == [ACTION_ME]


def home_button(action_id: str, user_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user_id, "username": "x"},
        "api_app_id": "A0KPI",
        "trigger_id": "trig-home",
        "container": {"type": "view", "view_id": "V0HOME001"},
        "view": {"id": "V0HOME001", "type": "home"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "kpi_actions_0",
                "value": value,
                "action_ts": "1700000001.000000",
            }
        ],
    }


def test_set_target_button_on_home_opens_the_modal(slack_bot: SlackBot) -> None:
    assert slack_bot.interaction(home_button(ACTION_OPEN_TARGET_FORM, ADMIN_ID, "form")).status_code == 200
    [opened] = slack_bot.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "trig-home"
    assert json.loads(opened.params["view"]["private_metadata"]) == {"channel": None}


def test_my_kpis_button_on_home_answers_in_a_dm(slack_bot: SlackBot) -> None:
    assert slack_bot.interaction(home_button(ACTION_ME, MEMBER_ID, "month")).status_code == 200
    [posted] = slack_bot.fake.wait_for("chat.postMessage")
    assert posted.params["channel"] == MEMBER_ID
    assert posted.params["text"]


def alert_button(slack_bot: SlackBot, user_id: str) -> dict[str, Any]:
    slash(slack_bot, f"alert add gmv < 1000 in <#{CHANNEL_ID}|sales>", ADMIN_ID)
    with slack_bot.runtime.db.session() as session:
        [rule] = session.exec(select(AlertRule)).all()
        session.add(AlertState(rule_id=rule.id, state="firing"))  # buttons answer a firing alert
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user_id, "username": "someone"},
        "api_app_id": "A0KPI",
        "trigger_id": "trig-ack",
        "response_url": slack_bot.fake.response_url("alert"),
        "container": {"type": "message", "message_ts": "1700000000.001000", "channel_id": CHANNEL_ID},
        "channel": {"id": CHANNEL_ID},
        "message": {"ts": "1700000000.001000", "text": "GMV below 1000"},
        "actions": [
            {
                "type": "button",
                "action_id": ACTION_ALERT_ACK,
                "block_id": "kpi_actions_0",
                "value": str(rule.id),
                "action_ts": "1700000001.000000",
            }
        ],
    }


def test_alert_acknowledge_button_updates_the_alert_message(slack_bot: SlackBot) -> None:
    with slack_bot.runtime.db.session() as session:  # the presser (mo@example.com) is a known member
        member_repo.ensure_member(session, MEMBER_EMAIL)
    assert slack_bot.interaction(alert_button(slack_bot, MEMBER_ID)).status_code == 200
    [updated] = slack_bot.fake.wait_for("chat.update")
    assert (updated.params["channel"], updated.params["ts"]) == (CHANNEL_ID, "1700000000.001000")
    assert updated.params["text"]


def test_alert_buttons_refuse_an_unknown_user_and_leave_the_alert_alone(slack_bot: SlackBot) -> None:
    slack_bot.fake.add_user("U0STRANGER", email="zed@elsewhere.com", name="zed")
    payload = alert_button(slack_bot, "U0STRANGER")
    assert slack_bot.interaction(payload).status_code == 200
    poll(lambda: [c for c in slack_bot.fake.calls_to("hook") if c.path.endswith("/alert")])
    hook = next(call for call in slack_bot.fake.calls_to("hook") if call.path.endswith("/alert"))
    assert "Only team members and admins can acknowledge or snooze alerts" in json.dumps(hook.params)
    assert hook.params.get("response_type") == "ephemeral"
    assert slack_bot.fake.calls_to("chat.update") == []
    with slack_bot.runtime.db.session() as session:
        assert all(not state.acknowledged_by for state in session.exec(select(AlertState)).all())


def test_modal_sets_a_target_for_a_role_inside_a_shop(slack_bot: SlackBot) -> None:
    with slack_bot.runtime.db.session() as session:  # a shop named by data is offered, alone and with each role
        session.add(Fact(metric="gmv", date=slack_bot.runtime.core.engine.today(), member="", source="api", value=1.0,
                         shop="tiktok-us"))
    view = opened_modal(slack_bot)
    [scope_select] = [b["element"] for b in view["blocks"] if b["block_id"] == "scope"]
    offered = {o["value"]: o["text"]["text"] for o in scope_select["options"]}
    assert offered["shop:tiktok-us"] == "tiktok-us" and offered["shop:tiktok-us role:host"] == "tiktok-us · Live host"
    state = {"kpi": "gmv", "scope": "shop:tiktok-us role:host", "period": "month", "value": "80k"}
    response = slack_bot.interaction(submission(view, state))
    assert response.status_code == 200 and (not response.content or "response_action" not in response.json())
    [target] = targets(slack_bot)
    assert (target.scope_kind, target.scope_key, target.shop, target.value) == ("role", "host", "tiktok-us", 80_000)
    shop_alone = slack_bot.interaction(submission(view, {**state, "scope": "shop:tiktok-us", "value": "200k"}))
    assert shop_alone.status_code == 200
    assert sorted((t.scope_kind, t.scope_key, t.shop, t.value) for t in targets(slack_bot)) == [
        ("role", "host", "tiktok-us", 80_000), ("shop", "tiktok-us", "", 200_000)]
