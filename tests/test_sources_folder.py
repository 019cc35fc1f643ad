"""Drop folder: good files to done/, bad ones to failed/ with an errors file, each file imported once."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.sources import sync_source
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import Fact, ImportedFile, SourceSyncRun
from storage.settings import Settings

GOOD = "Date,Creator,GMV,Orders\n2026-10-01,alice,100,2\n2026-10-02,alice,50,1\n"


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


@pytest.fixture
def registry(tmp_path: Path, drop: Path) -> Registry:
    kpis = tmp_path / "kpis.yaml"
    kpis.write_text("""
mappings:
  tiktok-live:
    date: Date
    member: Creator
    columns: {GMV: gmv, Orders: orders}
sources:
  shop-drop:
    kind: folder
    path: drop            # relative to the KPI file
    mapping: tiktok-live
    settle_seconds: 0
""", encoding="utf-8")
    return load_registry(kpis)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    return make_settings(KPIBOT_KPIS_FILE=str(tmp_path / "kpis.yaml"))


def gmv_total(db: Database) -> float:
    with db.session() as session:
        return float(session.execute(select(func.coalesce(func.sum(Fact.value), 0)).where(Fact.metric == "gmv"))
                     .scalar_one())


def test_good_file_to_done_bad_file_to_failed_with_errors(
    db: Database, registry: Registry, settings: Settings, drop: Path
) -> None:
    (drop / "good.csv").write_text(GOOD, encoding="utf-8")
    (drop / "bad.csv").write_text("Date,Creator,GMV,Orders\n2026-10-03,bob,lots,1\n", encoding="utf-8")
    (drop / "notes.pdf").write_bytes(b"%PDF-1.4")
    outcome = sync_source(db, registry, settings, "shop-drop", today=date(2026, 10, 3))
    assert not outcome.ok  # a rejected file makes the run a failure: never silent
    assert outcome.folder is not None
    assert outcome.folder.imported == ["good.csv"]
    assert sorted(outcome.folder.failed) == ["bad.csv", "notes.pdf"]
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == []
    assert (drop / "done" / "good.csv").is_file()
    errors = (drop / "failed" / "bad.csv.errors.txt").read_text(encoding="utf-8")
    assert "line 2, column \"GMV\": 'lots' is not a number" in errors
    assert "nothing was written" in errors
    assert "is not a CSV or XLSX file" in (drop / "failed" / "notes.pdf.errors.txt").read_text(encoding="utf-8")
    assert gmv_total(db) == 150.0  # good.csv: 100 + 50; nothing from bad.csv
    with db.session() as session:
        facts_source = session.execute(select(Fact.source).distinct()).scalars().all()
        run = session.execute(select(SourceSyncRun)).scalar_one()
    assert facts_source == ["shop-drop"]
    assert (run.kind, run.ok, run.rows_written, run.newest_date) == ("folder", False, 4, date(2026, 10, 2))
    assert "bad.csv" in run.error and "notes.pdf" in run.error


def test_the_same_file_twice_is_imported_once(
    db: Database, registry: Registry, settings: Settings, drop: Path
) -> None:
    (drop / "daily.csv").write_text(GOOD, encoding="utf-8")
    assert sync_source(db, registry, settings, "shop-drop").ok
    (drop / "daily.csv").write_text(GOOD, encoding="utf-8")  # dropped again, same name and content
    outcome = sync_source(db, registry, settings, "shop-drop")
    assert outcome.ok and outcome.folder is not None
    assert outcome.folder.already_imported == ["daily.csv"] and outcome.folder.imported == []
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["daily-2.csv", "daily.csv"]  # nothing overwritten
    assert gmv_total(db) == 150.0
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(ImportedFile)).scalar_one() == 1


def test_a_failed_file_fixed_and_dropped_again_is_imported(
    db: Database, registry: Registry, settings: Settings, drop: Path
) -> None:
    (drop / "daily.csv").write_text("Date,Creator,GMV,Orders\n2026-10-01,alice,oops,2\n", encoding="utf-8")
    assert not sync_source(db, registry, settings, "shop-drop").ok
    (drop / "daily.csv").write_text(GOOD, encoding="utf-8")
    outcome = sync_source(db, registry, settings, "shop-drop")
    assert outcome.ok and outcome.folder is not None and outcome.folder.imported == ["daily.csv"]
    assert gmv_total(db) == 150.0


def test_files_still_being_copied_wait_for_the_next_scan(
    db: Database, tmp_path: Path, settings: Settings, drop: Path
) -> None:
    registry = load_registry(_write_kpis(tmp_path, settle_seconds=60))  # an inline mapping, absolute path
    (drop / "fresh.csv").write_text(GOOD, encoding="utf-8")
    old = drop / "old.csv"
    old.write_text(GOOD.replace("2026-10-0", "2026-09-0"), encoding="utf-8")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    (drop / "upload.csv.part").write_text(GOOD, encoding="utf-8")
    outcome = sync_source(db, registry, settings, "shop-drop")
    assert outcome.folder is not None and outcome.folder.imported == ["old.csv"]
    assert (drop / "fresh.csv").exists() and (drop / "upload.csv.part").exists()


def _write_kpis(tmp_path: Path, settle_seconds: int) -> Path:
    kpis = tmp_path / "kpis-settle.yaml"
    kpis.write_text(f"""
sources:
  shop-drop:
    kind: folder
    path: {tmp_path / 'drop'}
    date: Date
    member: Creator
    columns: {{GMV: gmv, Orders: orders}}
    settle_seconds: {settle_seconds}
""", encoding="utf-8")
    return kpis


def test_missing_folder_fails_with_a_clear_error(db: Database, registry: Registry, settings: Settings,
                                                  drop: Path) -> None:
    drop.rmdir()
    outcome = sync_source(db, registry, settings, "shop-drop")
    assert not outcome.ok and "does not exist" in outcome.error
