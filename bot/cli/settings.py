"""The settings every `kpibot` subcommand starts from, or a one-line error and exit code 2."""

from __future__ import annotations

import sys

from storage.settings import Settings, SettingsError, load_settings


def settings_or_exit() -> Settings:
    """Plain stderr and SystemExit rather than Typer's echo and Exit: `kpibot status` answers without Typer
    (bot/cli/__init__.py); under Typer a SystemExit ends the process with its code just the same."""
    try:
        return load_settings()
    except SettingsError as error:
        print(f"kpibot: {error}", file=sys.stderr)
        raise SystemExit(2) from None
