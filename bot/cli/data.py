"""`kpibot import FILE`, `kpibot sources`, `kpibot sync NAME` — data in, and how fresh it is."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

PROGRESS_MIN_BYTES = 256 * 1024  # about 5,000 rows of a typical export


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("sources")(sources_command)
    app.command("sync")(sync_command)


def import_command(
    file: Path = typer.Argument(..., help="CSV (UTF-8 or GBK) or XLSX file"),
    source: str = typer.Option(None, "--source", help="source name stored with the facts (default: import)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check the file and show what would change; write nothing"),
    mapping: str = typer.Option(None, "--mapping", help="a column mapping from the KPI file's mappings:"),
) -> None:
    """Import actuals from a file, all or nothing: long (date,metric,value[,member]) or wide
    (date[,member],gmv,orders,…) form, or any export through --mapping."""
    from jobs.ingest import ImportSetupError, import_file

    settings, db, registry = _open()
    try:
        with _progress(file) as on_progress:
            report = import_file(db, registry, file, source=source, mapping=mapping, dry_run=dry_run,
                                 tz=settings.tz, on_progress=on_progress, currency=settings.currency)
    except ImportSetupError as error:
        typer.echo(f"kpibot import: {error}", err=True)
        raise typer.Exit(2) from None
    except Exception as error:  # the database went away, the disk filled …: say so, no traceback
        typer.echo(f"kpibot import: {file.name} was not imported ({type(error).__name__}: "
                   f"{' '.join(str(error).split())[:300]}); nothing was written.", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    for line in import_summary(report):
        typer.echo(line, err=not report.ok)
    raise typer.Exit(0 if report.ok else 1)


def import_summary(report: Any) -> list[str]:
    """What `kpibot import` prints: the outcome, then the counts or every listed problem."""
    if not report.ok:
        noun = "problem" if report.problem_count == 1 else "problems"
        return [f"{report.name} was not imported: {report.problem_count:,} {noun}, nothing was written.",
                *(f"  {line}" for line in report.problem_lines())]
    summary, diff = report.summary, report.diff
    if summary.values == 0:
        head = f"{report.name}: no data rows"
    else:
        span = (f"{summary.first_date}" if summary.first_date == summary.newest_date
                else f"{summary.first_date} … {summary.newest_date}")
        members = f"; {summary.members} member{'s' if summary.members != 1 else ''}" if summary.members else ""
        head = (f"{report.rows_read:,} rows → {summary.values:,} values for {span} "
                f"({', '.join(summary.metrics)}{members}; {report.layout} form)")
    if report.dry_run:
        return [f"Dry run — {report.name} is valid for source {report.source!r}: {head}.",
                f"  would add {diff.new:,} · change {diff.changed:,} · leave {diff.unchanged:,} unchanged. "
                "Nothing was written."]
    return [f"Imported {report.name} into source {report.source!r}: {head}.",
            f"  new {diff.new:,} · changed {diff.changed:,} · unchanged {diff.unchanged:,}"]


def sources_command() -> None:
    """List every data source: last successful sync, newest data date, stale or failing."""
    from jobs.sources import source_states

    settings, db, registry = _open()
    try:
        states = source_states(db, registry, datetime.now(settings.tz).date())
    finally:
        db.dispose()
    if not states:
        typer.echo("No data sources yet. Push with the API, run `kpibot import FILE`, "
                   "or add sources: to the KPI file.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Data sources", title_justify="left")
    for column in ("Source", "Kind", "Last success", "Data through", "Status", "Last error"):
        table.add_column(column, overflow="fold")
    for state in states:
        table.add_row(state.name, state.kind, _when(state.last_success, settings.tz), _day(state.newest_date),
                      state_label(state), state.last_error or "")
    Console(width=160).print(table)


def state_label(state: Any) -> str:
    parts = []
    if state.failing_streak:
        parts.append(f"failing ({state.failing_streak} in a row)")
    if state.stale:
        parts.append("stale: no data yet" if state.newest_date is None
                     else f"stale (older than {state.expected_lag_days} days)")
    return ", ".join(parts) or "ok"


def sync_command(
    name: str = typer.Argument(..., help="a source from the KPI file's sources:"),
    since: str = typer.Option(None, "--since", help="SQL sources: re-read from this date (YYYY-MM-DD), a backfill"),
) -> None:
    """Sync one configured source now (the scheduler does this on each source's schedule)."""
    from jobs.sources import UnknownSource, configured_sources, sync_source

    settings, db, registry = _open()
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError:
        typer.echo("kpibot sync: --since expects a date such as 2026-10-01", err=True)
        raise typer.Exit(2) from None
    fetch = None
    config = next((c for c in configured_sources(registry) if c.name == name), None)
    if config is not None and config.kind == "bitable" and settings.feishu_enabled:
        from bot.feishu.bitable import make_bitable_fetch

        fetch = make_bitable_fetch(settings)
    try:
        outcome = sync_source(db, registry, settings, name, bitable_fetch=fetch, since=since_date)
    except UnknownSource as error:
        typer.echo(f"kpibot sync: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if not outcome.ok:
        typer.echo(f"Sync of {name} failed: {outcome.error}", err=True)
        raise typer.Exit(1)
    diff = outcome.diff
    typer.echo(f"Synced {name}: {outcome.rows_read} rows; new {diff.new} · changed {diff.changed} · "
               f"unchanged {diff.unchanged} · removed {diff.removed}; data through {_day(outcome.newest_date)}.")
    if outcome.folder is not None:
        folder = outcome.folder
        typer.echo(f"  files imported {len(folder.imported)} · already imported {len(folder.already_imported)}")


def _open():
    from storage.db import Database
    from storage.kpi.registry import KpiFileError, load_registry
    from storage.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        registry = load_registry(settings.kpis_file or None)
    except SettingsError as error:
        typer.echo(f"kpibot: {error}", err=True)
        raise typer.Exit(2) from None
    except KpiFileError as error:
        typer.echo(f"kpibot: KPIBOT_KPIS_FILE has problems:\n{error}", err=True)
        raise typer.Exit(2) from None
    db = Database(settings.database_url)
    db.upgrade()
    return settings, db, registry


class _progress:
    """A rich progress bar for big files (transient: it leaves no trace in a log); else no-op."""

    def __init__(self, file: Path) -> None:
        self.enabled = file.is_file() and file.stat().st_size >= PROGRESS_MIN_BYTES
        self.bar: Any = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            TimeRemainingColumn(), transient=True)
        self.bar.start()
        task = self.bar.add_task("reading", total=None)

        def on_progress(done: int, total: int | None) -> None:
            finished = total is not None and done >= total  # then the checked rows are being written
            self.bar.update(task, completed=done, total=total, description="writing" if finished else "reading")

        return on_progress

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _when(moment: datetime | None, tz: Any) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "never"


def _day(day: date | None) -> str:
    return day.isoformat() if day else "no data"
