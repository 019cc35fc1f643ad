"""Bad files are rejected whole, every bad row listed with its line, column and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.ingest import import_file
from jobs.ingest.pipeline import PROBLEM_LIMIT
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import Fact, SourceSyncRun


@pytest.fixture
def registry() -> Registry:
    return load_registry(None)


def fact_count(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(Fact)).scalar_one())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_row_of_a_wide_file_is_listed_and_nothing_written(
    db: Database, registry: Registry, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", "\n".join([
        "date,member,gmv,orders",  # line 1
        "2026-10-01,alice,100,2",  # 2 fine
        "2026-13-01,alice,100,2",  # 3 no such month
        "10/01/2026,alice,100,2",  # 4 ambiguous form, no date_format
        "2026-10-02,alice,12x,2",  # 5 not a number
        "2026-10-03,alice,100,true",  # 6 not a number
        ",alice,100,2",  # 7 no date
        "2026-10-04," + "m" * 201 + ",1,1",  # 8 member too long
        "2026-10-01,alice,300,9",  # 9 repeats line 2
        "2026-10-05,bob,inf,1",  # 10 not finite
    ]) + "\n")
    report = import_file(db, registry, path)
    assert not report.ok
    assert report.problem_count == 8
    lines = report.problem_lines()
    assert lines == [
        "line 3, column \"date\": '2026-13-01' is not a real date",
        "line 4, column \"date\": '10/01/2026' is not a date (write 2026-10-01, 2026/10/01 or 20261001; "
        "a mapping can set date_format for other forms)",
        "line 5, column \"gmv\": '12x' is not a number",
        "line 6, column \"orders\": 'true' is not a number",
        'line 7, column "date": no date',
        f"line 8, column \"member\": '{'m' * 59}…': member is longer than 200 characters",
        "line 9: same date, member and metric (gmv) as line 2; a mapping with `aggregate: sum` adds such rows up",
        "line 10, column \"gmv\": 'inf' is not a number",
    ]
    assert fact_count(db) == 0
    with db.session() as session:
        run = session.execute(select(SourceSyncRun)).scalar_one()
    assert not run.ok and run.error.startswith("bad.csv: 8 problems, nothing written: line 3")


def test_long_form_problems(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", "date,metric,value\n"
                 "2026-10-01,gmv,1\n"
                 "2026-10-01,gvm,1\n"  # unknown metric
                 "2026-10-01,orders,\n"  # no value
                 "2026-10-01,,5\n")  # no metric
    report = import_file(db, registry, path)
    assert report.problem_lines() == [
        "line 3, column \"metric\": unknown metric 'gvm'",
        'line 4, column "value": no value',
        'line 5, column "metric": no metric',
    ]
    assert fact_count(db) == 0


def test_header_problems(db: Database, registry: Registry, tmp_path: Path) -> None:
    unknown = write(tmp_path, "h1.csv", "date,gmv,gvm,gmv\n2026-10-01,1,2,3\n")
    assert import_file(db, registry, unknown).problem_lines() == [
        'line 1 (header), column "gvm": not a known metric, date or member column (a mapping in the KPI file '
        "can pick the columns of any export)",
        "line 1 (header), column \"gmv\": metric gmv again (already in column 'gmv')",
    ]
    no_date = write(tmp_path, "h2.csv", "day_of_week,gmv\nmon,1\n")
    assert "no header row with a date (or 日期) column" in import_file(db, registry, no_date).problem_lines()[0]
    empty = write(tmp_path, "h3.csv", "")
    assert import_file(db, registry, empty).problem_lines() == ["file: is empty: no header row and no data"]
    half_long = write(tmp_path, "h4.csv", "date,metric\n2026-10-01,gmv\n")
    assert "needs both a metric and a value column" in import_file(db, registry, half_long).problem_lines()[0]
    assert fact_count(db) == 0


def test_unreadable_files(db: Database, registry: Registry, tmp_path: Path) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    assert "save it as .xlsx or CSV" in import_file(db, registry, xls).problem_lines()[0]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert "not a readable .xlsx file" in import_file(db, registry, broken).problem_lines()[0]
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes([0x81, 0x30, 0xFF, 0xFF, 0x00]) * 10)
    assert "not UTF-8 or GBK text" in import_file(db, registry, binary).problem_lines()[0]
    assert "no such file" in import_file(db, registry, tmp_path / "missing.csv").problem_lines()[0]


def test_listing_is_capped_for_huge_bad_files(db: Database, registry: Registry, tmp_path: Path) -> None:
    rows = "".join(f"2026-10-01,m{i},oops\n" for i in range(500))
    path = write(tmp_path, "many.csv", "date,member,gmv\n" + rows)
    report = import_file(db, registry, path)
    assert report.problem_count == 500
    lines = report.problem_lines()
    assert len(lines) == PROBLEM_LIMIT + 1
    assert lines[0].startswith("line 2,") and lines[PROBLEM_LIMIT - 1].startswith(f"line {PROBLEM_LIMIT + 1},")
    assert lines[-1] == f"… and {500 - PROBLEM_LIMIT} more"


def test_large_file_streams_into_one_transaction(db: Database, registry: Registry, tmp_path: Path) -> None:
    # 50,000 rows: 100 members × 500 days, gmv 1.5 each.
    path = tmp_path / "big.csv"
    start = date(2025, 1, 1).toordinal()
    with path.open("w", encoding="utf-8") as handle:
        handle.write("date,member,gmv\n")
        for day in range(500):
            iso = date.fromordinal(start + day).isoformat()
            handle.writelines(f"{iso},m{member}@x.com,1.5\n" for member in range(100))
    progress: list[tuple[int, int | None]] = []
    report = import_file(db, registry, path, on_progress=lambda done, total: progress.append((done, total)))
    assert report.ok and report.rows_read == 50_000
    assert report.diff.new == 50_000
    with db.session() as session:
        sums = dict(session.execute(select(Fact.metric, func.sum(Fact.value)).group_by(Fact.metric)).all())
    assert sums == {"gmv": pytest.approx(75_000.0)}  # 50,000 × 1.5
    size = path.stat().st_size
    assert len(progress) >= 10 and progress[-1] == (size, size)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_a_bad_last_row_of_a_large_file_leaves_nothing(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "big-bad.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("date,member,gmv\n")
        handle.writelines(f"2026-10-01,m{i},1\n" for i in range(12_000))
        handle.write("2026-10-01,last,oops\n")
    report = import_file(db, registry, path)
    assert report.problem_lines() == ["line 12002, column \"gmv\": 'oops' is not a number"]
    assert fact_count(db) == 0


def test_memory_stays_flat_while_streaming(registry: Registry, tmp_path: Path) -> None:
    """20,000 rows held at once would take well over 8 MB (dicts of 5 fields each); streaming in
    chunks of 5,000 stays under it. SQLite only: the bound is about our code, not the driver."""
    import tracemalloc

    db = Database(f"sqlite:///{tmp_path / 'mem.db'}")
    db.upgrade()
    path = tmp_path / "mem.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("date,member,gmv\n")
        handle.writelines(f"2026-10-01,member-{i}@example.com,{i}.25\n" for i in range(20_000))
    tracemalloc.start()
    try:
        report = import_file(db, registry, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        db.dispose()
    assert report.ok and report.diff.new == 20_000
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
