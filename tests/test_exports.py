"""Exports and digest history: a board as CSV/XLSX with numbers as numbers, a posted digest as one XLSX with
one sheet per table, opened again with openpyxl. Figures from tests/fixtures_jobs.py (see its table)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import time_machine

from jobs.delivery import Deliverer
from jobs.digest.history import history_reply, post_link, shown_again
from jobs.digest.schedule import DigestRunner
from jobs.export import Sheet, board_sheet, digest_sheets, to_csv, to_xlsx
from jobs.export.sheets import sheet_names
from storage.db import Database
from storage.repositories import digest_posts
from tests.fixtures_jobs import NOVEMBER, TODAY, RecordingOutbox, make_engine, seed_review_fixture, subscribe, utc


@pytest.fixture
def engine(db: Database):
    seed_review_fixture(db)
    return make_engine(db, today=TODAY)


def test_board_xlsx_cells_are_numbers(engine) -> None:
    sheet = board_sheet(engine, engine.registry.kpis["gmv"], "host", NOVEMBER, "en", currency="USD")
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx([sheet])))
    (ws,) = book.worksheets
    assert ws.title == "GMV host November 2026"
    assert [c.value for c in ws[1]] == ["Rank", "Member", "GMV (USD)", "Target (USD)", "Attainment", "Status",
                                        "Data through"]
    # Nov 1–22: alice 15 × 800 + 7 × 1000 = 19,000 of 30,000 → 0.6333; bob 15 × 500 + 7 × 450 = 10,650 of 15,000 → 0.71
    alice, bob = ([c.value for c in row] for row in ws.iter_rows(min_row=2))
    assert alice[:4] == [1, "Alice", 19000, 30000] and alice[4] == pytest.approx(19000 / 30000)
    assert bob[:4] == [2, "Bob", 10650, 15000] and bob[4] == pytest.approx(0.71)
    assert alice[6] == "2026-11-22"
    assert ws["C2"].number_format == "#,##0.00" and ws["E2"].number_format == "0.0%"


def test_board_csv_in_chinese(engine) -> None:
    sheet = board_sheet(engine, engine.registry.kpis["gmv"], "host", NOVEMBER, "zh")
    data = to_csv(sheet)
    assert data.startswith("\ufeff".encode())  # BOM: Excel reads the Chinese headers as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "成员", "GMV"]
    assert rows[1][:4] == ["1", "Alice", "19000.0", "30000.0"]


def test_text_that_looks_like_a_formula_stays_text() -> None:
    evil = ["=HYPERLINK(\"http://evil\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd"]
    sheet = Sheet("x", ["name", "value"], [*([text, -3.5] for text in evil), ["-10.0%", None]])
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx([sheet]))).active
    # XLSX: each is a string cell with Excel's quote prefix, shown exactly as written and never evaluated
    for row, text in enumerate(evil, start=2):
        cell = ws.cell(row, 1)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    assert ws["B2"].value == -3.5 and ws["B2"].data_type == "n"
    assert ws["A7"].value == "-10.0%" and not ws["A7"].quotePrefix  # a number written as text is left alone
    # CSV: a leading apostrophe, so a spreadsheet opening the file reads text
    rows = list(csv.reader(io.StringIO(to_csv(sheet).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'" + text for text in evil] + ["-10.0%"]
    assert sheet_names(["a/b:c", "A/B:C", "x" * 40]) == ["a b c", "A B C (2)", "x" * 31]


def test_digest_history_show_and_export(db: Database, engine) -> None:
    outbox = RecordingOutbox()
    runner = DigestRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}), currency="USD",
                          default_timezone="UTC", charts=False)
    subscribe(db, timezone="UTC", created_at=utc(2026, 11, 1))
    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        runner.run_due()
        runner.run_due()  # exactly once: one send, one history row
    with db.session() as session:
        posts = digest_posts.recent_posts(session)
        assert len(posts) == 1
        post = posts[0]
    assert (post.channel, post.period_key, post.status, post.cadence) == ("slack:C1", "2026-W47", "sent", "weekly")
    history = history_reply([post], "en").tables[0]
    assert history.rows[0][:5] == [str(post.id), "2026-11-23 09:00", "slack:C1", "2026-W47", "sent"]

    again = shown_again(post, "en")
    assert again.title == outbox.sent[0].reply.title
    assert [t.rows for t in again.tables] == [t.rows for t in outbox.sent[0].reply.tables]

    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(digest_sheets(post))))
    names = book.sheetnames
    # The headline figures first, then one sheet per table of the digest (actions, team, pacing, hosts, …)
    assert len(names) == 1 + len(outbox.sent[0].reply.tables)
    team = book[next(n for n in names if n.startswith("Team · week 47"))]
    assert [c.value for c in team[1]][:3] == ["KPI", "W47", "W46"]
    gmv = next(row for row in team.iter_rows(min_row=2, values_only=True) if row[0] == "GMV")
    assert gmv[1:4] == ("$12.2K", "$11.2K", "+9.4%")  # 12,250 vs 11,200 = +9.375 %


def test_slack_link_and_none_elsewhere() -> None:
    assert post_link("slack:C123", "1700000000.123456") == "https://slack.com/archives/C123/p1700000000123456"
    assert post_link("feishu:oc_1", "om_1") is None
    assert post_link("slack:C1", None) is None
