"""One neutral table, rendered natively by each surface: a Slack `table` block, a Feishu card `table` component,
DingTalk markdown list lines (DingTalk's markdown subset has no tables), an aligned Markdown table in the console
and a Markdown table in the digest `.md` files; then each platform's limits and fallbacks."""

from __future__ import annotations

import pytest

from bot.dingtalk.render import reply_markdown as dingtalk_markdown
from bot.feishu.cards import MAX_TABLE_COLUMNS, reply_card
from bot.slack.blocks import message_payload
from jobs.present.formatting import display_width
from jobs.present.markdown import console_table, reply_markdown, table_markdown
from jobs.present.reply import Mark, Reply, Table, is_figure, numeric_columns
from tests.fakes.dingtalk_api import DingTalkBot, robot_message
from tests.fakes.feishu_api import P2P_CHAT, FeishuBot, find_elements
from tests.fakes.slack_api import MEMBER_ID, SlackBot
from tests.test_export_chat import seed

pytestmark = pytest.mark.sqlite_only

BOARD = Table(columns=["#", "主播", "GMV", "Attainment", "Status"],
              rows=[["1", "小红 <at id=all>", "$1.2万", "120.0%", "on track"], ["2", "bob", "$800", "—", "no target"]],
              marks=[Mark.ON_TRACK, None], title="Hosts")


def test_figures_are_told_from_names_statuses_and_dates() -> None:
    for cell in ("$12.2K", "75.0%", "+9.4%", "-10.0%", "1,200", "$1.2万", "S$80", "3.2x", "120.0% 🟢", "¥1.5亿"):
        assert is_figure(cell), cell
    for cell in ("Hana", "on track", "2026-11-22", "$20K → $19.2K", "W47", "小红"):
        assert not is_figure(cell), cell
    assert numeric_columns(BOARD) == [True, False, True, True, False]  # "—" (no figure) does not count
    assert numeric_columns(Table(["a"], [["—"], [""]])) == [False]  # nothing to align


def test_one_table_each_surface() -> None:
    reply = Reply(title="GMV board", tables=[BOARD])

    slack = next(b for b in message_payload(reply)["blocks"] if b["type"] == "table")
    assert [[c["text"] for c in row] for row in slack["rows"]] == [
        ["#", "主播", "GMV", "Attainment", "Status"],
        ["1", "小红 <at id=all>", "$1.2万", "120.0%", "on track 🟢"],  # raw_text: shown as written
        ["2", "bob", "$800", "—", "no target"]]
    assert [s["align"] for s in slack["column_settings"]] == ["right", "left", "right", "right", "left"]

    (feishu,) = find_elements(reply_card(reply), "table")
    assert [(c["display_name"], c["data_type"], c["horizontal_align"]) for c in feishu["columns"]] == [
        ("#", "text", "right"), ("主播", "text", "left"), ("GMV", "text", "right"), ("Attainment", "text", "right"),
        ("Status", "text", "left")]
    # `text` cells are plain: the <at> shows as typed (no entity escaping needed, none added)
    assert feishu["rows"] == [
        {"c0": "🟢 1", "c1": "小红 <at id=all>", "c2": "$1.2万", "c3": "120.0%", "c4": "on track"},
        {"c0": "2", "c1": "bob", "c2": "$800", "c3": "—", "c4": "no target"}]
    assert feishu["page_size"] == 2 and feishu["header_style"]["bold"] is True

    _, dingtalk = dingtalk_markdown(reply)
    assert "- **1** — 主播: 小红 ＜at id=all＞ · GMV: $1.2万 · Attainment: 120.0% · Status: on track 🟢" in dingtalk
    assert "|" not in dingtalk  # DingTalk markdown has no tables: one list line per row

    console = reply.plain_text(table_lines=console_table).splitlines()
    assert console[1:] == [
        "Hosts",
        "|    # | 主播             |    GMV | Attainment | Status    |",
        "| ---: | ---------------- | -----: | ---------: | --------- |",
        "| 🟢 1 | 小红 <at id=all> | $1.2万 |     120.0% | on track  |",
        "|    2 | bob              |   $800 |          — | no target |"]
    assert len({display_width(line) for line in console[2:]}) == 1  # columns line up in a terminal (CJK = 2)

    md = reply_markdown(reply)
    assert "### Hosts\n\n| # | 主播 | GMV | Attainment | Status |\n| ---: | --- | ---: | ---: | --- |\n" \
           "| 🟢 1 | 小红 <at id=all> | $1.2万 | 120.0% | on track |\n| 2 | bob | $800 | — | no target |" in md


def test_feishu_table_past_fifty_columns_falls_back_to_markdown() -> None:
    wide = Table(columns=[f"c{i}" for i in range(MAX_TABLE_COLUMNS + 1)], rows=[[str(i) for i in range(51)]])
    fits = Table(columns=[f"c{i}" for i in range(MAX_TABLE_COLUMNS)], rows=[[str(i) for i in range(50)]])
    card = reply_card(Reply(title="Wide", tables=[wide, fits]))
    (table,) = find_elements(card, "table")  # the 50-column one is native, the 51-column one markdown
    assert len(table["columns"]) == 50
    assert any(e.get("tag") == "markdown" and e["content"].startswith("c0 · c1") for e in card["body"]["elements"])


def test_feishu_wide_table_does_not_use_up_a_component() -> None:
    wide = Table(columns=[f"c{i}" for i in range(60)], rows=[["x"] * 60])
    small = [Table(columns=["a", "b"], rows=[["1", "2"]], title=f"T{i}") for i in range(5)]
    card = reply_card(Reply(title="Roles", tables=[wide, *small]))
    assert len(find_elements(card, "table")) == 5  # all five small tables stay native


def test_dingtalk_table_with_marks_and_title_reads_as_a_list() -> None:
    _, text = dingtalk_markdown(Reply(title="Digest", tables=[BOARD, Table(["KPI", "W47"], [["GMV", "$12.2K"]])]))
    lines = text.split("  \n")
    assert lines[1] == "**Hosts**" and lines[2].startswith("- **1** — ") and lines[-1] == "- **GMV** — W47: $12.2K"


def test_console_table_without_title_and_with_short_rows() -> None:
    lines = table_markdown(Table(["Who", "GMV"], [["Ann"], ["Bo", "$5"]]), aligned=True)
    assert lines == ["| Who |  GMV |", "| --- | ---: |", "| Ann |      |", "| Bo  |   $5 |"]


# --- the same board over the real bot and the fakes (the Feishu fake checks the table component's limits) ---

def test_board_table_over_each_platform(slack_bot: SlackBot, bot: FeishuBot, dingtalk: DingTalkBot) -> None:
    # tests/test_export_chat.py's fixture: Hana 1,500 of 3,000 → 50.0 %; Hugo 800; "=1+2" 100
    for runtime in (slack_bot.runtime, bot.runtime, dingtalk.runtime):
        seed(runtime.db, runtime.core)
    answer = slack_bot.slash("board gmv role:host month", user_id=MEMBER_ID).json()
    (block,) = [b for b in answer["blocks"] if b["type"] == "table"]
    assert [[c["text"] for c in row[:4]] for row in block["rows"][1:]] == [
        ["1", "Hana", "$1,500", "$3,000"], ["2", "Hugo", "$800", "—"], ["3", "=1+2", "$100", "—"]]
    assert [s["align"] for s in block["column_settings"]] == ["right", "left", "right", "right", "right", "left"]

    card = bot.ask("排名 gmv 主播 本月", chat_type="p2p", chat_id=P2P_CHAT).content
    (table,) = find_elements(card, "table")
    assert [c["display_name"] for c in table["columns"]][:3] == ["#", "成员", "GMV"]
    assert [row["c1"] for row in table["rows"]] == ["Hana", "Hugo", "=1+2"] and table["rows"][0]["c4"] == "50.0%"

    assert dingtalk.signed_post(robot_message(dingtalk.fake, "board gmv role:host month")).status_code == 200
    text = dingtalk.fake.wait_for_sent(1)[0].markdown
    assert "- **1** — Member: Hana · GMV: $1,500 · Target: $3,000 · Attainment: 50.0%" in text and "|" not in text
