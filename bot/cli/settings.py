"""The settings every `kpibot` subcommand starts from, or a one-line error and exit code 2."""

from __future__ import annotations

import typer

from storage.settings import Settings, SettingsError, load_settings


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        typer.echo(f"kpibot: {error}", err=True)
        raise typer.Exit(2) from None
