"""Imports say what they read (issue 18 §7): one encoding per CSV, refused naming the first line that breaks
it; an XLSX formula without a computed value refused naming the cell; a member merged down several rows read
in each row, a merged number refused — never a shifted or silently team-level row."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from jobs.ingest import import_file
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import Fact


@pytest.fixture
def registry() -> Registry:
    return load_registry(None)


def facts(db: Database) -> list[tuple[str, str, float]]:
    with db.session() as session:
        rows = session.execute(select(Fact.date, Fact.member, Fact.value).order_by(Fact.date, Fact.member))
        return [(str(day), member, value) for day, member, value in rows]


def fact_count(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(Fact)).scalar_one())


def test_a_csv_of_utf8_rows_then_a_gbk_row_is_refused_naming_the_line(
    db: Database, registry: Registry, tmp_path: Path
) -> None:
    """The probe: such a file was decoded whole as GB18030 (`josé@x.com` became `jos锧x.com`)."""
    path = tmp_path / "mixed.csv"
    path.write_bytes("date,member,gmv\n2026-10-01,josé@x.com,100\n".encode()
                     + "2026-10-02,张三,200\n".encode("gbk") + b"2026-10-03,bob,300\n")
    report = import_file(db, registry, path)
    assert report.problem_lines() == [
        "file: mixed.csv: line 3 is not UTF-8 text like line 2 before it; the file mixes encodings — "
        "save all of it as CSV UTF-8"]
    assert fact_count(db) == 0


def test_a_gbk_csv_with_a_utf8_row_is_refused_naming_the_line(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "mixed2.csv"
    path.write_bytes("date,member,gmv\n2026-10-01,张三,100\n".encode("gbk")
                     + "2026-10-02,李四,200\n".encode())
    report = import_file(db, registry, path)
    assert report.problem_lines() == [
        "file: mixed2.csv: line 3 is UTF-8 text while line 2 before it is GBK; the file mixes encodings — "
        "save all of it as CSV UTF-8"]
    assert fact_count(db) == 0


def test_a_whole_gbk_csv_still_reads(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("日期,成员,gmv\n2026-10-01,张三,100\n2026-10-02,李四,200\n".encode("gbk"))
    report = import_file(db, registry, path)
    assert report.ok, report.problem_lines()
    assert facts(db) == [("2026-10-01", "张三", 100.0), ("2026-10-02", "李四", 200.0)]


def write_xlsx(path: Path, rows: list[list[object]], merges: tuple[str, ...] = ()) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for span in merges:
        sheet.merge_cells(span)
    workbook.save(path)
    return path


def test_an_xlsx_formula_without_a_computed_value_is_refused_naming_the_cell(
    db: Database, registry: Registry, tmp_path: Path
) -> None:
    """openpyxl (like most scripts) saves formulas without their values; read as empty, the row vanished."""
    path = write_xlsx(tmp_path / "formula.xlsx", [["date", "member", "gmv"], ["2026-10-01", "alice", 100],
                                                  ["2026-10-02", "alice", "=C2*2"]])
    report = import_file(db, registry, path)
    assert report.problem_lines() == [
        "file: formula.xlsx: cell C3 holds a formula whose value was never computed; open and save the file in "
        "Excel, or export CSV"]
    assert fact_count(db) == 0


def test_a_member_merged_down_two_rows_is_read_in_both(db: Database, registry: Registry, tmp_path: Path) -> None:
    """The probe: the second row of a merged member cell became team-level."""
    path = write_xlsx(tmp_path / "merged.xlsx", [["member", "date", "gmv"], ["alice", "2026-10-01", 100],
                                                 [None, "2026-10-02", 200], ["bob", "2026-10-01", 50]],
                      merges=("A2:A3",))
    report = import_file(db, registry, path)
    assert report.ok, report.problem_lines()
    assert facts(db) == [("2026-10-01", "alice", 100.0), ("2026-10-01", "bob", 50.0), ("2026-10-02", "alice", 200.0)]


def test_a_number_merged_over_two_rows_is_refused(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "merged-number.xlsx", [["member", "date", "gmv"], ["alice", "2026-10-01", 300],
                                                        ["alice", "2026-10-02", None]], merges=("C2:C3",))
    report = import_file(db, registry, path)
    assert report.problem_lines() == [
        "file: merged-number.xlsx: cells C2:C3 are merged around one number, which would count it more than once; "
        "unmerge them and give each row its own value"]
    assert fact_count(db) == 0
