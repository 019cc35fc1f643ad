"""Reply → Block Kit within Slack's limits; the target modal and App Home views."""

from __future__ import annotations

import json

import pytest

from bot.core.contracts import (
    ACTION_ALERT_ACK,
    ACTION_ME,
    ACTION_OPEN_TARGET_FORM,
    ACTION_SUBMIT_TARGET,
    Option,
    TargetFormSpec,
)
from bot.slack.blocks import (
    FIELDS_PER_SECTION,
    HEADER_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    SECTION_TEXT_LIMIT,
    message_payload,
    routed_action_id,
    table_sections,
)
from bot.slack.home import home_view
from bot.slack.modal import origin_channel, slack_errors, submitted_fields, target_modal
from jobs.present.reply import Action, Figure, Mark, Reply, ReplyKind, Table

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def texts(block: dict) -> list[str]:
    found = [block["text"]["text"]] if "text" in block and isinstance(block["text"], dict) else []
    found += [field["text"] for field in block.get("fields", [])]
    found += [element["text"] for element in block.get("elements", []) if isinstance(element.get("text"), str)]
    return found


def assert_within_limits(payload: dict, max_blocks: int = MESSAGE_BLOCK_LIMIT) -> None:
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= max_blocks
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_LIMIT
        if block["type"] == "section":
            assert len(block.get("fields", [])) <= FIELDS_PER_SECTION
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= SECTION_TEXT_LIMIT
        if block["type"] == "actions":
            ids = [element["action_id"] for element in block["elements"]]
            assert len(ids) == len(set(ids))
    assert len(json.dumps(payload)) < 200_000


def test_status_reply_layout() -> None:
    reply = Reply(
        title="GMV · team · 2026-11",
        mark=Mark.AT_RISK,
        figures=[Figure("Actual", "$812.4K"), Figure("Target", "$1M"), Figure("Attainment", "81.2%", Mark.AT_RISK)],
        footnotes=["data through 2026-11-22", "target derived from 2026-Q4"],
        actions=[Action(ACTION_ME, "My KPIs", "me", style="primary")],
    )
    payload = message_payload(reply)
    assert payload["text"] == reply.plain_text()
    header, figures, context, actions = payload["blocks"]
    assert header["text"]["text"] == "🟡 GMV · team · 2026-11"
    assert figures["fields"][2]["text"] == "*Attainment*\n81.2% 🟡"
    assert "data through 2026-11-22" in context["elements"][0]["text"]
    assert actions["elements"][0] | {} == {
        "type": "button",
        "action_id": ACTION_ME,
        "value": "me",
        "style": "primary",
        "text": {"type": "plain_text", "text": "My KPIs", "emoji": True},
    }


def test_header_is_cut_to_150_chars() -> None:
    payload = message_payload(Reply(title="GMV " * 100, mark=Mark.ON_TRACK))
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) == HEADER_LIMIT
    assert header.startswith("🟢 GMV GMV") and header.endswith("…")


def test_huge_reply_is_cut_to_50_blocks_keeping_header_footnotes_and_buttons() -> None:
    reply = Reply(
        title="Leaderboard",
        text="\n".join(f"line {i} " + "x" * 200 for i in range(400)),
        figures=[Figure(f"KPI {i}", f"{i}.0%") for i in range(300)],
        tables=[Table(columns=["#", "member", "GMV"], rows=[[str(i), f"member{i}", f"${i}K"] for i in range(2000)])],
        footnotes=["data through 2026-11-22"],
        actions=[Action(ACTION_ME, "My KPIs", "me")],
    )
    payload = message_payload(reply)
    assert_within_limits(payload)
    blocks = payload["blocks"]
    assert len(blocks) == MESSAGE_BLOCK_LIMIT
    assert blocks[0]["type"] == "header"
    assert blocks[-1]["type"] == "actions"
    assert "data through" in blocks[-2]["elements"][0]["text"]
    assert "cut to fit Slack" in blocks[-3]["elements"][0]["text"]
    # The fallback keeps the answer up to Slack's 40,000-character cap on `text`.
    assert len(payload["text"]) == 40_000
    assert reply.plain_text().startswith(payload["text"].removesuffix("…"))


def test_chinese_truncation_notice() -> None:
    reply = Reply(title="排名", lang="zh", figures=[Figure(f"主播{i}", "1") for i in range(1000)])
    blocks = message_payload(reply)["blocks"]
    assert "已截断" in blocks[-1]["elements"][0]["text"]


def test_table_is_an_aligned_monospace_section_with_marks() -> None:
    table = Table(
        columns=["主播", "GMV"],
        rows=[["小红", "$1.2M"], ["bob", "$80K"]],
        marks=[Mark.ON_TRACK, Mark.OFF_TRACK],
        title="Hosts <week>",
    )
    title, body = table_sections(table)  # the fallback, used past the native table's limits
    assert title["text"]["text"] == "*Hosts &lt;week&gt;*"
    lines = body["text"]["text"].split("\n")
    assert lines[0] == lines[-1] == "```"
    assert lines[1:4] == ["主播  GMV", "小红  $1.2M 🟢", "bob   $80K 🔴"]


def test_first_table_within_limits_is_a_native_table_block() -> None:
    first = Table(columns=["主播", "GMV"], rows=[["小红 <@U1>", "$1.2M"], ["bob", "$80K"]],
                  marks=[Mark.ON_TRACK, None], title="Hosts")
    second = Table(columns=["KPI"], rows=[["ROAS"]])
    blocks = message_payload(Reply(title="Board", tables=[first, second]))["blocks"]
    kinds = [b["type"] for b in blocks]
    assert kinds == ["header", "section", "table", "section"]  # one table block per message; the second is text
    table = blocks[2]
    assert table["rows"][0] == [{"type": "raw_text", "text": "主播"}, {"type": "raw_text", "text": "GMV"}]
    # raw_text: shown as written, so a user's <@U1> cannot mention anyone; the row's mark ends its last cell
    assert table["rows"][1] == [{"type": "raw_text", "text": "小红 <@U1>"}, {"type": "raw_text", "text": "$1.2M 🟢"}]
    assert [s["align"] for s in table["column_settings"]] == ["left", "right"]


@pytest.mark.parametrize(("rows", "columns"), [(99, 2), (100, 2), (5, 20), (5, 21)])
def test_native_table_limits_and_fallback(rows: int, columns: int) -> None:
    # Slack: ≤ 100 rows including the header, ≤ 20 cells a row; beyond that the monospace fallback
    table = Table(columns=[f"c{i}" for i in range(columns)], rows=[[str(r)] * columns for r in range(rows)])
    blocks = message_payload(Reply(title="Board", tables=[table]))["blocks"]
    native = [b for b in blocks if b["type"] == "table"]
    fits = rows + 1 <= 100 and columns <= 20
    assert bool(native) == fits
    if fits:
        assert len(native[0]["rows"]) == rows + 1 and all(len(r) == columns for r in native[0]["rows"])
    else:
        assert any(b["type"] == "section" and b["text"]["text"].startswith("```") for b in blocks)


def test_long_table_spills_over_sections_of_at_most_3000_chars() -> None:
    table = Table(columns=["member", "GMV"], rows=[[f"member-{i:04d}", f"${i}K"] for i in range(600)])
    payload = message_payload(Reply(title="Board", tables=[table]))
    assert_within_limits(payload)
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) > 1
    assert all(b["text"]["text"].startswith("```\n") and b["text"]["text"].endswith("\n```") for b in sections)


def test_mrkdwn_control_characters_are_escaped_but_bold_survives() -> None:
    reply = Reply(title="t", text="*ROAS* < 2 & falling <@U123>", kind=ReplyKind.HINT)
    section = message_payload(reply)["blocks"][1]
    assert section["text"]["text"] == "*ROAS* &lt; 2 &amp; falling &lt;@U123&gt;"


def test_more_than_ten_figures_spill_into_more_sections() -> None:
    reply = Reply(title="me", figures=[Figure(f"KPI {i}", str(i)) for i in range(23)])
    sections = message_payload(reply)["blocks"][1:]
    assert [len(section["fields"]) for section in sections] == [10, 10, 3]


def test_duplicate_action_ids_are_made_unique_and_routed_back() -> None:
    reply = Reply(
        title="Alerts", actions=[Action(ACTION_ALERT_ACK, "Ack 1", "1"), Action(ACTION_ALERT_ACK, "Ack 2", "2")]
    )
    [actions] = [b for b in message_payload(reply)["blocks"] if b["type"] == "actions"]
    ids = [element["action_id"] for element in actions["elements"]]
    assert len(set(ids)) == 2
    assert {routed_action_id(action_id) for action_id in ids} == {ACTION_ALERT_ACK}


def test_button_label_is_cut_to_75_chars() -> None:
    reply = Reply(title="x", actions=[Action(ACTION_ME, "L" * 200, "me")])
    [button] = message_payload(reply)["blocks"][-1]["elements"]
    assert len(button["text"]["text"]) == 75


def spec() -> TargetFormSpec:
    return TargetFormSpec(
        title="Set a KPI target for the team",
        submit_label="Save",
        labels={"kpi": "KPI", "scope": "For", "user": "Person", "period": "Period", "value": "Target"},
        kpis=[Option("gmv", "GMV"), Option("roas", "ROAS 投产比")],
        scopes=[Option("team", "Team"), Option("role:host", "Hosts"), Option("user", "A person…")],
        periods=[Option("month", "This month"), Option("next-month", "Next month")],
        value_placeholder="1.2m, 120万, 15%",
    )


def test_target_modal_fields_and_limits() -> None:
    view = target_modal(spec(), channel_id="C0SALES1")
    assert view["callback_id"] == ACTION_SUBMIT_TARGET
    assert len(view["title"]["text"]) <= 24
    assert [block["block_id"] for block in view["blocks"]] == ["kpi", "scope", "user", "period", "value"]
    assert [block["element"]["action_id"] for block in view["blocks"]] == ["kpi", "scope", "user", "period", "value"]
    assert view["blocks"][2]["optional"] is True
    assert view["blocks"][4]["element"]["placeholder"]["text"] == "1.2m, 120万, 15%"
    assert origin_channel(view) == "C0SALES1"


def test_submitted_fields_come_back_by_field_name() -> None:
    view = {
        "private_metadata": json.dumps({"channel": "C0SALES1"}),
        "state": {
            "values": {
                "kpi": {"kpi": {"type": "static_select", "selected_option": {"value": "gmv"}}},
                "scope": {"scope": {"type": "static_select", "selected_option": {"value": "user"}}},
                "user": {"user": {"type": "users_select", "selected_user": "UMEMBER1"}},
                "period": {"period": {"type": "static_select", "selected_option": {"value": "month"}}},
                "value": {"value": {"type": "plain_text_input", "value": " 1.2m "}},
            }
        },
    }
    assert submitted_fields(view) == {
        "kpi": "gmv",
        "scope": "user",
        "user": "UMEMBER1",
        "period": "month",
        "value": "1.2m",
    }


def test_field_errors_map_onto_blocks() -> None:
    assert slack_errors({"value": "expected a number like 1.2m", "weird": "x"}) == {
        "value": "expected a number like 1.2m; x"
    }


def test_home_view_has_me_for_everyone_and_set_target_for_admins() -> None:
    reply = Reply(title="kpibot", text="Hi")
    member = home_view(reply, admin=False)
    admin = home_view(reply, admin=True)
    assert member["type"] == admin["type"] == "home"

    def ids(view: dict) -> list[str]:
        return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert ids(member) == [ACTION_ME]
    assert ids(admin) == [ACTION_ME, ACTION_OPEN_TARGET_FORM]
    offered_to_member = Reply(title="x", actions=[Action(ACTION_OPEN_TARGET_FORM, "Set", "target")])
    assert ids(home_view(offered_to_member, admin=False)) == [ACTION_ME]
