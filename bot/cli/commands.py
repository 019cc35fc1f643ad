"""The `kpibot` commands (Typer): db, kpis, status, console, demo, serve (and import/sources from bot.cli.data).
`bot.cli.main` runs them; a plain `kpibot status WORDS…` is answered there without loading Typer."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from bot.cli import data, fx
from bot.cli.settings import settings_or_exit
from storage.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="kpibot — team KPIs in Slack and Feishu.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
kpis_app = typer.Typer(no_args_is_help=True, help="KPI and role definitions.")
app.add_typer(db_app, name="db")
app.add_typer(kpis_app, name="kpis")


def _print_version(value: bool) -> None:
    if value:
        from bot import __version__

        typer.echo(f"kpibot {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    pass


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration."""
    from storage.db import Database, head_revision

    settings = settings_or_exit()
    if Database(settings.database_url).upgrade():
        typer.echo(f"database upgraded to {head_revision()}")
    else:
        typer.echo(f"database is up to date ({head_revision()})")


@app.command()
def doctor() -> None:
    """Check settings, database, migrations, the KPI file and each configured platform's credentials."""
    from bot.cli.doctor import run_checks

    checks = run_checks()
    for check in checks:
        typer.echo(check.line())
    raise typer.Exit(0 if all(check.ok for check in checks) else 1)


@kpis_app.command("list")
def kpis_list() -> None:
    """Print the KPIs and roles in force (built-ins plus KPIBOT_KPIS_FILE)."""
    from bot.cli.kpis import print_registry

    print_registry(_registry_or_exit(settings_or_exit()))


@kpis_app.command("check")
def kpis_check(file: Path) -> None:
    """Validate a KPI file; report every problem with file, key and reason."""
    from bot.cli.kpis import check_file

    raise typer.Exit(check_file(file))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def status(ctx: typer.Context, lang: str = typer.Option(None, help="en or zh")) -> None:
    """Answer the same words as chat, e.g. `kpibot status gmv month role:host`."""
    from bot.cli.status import status_answer

    typer.echo(status_answer(ctx.args, lang))


@app.command()
def console(
    as_user: str = typer.Option(None, "--as", help="email or id to act as"),
    lang: str = typer.Option(None, help="en or zh"),
) -> None:
    """Chat with the bot in the terminal (one command per line when piped)."""
    from bot import console as console_adapter
    from bot.runtime import build_runtime

    runtime = build_runtime(settings_or_exit(), with_platforms=False)
    console_adapter.run(runtime.core, as_user, lang)


@app.command()
def demo(
    database: Path = typer.Option(Path("kpibot-demo.db"), help="SQLite file for the demo workspace (rebuilt)"),
    out: Path = typer.Option(Path("demo-out"), help="folder for the demo digest and charts"),
) -> None:
    """Build a demo workspace and print a few answers (non-interactive)."""
    from bot.demo import run_demo

    run_demo(database, out, sys.stdout)


@app.command()
def serve() -> None:
    """Run the HTTP server, the scheduler and the platform connections."""
    from bot.logs import configure_logging
    from bot.serve import serve_forever

    settings = settings_or_exit()
    configure_logging(settings)
    code = serve_forever(settings)
    logging.shutdown()
    if code:
        os._exit(code)  # work still running past the grace period must not hold the process
    raise typer.Exit(0)


def _registry_or_exit(settings: Settings):  # type: ignore[no-untyped-def]
    from storage.kpi.registry import KpiFileError, load_registry

    try:
        return load_registry(settings.kpis_file or None)
    except KpiFileError as error:
        typer.echo(f"kpibot: KPIBOT_KPIS_FILE has problems:\n{error}", err=True)
        raise typer.Exit(2) from None


data.register(app)
fx.register(app)
