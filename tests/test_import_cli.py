"""`kpibot import` and `kpibot sources` as a user runs them (Typer's CliRunner, real database)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.data import register

KPI_FILE = """
mappings:
  tiktok-live:
    date: Date
    member: Creator
    columns: {GMV: gmv, Orders: orders}
"""


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    kpis = tmp_path / "kpis.yaml"
    kpis.write_text(KPI_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # never a developer's .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KPIBOT_KPIS_FILE", str(kpis))
    monkeypatch.setenv("KPIBOT_TIMEZONE", "Asia/Shanghai")
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [*args])


def test_import_dry_run_then_real_then_sources(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sample = tmp_path / "sample.csv"
    sample.write_text("date,member,gmv,orders\n2026-10-01,alice@example.com,1200,6\n2026-10-02,,300,2\n",
                      encoding="utf-8")
    dry = cli("import", str(sample), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run — sample.csv is valid for source 'import'" in dry.output
    assert "would add 4 · change 0 · leave 0 unchanged. Nothing was written." in dry.output
    real = cli("import", str(sample), "--source", "shop-csv")
    assert real.exit_code == 0, real.output
    assert ("Imported sample.csv into source 'shop-csv': 2 rows → 4 values for 2026-10-01 … 2026-10-02 "
            "(gmv, orders; 1 member; wide form).") in real.output
    assert "new 4 · changed 0 · unchanged 0" in real.output
    listing = cli("sources")
    assert listing.exit_code == 0
    row = next(line for line in listing.output.splitlines() if "shop-csv" in line)
    assert "import" in row and "2026-10-02" in row and "stale" in row  # data from 2026 is old by now


def test_rejected_file_exits_1_listing_lines(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("date,gmv\n2026-10-01,1\n2026-10-02,abc\n", encoding="utf-8")
    result = cli("import", str(bad))
    assert result.exit_code == 1
    assert "bad.csv was not imported: 1 problem, nothing was written." in result.output
    assert "line 3, column \"gmv\": 'abc' is not a number" in result.output
    assert "Traceback" not in result.output


def test_mapping_option_and_setup_errors(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "export.csv"
    export.write_text("Date,Creator,GMV,Orders,Viewers\n2026-10-01,alice,10,1,100\n", encoding="utf-8")
    assert cli("import", str(export), "--mapping", "tiktok-live").exit_code == 0
    unknown = cli("import", str(export), "--mapping", "nope")
    assert unknown.exit_code == 2 and "no mapping called 'nope'" in unknown.output


def test_sources_with_nothing_yet(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("sources")
    assert result.exit_code == 0
    assert "No data sources yet" in result.output
