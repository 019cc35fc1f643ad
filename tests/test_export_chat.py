"""`export board …` / `导出 排行 …` and `export digest` / `导出 周报` end to end: the real bot against the fake Slack,
Feishu and DingTalk servers (the file uploaded the way each platform takes files, its bytes recorded by the fake)
and the console (the file written to disk). Each uploaded file is opened again with openpyxl or read as CSV.

Fixture (this month, on its first day, whatever today is): hosts Hana 1,000 (source a) + 500 (source b) = 1,500
against a month target of 3,000 → attainment 1,500 / 3,000 = 0.5; Hugo 800, no target; a third host whose
display name is `=1+2` (text that a spreadsheet would run as a formula) 100. Ranked 1,500 > 800 > 100.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest

from bot.console import run_script, to_request
from bot.core.request import UserRef
from jobs.digest.history import reply_to_json
from jobs.present.reply import Attachment, Figure, Reply, Table
from storage.db import Database
from storage.kpi.scope import Scope
from storage.repositories import digest_posts
from storage.repositories import members as member_repo
from storage.repositories import targets as target_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fakes.dingtalk_api import MEMBER_STAFF_ID, DingTalkBot, robot_message
from tests.fakes.feishu_api import GROUP_CHAT, P2P_CHAT, FeishuBot
from tests.fakes.slack_api import CHANNEL_ID, MEMBER_ID, SlackBot, message_event, poll

pytestmark = pytest.mark.sqlite_only  # platform adapters over their fakes

FORMULA_NAME = "=1+2"


def seed(db: Database, core) -> str:
    """The fixture above; returns this month's key (the file name carries it)."""
    month = core.engine.calendar.month(core.engine.today())
    with db.session() as session:
        for key, name in (("h1@shop.com", "Hana"), ("h2@shop.com", "Hugo"), ("h3@shop.com", FORMULA_NAME)):
            member = member_repo.ensure_member(session, key, email=key, display_name=name)
            member_repo.assign_role(session, member, "host")
        upsert_facts(session, [FactRecord("gmv", month.start, 1000, "h1@shop.com", "a"),
                               FactRecord("gmv", month.start, 500, "h1@shop.com", "b"),
                               FactRecord("gmv", month.start, 800, "h2@shop.com", "a"),
                               FactRecord("gmv", month.start, 100, "h3@shop.com", "a")])
        target_repo.set_target(session, "gmv", Scope.member("h1@shop.com"), month, 3000, "test")
    return month.key


def check_board_xlsx(data: bytes, lang: str) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    assert header[:5] == (["Rank", "Member", "GMV (USD)", "Target (USD)", "Attainment"] if lang == "en"
                          else ["排名", "成员", "GMV (USD)", "目标 (USD)", "达成率"])
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [r[:4] for r in rows] == [[1, "Hana", 1500, 3000], [2, "Hugo", 800, None], [3, FORMULA_NAME, 100, None]]
    assert rows[0][4] == pytest.approx(0.5) and rows[1][4] is None  # 1,500 / 3,000; no target, no attainment
    name = ws["B4"]  # shown as typed, never evaluated
    assert (name.value, name.data_type, name.quotePrefix) == (FORMULA_NAME, "s", True)
    assert ws["C2"].data_type == "n" and ws["E2"].number_format == "0.0%"


def check_board_csv(data: bytes) -> None:
    assert data.startswith("\ufeff".encode())  # UTF-8 with BOM: Excel reads the Chinese header
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["排名", "成员", "GMV (USD)", "目标 (USD)"]
    assert [r[:5] for r in rows[1:]] == [["1", "Hana", "1500.0", "3000.0", "0.5"], ["2", "Hugo", "800.0", "", ""],
                                         ["3", "'" + FORMULA_NAME, "100.0", "", ""]]


def post_digest(db: Database) -> int:
    """A posted digest: headline figures, then two tables (one cell a formula-looking note)."""
    reply = Reply(title="Weekly review · W47", lang="en", tables=[
        Table(["KPI", "W47", "W46"], [["GMV", "$12.2K", "$11.2K"], ["Orders", "410", "398"]], title="Team"),
        Table(["Member", "Note"], [["Hana", "=cmd|' /C calc'!A0"]], title="Notes"),
    ], figures=[Figure("GMV", "$12.2K")])
    with db.session() as session:
        post = digest_posts.record_post(session, subscription_id=None, cadence="weekly", channel="slack:C1",
                                        period_key="2026-W47", status="sent", message_id="1.2", title=reply.title,
                                        content=reply_to_json(reply), posted_at=datetime(2026, 11, 23, 9, tzinfo=UTC))
        assert post.id is not None
        return post.id


def check_digest_xlsx(data: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Weekly review · W47", "Team", "Notes"]
    assert [[c.value for c in row] for row in book["Team"].iter_rows()] == [
        ["KPI", "W47", "W46"], ["GMV", "$12.2K", "$11.2K"], ["Orders", "410", "398"]]
    note = book["Notes"]["B2"]
    assert (note.value, note.data_type, note.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)
    assert [c.value for c in book["Weekly review · W47"][2]] == ["GMV", "$12.2K"]


# --- Slack -----------------------------------------------------------------------------------------------

def slack_files(slack_bot: SlackBot, count: int) -> list[tuple[bytes, dict]]:
    """(uploaded bytes, completeUploadExternal form) of each file shared so far."""
    fake = slack_bot.fake
    return [(fake.uploads[entry["id"]], complete.params)
            for complete in fake.wait_for("files.completeUploadExternal", count)
            for entry in json.loads(complete.params["files"])]


def test_board_and_digest_exports_over_slack(slack_bot: SlackBot) -> None:
    month = seed(slack_bot.runtime.db, slack_bot.runtime.core)
    answer = slack_bot.slash("export board gmv role:host month", user_id=MEMBER_ID).json()
    assert f"kpibot-board-gmv-host-{month}.xlsx" in json.dumps(answer)
    (data, complete) = slack_files(slack_bot, 1)[0]
    assert complete["channel_id"] == CHANNEL_ID  # shared into the channel the command was typed in
    names = [c.params["filename"] for c in slack_bot.fake.calls_to("files.getUploadURLExternal")]
    assert names == [f"kpibot-board-gmv-host-{month}.xlsx"]
    assert int(slack_bot.fake.calls_to("files.getUploadURLExternal")[0].params["length"]) == len(data)
    check_board_xlsx(data, "en")

    slack_bot.slash("导出 排行 gmv 主播 本月 csv", user_id=MEMBER_ID)
    files = slack_files(slack_bot, 2)
    assert slack_bot.fake.calls_to("files.getUploadURLExternal")[1].params["filename"] \
        == f"kpibot-board-gmv-host-{month}.csv"
    check_board_csv(files[1][0])

    post_id = post_digest(slack_bot.runtime.db)
    slack_bot.slash("导出 周报", user_id=MEMBER_ID)
    files = slack_files(slack_bot, 3)
    assert slack_bot.fake.calls_to("files.getUploadURLExternal")[2].params["filename"] \
        == f"kpibot-digest-2026-W47-{post_id}.xlsx"
    check_digest_xlsx(files[2][0])


def test_export_in_a_thread_goes_into_the_thread(slack_bot: SlackBot) -> None:
    seed(slack_bot.runtime.db, slack_bot.runtime.core)
    event = message_event("export board gmv role:host month", channel_type="im")
    assert slack_bot.event(event, event_id="EvExport1").status_code == 200
    complete = slack_bot.fake.wait_for("files.completeUploadExternal")[0]
    assert complete.params.get("thread_ts") == event["ts"]
    upload = next(c for c in slack_bot.fake.calls if c.method == "upload")
    check_board_xlsx(upload.body, "en")


# --- Feishu ----------------------------------------------------------------------------------------------

def feishu_file(bot: FeishuBot, text: str):
    event = bot.message(text, chat_type="p2p", chat_id=P2P_CHAT)
    assert bot.poster.post(event).status_code == 200
    message_id = event["event"]["message"]["message_id"]
    replies = poll(lambda: len(bot.fake.replies_to(message_id)) >= 2 and bot.fake.replies_to(message_id), timeout=10)
    card, file_message = replies[0], replies[1]
    assert card.msg_type == "interactive" and file_message.msg_type == "file"
    return card, bot.fake.files[file_message.content["file_key"]]


def test_board_and_digest_exports_over_feishu(bot: FeishuBot) -> None:
    month = seed(bot.runtime.db, bot.runtime.core)
    card, uploaded = feishu_file(bot, "export board gmv role:host month xlsx")
    assert (uploaded.name, uploaded.file_type) == (f"kpibot-board-gmv-host-{month}.xlsx", "xls")
    assert uploaded.name in card.text
    check_board_xlsx(uploaded.data, "en")

    card, uploaded = feishu_file(bot, "导出 排行 gmv 主播 本月 csv")
    assert (uploaded.name, uploaded.file_type) == (f"kpibot-board-gmv-host-{month}.csv", "stream")
    assert "已附上" in card.text
    check_board_csv(uploaded.data)

    post_id = post_digest(bot.runtime.db)
    card, uploaded = feishu_file(bot, f"export digest {post_id}")
    assert uploaded.name == f"kpibot-digest-2026-W47-{post_id}.xlsx"
    check_digest_xlsx(uploaded.data)


# --- DingTalk --------------------------------------------------------------------------------------------

def dingtalk_file(dingtalk: DingTalkBot, text: str, sent_before: int) -> tuple[str, tuple[str, bytes], dict]:
    assert dingtalk.signed_post(robot_message(dingtalk.fake, text)).status_code == 200
    answer, file_message = dingtalk.fake.wait_for_sent(sent_before + 2)[sent_before:sent_before + 2]
    assert answer.how == "webhook" and file_message.how == "group"  # a session webhook cannot carry a file
    assert file_message.body["msgKey"] == "sampleFile"
    param = json.loads(file_message.body["msgParam"])
    return answer.markdown, dingtalk.fake.files[param["mediaId"]], param


def test_board_and_digest_exports_over_dingtalk(dingtalk: DingTalkBot) -> None:
    month = seed(dingtalk.runtime.db, dingtalk.runtime.core)
    markdown, (name, data), param = dingtalk_file(dingtalk, "export board gmv role:host month", 0)
    assert param == {"mediaId": param["mediaId"], "fileName": f"kpibot-board-gmv-host-{month}.xlsx",
                     "fileType": "xlsx"} and name == param["fileName"]
    assert param["fileName"] in markdown
    check_board_xlsx(data, "en")

    markdown, (name, data), param = dingtalk_file(dingtalk, "导出 排行 gmv 主播 本月 csv", 2)
    assert param["fileType"] == "csv" and "已附上" in markdown
    check_board_csv(data)

    post_digest(dingtalk.runtime.db)
    markdown, (name, data), param = dingtalk_file(dingtalk, "导出 周报", 4)
    check_digest_xlsx(data)


# --- console ---------------------------------------------------------------------------------------------

def test_console_writes_the_file_and_prints_its_path(db: Database, make_settings, tmp_path) -> None:
    from bot.runtime import build_runtime
    runtime = build_runtime(make_settings(SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="", FEISHU_APP_ID="",
                                          DINGTALK_CLIENT_ID=""), file_outbox_dir=tmp_path / "outbox")
    try:
        month = seed(runtime.db, runtime.core)
        post_id = post_digest(runtime.db)
        out = io.StringIO()
        folder = tmp_path / "exports"
        folder.mkdir()
        run_script(runtime.core, ["export board gmv role:host month", "导出 排行 gmv 主播 本月 csv", "export digest"],
                   UserRef("console", "ops", operator=True), None, out, folder)
        text = out.getvalue()
        board, board_csv = folder / f"kpibot-board-gmv-host-{month}.xlsx", folder / f"kpibot-board-gmv-host-{month}.csv"
        digest = folder / f"kpibot-digest-2026-W47-{post_id}.xlsx"
        assert f"File written: {board.resolve()}" in text and f"文件已保存：{board_csv.resolve()}" in text
        check_board_xlsx(board.read_bytes(), "en")
        check_board_csv(board_csv.read_bytes())
        check_digest_xlsx(digest.read_bytes())
    finally:
        runtime.db.dispose()


def test_bad_export_input_names_what_is_wrong(db: Database, make_settings, tmp_path) -> None:
    from bot.runtime import build_runtime
    runtime = build_runtime(make_settings(SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="", FEISHU_APP_ID="",
                                          DINGTALK_CLIENT_ID=""), file_outbox_dir=tmp_path / "outbox")
    operator = UserRef("console", "ops", operator=True)
    try:
        def ask(line: str) -> Reply:
            return runtime.core.handle(to_request(line, operator, None))

        nothing = ask("export digest")  # nothing posted yet: said plainly, no file
        assert "No digest has been posted yet" in (nothing.text or "") and not nothing.files
        empty = ask("export board gmv role:host month")
        assert "nothing to export" in (empty.text or "") and not empty.files
        for line, words in (("export board gmv csv xlsx", "one format"),
                            ("export board gmv @someone month", "not one person"),
                            ("export digest csv", "XLSX"),
                            ("export board gmv role:pilot", "pilot"),
                            ("export digest 999", "no posted digest #999")):
            reply = ask(line)
            assert words in (reply.text or ""), (line, reply.text)
            assert not reply.files
    finally:
        runtime.db.dispose()


def test_slack_says_when_the_file_could_not_be_shared(slack_bot: SlackBot) -> None:
    seed(slack_bot.runtime.db, slack_bot.runtime.core)
    slack_bot.fake.fail_next("files.completeUploadExternal", "not_in_channel")
    slack_bot.slash("export board gmv role:host month", user_id=MEMBER_ID)
    [hook] = slack_bot.fake.wait_for("hook", timeout=8)  # the answer said "attached": the asker is told otherwise
    assert "could not be shared here (not_in_channel)" in hook.params["text"]
    assert "/invite @kpibot" in hook.params["text"] and hook.params["response_type"] == "ephemeral"


def test_feishu_scheduled_send_with_a_file_is_sent_once_per_key(bot: FeishuBot) -> None:
    outbox = bot.runtime.outboxes["feishu"]
    data = "\ufeffname,gmv\r\n小红,1500\r\n".encode()
    reply = Reply(title="Board", text="attached", files=[Attachment("kpibot-board.csv", data, "text/csv")])
    outbox.send(GROUP_CHAT, reply, idempotency_key="export:1")
    outbox.send(GROUP_CHAT, reply, idempotency_key="export:1")  # a retry: Feishu keeps one message per uuid
    card, file_message = bot.fake.messages
    assert card.msg_type == "interactive" and file_message.msg_type == "file"
    assert file_message.chat_id == GROUP_CHAT and bot.fake.files[file_message.content["file_key"]].data == data


def test_dingtalk_direct_message_export_goes_to_that_person(dingtalk: DingTalkBot) -> None:
    seed(dingtalk.runtime.db, dingtalk.runtime.core)
    payload = robot_message(dingtalk.fake, "export board gmv role:host month", group=False)
    assert dingtalk.signed_post(payload).status_code == 200
    answer, file_message = dingtalk.fake.wait_for_sent(2)
    assert (answer.how, file_message.how, file_message.target) == ("webhook", "user", MEMBER_STAFF_ID)
    check_board_xlsx(dingtalk.fake.files[json.loads(file_message.body["msgParam"])["mediaId"]][1], "en")


def test_board_export_by_shop_and_within_one_shop(db: Database, make_settings, tmp_path) -> None:
    """Hana 1,000 in tiktok-us and 500 in shopee-sg, Hugo 800 in tiktok-us: by shop tiktok-us 1,000 + 800 =
    1,800, shopee-sg 500; the hosts within shopee-sg: Hana 500, Hugo no data (unranked, last)."""
    from bot.runtime import build_runtime
    runtime = build_runtime(make_settings(SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="", FEISHU_APP_ID="",
                                          DINGTALK_CLIENT_ID=""), file_outbox_dir=tmp_path / "outbox")
    try:
        month = runtime.core.engine.calendar.month(runtime.core.engine.today())
        with runtime.db.session() as session:
            for key, name in (("h1@shop.com", "Hana"), ("h2@shop.com", "Hugo")):
                member_repo.assign_role(session, member_repo.ensure_member(session, key, display_name=name), "host")
            upsert_facts(session, [FactRecord("gmv", month.start, 1000, "h1@shop.com", "a", shop="tiktok-us"),
                                   FactRecord("gmv", month.start, 500, "h1@shop.com", "a", shop="shopee-sg"),
                                   FactRecord("gmv", month.start, 800, "h2@shop.com", "a", shop="tiktok-us")])
        out, folder = io.StringIO(), tmp_path / "exports"
        folder.mkdir()
        run_script(runtime.core, ["export board gmv by shop month", "导出 排行 gmv 主播 shop:shopee-sg 本月"],
                   UserRef("console", "ops", operator=True), None, out, folder)
        shops = openpyxl.load_workbook(folder / f"kpibot-board-gmv-by-shop-{month.key}.xlsx").active
        assert [c.value for c in shops[1]][:3] == ["Rank", "Shop", "GMV (USD)"]
        assert [[c.value for c in row][:3] for row in shops.iter_rows(min_row=2)] == [[1, "tiktok-us", 1800],
                                                                                      [2, "shopee-sg", 500]]
        hosts = openpyxl.load_workbook(folder / f"kpibot-board-gmv-host-shopee-sg-{month.key}.xlsx").active
        assert [[c.value for c in row][:3] for row in hosts.iter_rows(min_row=2)] == [[1, "Hana", 500],
                                                                                      [None, "Hugo", None]]
        assert "导出 · GMV · 主播 · shopee-sg" in out.getvalue()
        refused = runtime.core.handle(to_request("export board gmv by shop role:host", UserRef("console", "ops",
                                                                                               operator=True), None))
        assert "not one person" in (refused.text or "") and not refused.files
    finally:
        runtime.db.dispose()
