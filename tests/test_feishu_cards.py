"""Neutral replies → Feishu card JSON 2.0 (and text where a card adds nothing); the form card."""

from __future__ import annotations

import json

import pytest

from bot.core.contracts import (
    ACTION_ALERT_ACK,
    ACTION_ALERT_SNOOZE,
    ACTION_SUBMIT_TARGET,
    ActionResult,
    Option,
    TargetFormSpec,
)
from bot.feishu.cards import CARD_LIMIT_BYTES, card_size, message_content, reply_card
from bot.feishu.forms import callback_answer, target_form_card
from jobs.present.reply import Action, Chart, Figure, Mark, Reply, ReplyKind, Table
from tests.fakes.feishu_api import find_elements, find_values

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def _status_reply() -> Reply:
    return Reply(
        title="GMV · team · 2026-11",
        mark=Mark.AT_RISK,
        figures=[
            Figure("Actual", "$600,000"),
            Figure("Target", "$1,200,000"),
            Figure("Attainment", "50.0%", Mark.AT_RISK),
        ],
        text="Pace is *behind* plan",
        footnotes=["Data through 2026-11-15", "Target <derived> from Q4"],
    )


def test_status_card_header_colour_figures_and_footnotes() -> None:
    msg_type, content = message_content(_status_reply())
    assert msg_type == "interactive"
    card = json.loads(content)
    assert card["schema"] == "2.0"
    assert card["header"]["template"] == "yellow"
    assert "GMV · team · 2026-11" in card["header"]["title"]["content"]
    column_sets = find_elements(card, "column_set")
    assert len(column_sets) == 2  # three figures, two per row
    texts = " ".join(find_values(card, "content"))
    assert "**50.0%** 🟡" in texts
    assert "Pace is **behind** plan" in texts
    assert "&#60;derived&#62;" in texts  # never parsed as a card tag
    notes = [e for e in find_elements(card, "markdown") if e.get("text_size") == "notation"]
    assert notes and "Data through 2026-11-15" in notes[0]["content"]


def test_header_colours_follow_the_mark() -> None:
    for mark, colour in [(Mark.ON_TRACK, "green"), (Mark.OFF_TRACK, "red"), (Mark.NO_DATA, "grey")]:
        assert reply_card(Reply(title="x", mark=mark, figures=[Figure("a", "1")]))["header"]["template"] == colour


def test_leaderboard_is_a_table_component_with_marks() -> None:
    reply = Reply(
        title="Hosts by GMV",
        tables=[Table(
            columns=["#", "Host", "GMV", "Attainment"],
            rows=[["1", "Alice", "$50,000", "125.0%"], ["2", "Bob", "$20,000", "50.0%"]],
            marks=[Mark.ON_TRACK, Mark.OFF_TRACK],
            title="This week",
        )],
    )
    card = reply_card(reply)
    (table,) = find_elements(card, "table")
    assert [c["display_name"] for c in table["columns"]] == ["#", "Host", "GMV", "Attainment"]
    assert table["rows"][0] == {"c0": "🟢 1", "c1": "Alice", "c2": "$50,000", "c3": "125.0%"}
    assert table["page_size"] == 2


def test_buttons_carry_callback_behaviours() -> None:
    reply = Reply(
        title="Alert: ROAS below 2.0",
        kind=ReplyKind.NOTICE,
        mark=Mark.OFF_TRACK,
        actions=[
            Action(ACTION_ALERT_ACK, "Acknowledge", "7", style="primary"),
            Action(ACTION_ALERT_SNOOZE, "Snooze 1 day", "7"),
        ],
    )
    buttons = find_elements(reply_card(reply), "button")
    assert [b["behaviors"] for b in buttons] == [
        [{"type": "callback", "value": {"action_id": ACTION_ALERT_ACK, "value": "7", "lang": "en"}}],
        [{"type": "callback", "value": {"action_id": ACTION_ALERT_SNOOZE, "value": "7", "lang": "en"}}],
    ]
    assert buttons[0]["type"] == "primary_filled"


def test_charts_become_img_elements_with_their_keys() -> None:
    reply = Reply(title="Digest", charts=[Chart("gmv.png", b"png", "GMV pace"), Chart("roas.png", b"png")])
    imgs = find_elements(reply_card(reply, ["img_v3_a", "img_v3_b"]), "img")
    assert [i["img_key"] for i in imgs] == ["img_v3_a", "img_v3_b"]
    assert imgs[0]["alt"]["content"] == "GMV pace"


def test_one_line_hint_is_plain_text() -> None:
    msg_type, content = message_content(Reply(title="Not sure", kind=ReplyKind.HINT, text="Try: `help`"))
    assert msg_type == "text"
    assert json.loads(content) == {"text": "Not sure\nTry: help"}
    assert message_content(Reply(title="Help", kind=ReplyKind.HELP, text="a\nb\nc"))[0] == "interactive"


def test_huge_leaderboard_is_cut_under_30_kb_and_says_so() -> None:
    rows = [[str(i), f"Member {i} 很长的名字" * 3, f"${i * 1000:,}", f"{i % 150}.0%"] for i in range(2000)]
    reply = Reply(title="Everyone", tables=[Table(columns=["#", "Name", "GMV", "Att."], rows=rows)])
    card = reply_card(reply)
    assert card_size(card) <= CARD_LIMIT_BYTES
    (table,) = find_elements(card, "table")
    shown = len(table["rows"])
    assert 0 < shown < 2000
    assert f"{2000 - shown} more rows not shown" in json.dumps(card)


def test_more_than_five_tables_fall_back_to_markdown() -> None:
    tables = [Table(columns=["a", "b"], rows=[["1", "2"]], title=f"T{i}") for i in range(7)]
    card = reply_card(Reply(title="Roles", tables=tables))
    assert len(find_elements(card, "table")) == 5
    assert "1 · 2" in json.dumps(card, ensure_ascii=False)


def _spec() -> TargetFormSpec:
    return TargetFormSpec(
        title="设置目标",
        submit_label="保存",
        labels={"kpi": "指标", "scope": "范围", "user": "成员", "period": "周期", "value": "目标值"},
        kpis=[Option("gmv", "GMV"), Option("roas", "投产比")],
        scopes=[Option("team", "团队"), Option("role:host", "主播"), Option("user", "指定成员")],
        periods=[Option("week", "本周"), Option("month", "本月"), Option("next-month", "下月")],
        value_placeholder="例如 120万、1.2m、15%",
    )


def test_target_form_card_has_every_field_and_a_submit() -> None:
    card = target_form_card(_spec(), "zh")
    (form,) = find_elements(card, "form")
    assert card["body"]["elements"] == [form]  # a form sits at the card's root
    selects = {e["name"]: e for e in find_elements(form, "select_static")}
    assert set(selects) == {"kpi", "scope", "period"}
    assert [o["value"] for o in selects["kpi"]["options"]] == ["gmv", "roas"]
    assert selects["scope"]["initial_option"] == "team"
    assert selects["period"]["initial_option"] == "month"
    (person,) = find_elements(form, "select_person")
    assert person["name"] == "user" and person["required"] is False
    (value,) = find_elements(form, "input")
    assert value["name"] == "value" and value["required"] is True
    (submit,) = find_elements(form, "button")
    assert submit["form_action_type"] == "submit"
    assert submit["behaviors"] == [{"type": "callback", "value": {"action_id": ACTION_SUBMIT_TARGET, "lang": "zh"}}]
    names = [e["name"] for e in find_elements(form, "select_static") + find_elements(form, "input")]
    assert len(names) == len(set(names))


def test_callback_answers() -> None:
    saved = callback_answer(ActionResult(reply=Reply(title="目标已保存", lang="zh", kind=ReplyKind.CONFIRMATION)))
    assert saved["toast"] == {"type": "success", "content": "目标已保存"}
    assert saved["card"]["type"] == "raw"
    assert saved["card"]["data"]["header"]["template"] == "green"
    refused = callback_answer(ActionResult(field_errors={"value": "expected a number such as 1.2m"}))
    assert refused == {"toast": {"type": "error", "content": "value: expected a number such as 1.2m"}}
    labelled = callback_answer(ActionResult(field_errors={"value": "需要数字"}, toast="目标值: 需要数字"))
    assert labelled == {"toast": {"type": "error", "content": "目标值: 需要数字"}}
    acked = callback_answer(ActionResult(toast="Acknowledged"))
    assert acked == {"toast": {"type": "info", "content": "Acknowledged"}}
    refusal = callback_answer(ActionResult(reply=Reply(title="Only admins", kind=ReplyKind.REFUSAL), toast="No"))
    assert refusal["toast"] == {"type": "error", "content": "No"}
