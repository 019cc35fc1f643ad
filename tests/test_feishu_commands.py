"""The command language through Feishu, end to end: real events in, real replies on the fake,
figures computed by the core from facts and targets seeded through the storage repositories."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from sqlmodel import select

from bot.core.contracts import ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE, ACTION_SUBMIT_TARGET
from storage.kpi.scope import Scope
from storage.models import AlertRule, AlertState, Target
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.targets import set_target
from tests.fakes.feishu_api import (
    ADMIN_OPEN_ID,
    GROUP_CHAT,
    MEMBER_EMAIL,
    MEMBER_OPEN_ID,
    OTHER_OPEN_ID,
    P2P_CHAT,
    FeishuBot,
    Message,
    bot_mention,
    find_elements,
    find_values,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

CJK = re.compile(r"[\u4e00-\u9fff]")


def _seed_gmv(bot: FeishuBot, actual: float = 600_000, target: float = 1_200_000) -> None:
    core = bot.runtime.core
    today = core.engine.today()
    with bot.runtime.db.session() as session:
        upsert_facts(session, [FactRecord("gmv", today, actual, source="test")])
        set_target(session, "gmv", Scope.team(), core.engine.calendar.month(today), target, "test")


def _team_gmv_targets(bot: FeishuBot) -> list[float]:
    with bot.runtime.db.session() as session:
        rows = session.exec(select(Target).where(Target.kpi == "gmv", Target.scope_kind == "team")).all()
        return [row.value for row in rows]


def _figures(message: Message) -> str:
    return " ".join(str(value) for value in find_values(message.content, "content"))


def test_chinese_question_in_group_is_answered_in_chinese_with_exact_figures(bot: FeishuBot) -> None:
    _seed_gmv(bot)
    reply = bot.ask("@_user_1 GMV达成率多少", mentions=[bot_mention()], chat_id=GROUP_CHAT)
    assert reply.msg_type == "interactive"
    assert reply.chat_id is None  # a reply to the question, not a new message
    header = reply.content["header"]["title"]["content"]
    assert "GMV" in header and CJK.search(header)
    figures = _figures(reply)
    assert "达成率" in figures
    assert "**50.0%**" in figures
    assert "$60万" in figures and "$120万" in figures
    assert reply.content["header"]["template"] in ("green", "yellow", "red")


def test_direct_message_command_is_answered_with_figures(bot: FeishuBot) -> None:
    _seed_gmv(bot)
    reply = bot.ask("gmv month", chat_type="p2p", chat_id=P2P_CHAT)
    figures = _figures(reply)
    assert "Attainment" in figures and "**50.0%**" in figures
    assert "$600K" in figures and "$1.2M" in figures
    assert len(find_elements(reply.content, "column_set")) >= 3


def test_admin_sets_a_target_by_text(bot: FeishuBot) -> None:
    reply = bot.ask("@_user_1 /kpi target set gmv 1.2m month", mentions=[bot_mention()], sender=ADMIN_OPEN_ID)
    assert "$1.2M" in reply.text
    assert _team_gmv_targets(bot) == [1_200_000]


def test_non_admin_is_refused_and_nothing_is_saved(bot: FeishuBot) -> None:
    reply = bot.ask("@_user_1 target set gmv 1.2m month", mentions=[bot_mention()], sender=MEMBER_OPEN_ID)
    assert "admin" in reply.text.lower()
    assert _team_gmv_targets(bot) == []


def _open_form(bot: FeishuBot, sender: str = ADMIN_OPEN_ID) -> Message:
    reply = bot.ask("/kpi target", chat_type="p2p", chat_id=P2P_CHAT, sender=sender)
    assert reply.msg_type == "interactive"
    return reply


def _submit(bot: FeishuBot, form_card: Message, sender: str, **fields: str) -> dict[str, Any]:
    """Press the form's own submit button, as Feishu would: its callback value comes back."""
    (submit,) = find_elements(form_card.content, "button")
    value = submit["behaviors"][0]["value"]
    payload = bot.card_action(
        open_id=sender, value=value, form_value=fields, message_id=form_card.message_id, chat_id=P2P_CHAT
    )
    response = bot.poster.post(payload)
    assert response.status_code == 200
    return response.json()


def test_admin_sets_a_target_with_the_form_card(bot: FeishuBot) -> None:
    form = _open_form(bot)
    (form_element,) = find_elements(form.content, "form")
    names = {e["name"] for e in find_elements(form_element, "select_static")}
    assert names == {"kpi", "scope", "period"}
    answer = _submit(bot, form, ADMIN_OPEN_ID, kpi="gmv", scope="team", period="month", value="800k")
    assert answer["toast"]["type"] == "success"
    assert answer["card"]["type"] == "raw"
    assert answer["card"]["data"]["schema"] == "2.0"
    assert "$800K" in str(answer["card"]["data"])
    assert _team_gmv_targets(bot) == [800_000]


def test_form_with_a_bad_value_shows_the_field_error_and_saves_nothing(bot: FeishuBot) -> None:
    form = _open_form(bot)
    answer = _submit(bot, form, ADMIN_OPEN_ID, kpi="gmv", scope="team", period="month", value="abc")
    assert answer["toast"]["type"] == "error"
    assert "abc" in answer["toast"]["content"]
    assert "card" not in answer
    assert _team_gmv_targets(bot) == []


def test_non_admin_gets_no_form_and_cannot_submit_one(bot: FeishuBot) -> None:
    refusal = bot.ask("/kpi target", chat_type="p2p", chat_id=P2P_CHAT, sender=MEMBER_OPEN_ID)
    assert not find_elements(refusal.content, "form")
    form = _open_form(bot)  # an admin's form, forwarded to / clicked by a member
    answer = _submit(bot, form, MEMBER_OPEN_ID, kpi="gmv", scope="team", period="month", value="1m")
    assert answer["toast"]["type"] == "error"
    assert _team_gmv_targets(bot) == []


def test_same_card_callback_twice_is_processed_once(bot: FeishuBot) -> None:
    form = _open_form(bot)
    (submit,) = find_elements(form.content, "button")
    payload = bot.card_action(
        open_id=ADMIN_OPEN_ID, value=submit["behaviors"][0]["value"], message_id=form.message_id,
        form_value={"kpi": "gmv", "scope": "team", "period": "month", "value": "900k"},
    )
    first = bot.poster.post(payload).json()
    second = bot.poster.post(payload).json()
    assert first["toast"]["type"] == "success"
    assert second == {}
    assert _team_gmv_targets(bot) == [900_000]


def _firing_rule(bot: FeishuBot) -> int:
    with bot.runtime.db.session() as session:
        rule = AlertRule(kpi="roas", scope_kind="team", op="<", threshold=2.0, channel=f"feishu:{GROUP_CHAT}",
                         created_by="test")
        session.add(rule)
        session.flush()
        rule_id = rule.id
        session.add(AlertState(rule_id=rule_id, state="firing"))
    assert rule_id is not None
    return rule_id


def test_alert_acknowledge_button(bot: FeishuBot) -> None:
    rule_id = _firing_rule(bot)
    with bot.runtime.db.session() as session:  # the presser is a known member (matched by email)
        member_repo.ensure_member(session, MEMBER_EMAIL)
    payload = bot.card_action(
        open_id=MEMBER_OPEN_ID, value={"action_id": ACTION_ALERT_ACK, "value": str(rule_id), "lang": "en"},
        message_id="om_alert01",
    )
    answer = bot.poster.post(payload).json()
    assert answer["toast"]["type"] == "success"
    assert answer["card"]["data"]["header"]["template"] == "yellow"  # acknowledged: still off, someone is on it
    with bot.runtime.db.session() as session:
        state = session.get(AlertState, rule_id)
        assert state is not None and state.acknowledged_by


def test_alert_buttons_refuse_a_user_the_directory_does_not_know(bot: FeishuBot) -> None:
    """The probe: a Feishu user no member is linked to acknowledged an alert."""
    rule_id = _firing_rule(bot)
    for action_id in (ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE):
        payload = bot.card_action(open_id=OTHER_OPEN_ID, value={"action_id": action_id, "value": str(rule_id),
                                                               "lang": "en"}, message_id="om_alert02")
        answer = bot.poster.post(payload).json()
        assert answer == {"toast": {"type": "info", "content": "Only team members and admins can acknowledge or "
                                                               "snooze alerts; your account is not linked to a "
                                                               "member yet."}}  # the alert card stays as it is
    with bot.runtime.db.session() as session:
        state = session.get(AlertState, rule_id)
        assert state is not None and not state.acknowledged_by and state.snoozed_until is None


def test_form_submit_is_wired_to_the_submit_action(bot: FeishuBot) -> None:
    form = _open_form(bot)
    (submit,) = find_elements(form.content, "button")
    assert submit["behaviors"][0]["value"]["action_id"] == ACTION_SUBMIT_TARGET


def test_slow_card_action_gets_a_toast_now_and_the_card_updated_later(bot: FeishuBot) -> None:
    core = bot.runtime.core
    real_handle_action = core.handle_action

    # Feishu's 3 s callback limit scaled down: the callback waits 0.3 s (not 2 s) for a core taking 1.2 s.
    bot.adapter.events.callback_deadline = 0.3

    def slow_handle_action(request: Any) -> Any:
        time.sleep(1.2)
        return real_handle_action(request)

    core.handle_action = slow_handle_action  # the core boundary: a slow core
    form = _open_form(bot)
    started = time.monotonic()
    answer = _submit(bot, form, ADMIN_OPEN_ID, kpi="gmv", scope="team", period="month", value="700k")
    assert time.monotonic() - started < 1.2
    assert answer["toast"]["type"] == "info" and "card" not in answer
    message_id, card = bot.fake.wait_for(lambda: next(iter(bot.fake.patches), None), timeout=10)
    assert message_id == form.message_id
    assert "$700K" in str(card)
    assert _team_gmv_targets(bot) == [700_000]
