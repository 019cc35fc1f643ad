"""`kpibot fx import FILE` and `kpibot fx list`: exchange rates into KPIBOT_CURRENCY by day or month."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import typer

fx_app = typer.Typer(no_args_is_help=True, help="Exchange rates into KPIBOT_CURRENCY (by day or month).")


def register(app: typer.Typer) -> None:
    app.add_typer(fx_app, name="fx")


@fx_app.command("import")
def fx_import(file: Path = typer.Argument(..., help="CSV with columns currency,period,rate (period YYYY-MM or a day)")
              ) -> None:
    """Read every rate of the file; any bad line rejects the file (each listed), nothing written."""
    from bot.cli.settings import settings_or_exit
    from storage.db import Database
    from storage.repositories.fx import FxProblem, RateSpan, rate_span, set_rates

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        typer.echo(f"kpibot fx import: cannot read {file.name} ({error})", err=True)
        raise typer.Exit(2) from None
    spans: list[RateSpan] = []
    problems: list[str] = []
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or not {"currency", "period", "rate"} <= {f.strip().lower() for f in rows.fieldnames}:
        typer.echo(f"kpibot fx import: {file.name}: expected a header currency,period,rate", err=True)
        raise typer.Exit(1)
    for line, row in enumerate(rows, start=2):
        cells = {str(k).strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            rate = float(cells["rate"].replace(",", ""))
        except ValueError:
            problems.append(f"line {line}: rate must be a number, got {cells['rate']!r}")
            continue
        try:
            spans.append(rate_span(cells["currency"], cells["period"], rate))
        except FxProblem as error:
            problems.append(f"line {line}: {error}")
    if problems:
        typer.echo(f"kpibot fx import: {file.name} was not imported; nothing was written:", err=True)
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    settings = settings_or_exit()
    with Database(settings.database_url).session() as session:
        count = set_rates(session, spans, set_by="cli")
    typer.echo(f"{count} rate(s) into {settings.currency} stored from {file.name}")


@fx_app.command("list")
def fx_list(day: str = typer.Option(None, "--date", help="YYYY-MM-DD (default: today)")) -> None:
    """The rate in force for each currency on a day."""
    from bot.cli.settings import settings_or_exit
    from storage.db import Database
    from storage.repositories.fx import rates_in_force

    settings = settings_or_exit()
    when = date.fromisoformat(day) if day else date.today()
    with Database(settings.database_url).session() as session:
        spans = rates_in_force(session, when)
    if not spans:
        typer.echo(f"No exchange rates in force on {when}. Add them with `kpibot fx import FILE`.")
    for span in spans:
        typer.echo(f"1 {span.currency} = {span.rate:g} {settings.currency}  ({span.period_key})")
