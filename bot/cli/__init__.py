"""`kpibot` command line: the commands are in bot/cli/commands.py (Typer).

`main` answers a plain `kpibot status WORDS…` (no options) itself, the same answer the `status` command
prints, without importing Typer and building every command: a tenth of a second of a one-shot answer's start.
Anything else — options, `--help`, other commands — goes to the Typer app."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.cli.commands import app

__all__ = ["app", "main"]


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["status"] and not any(arg.startswith("-") for arg in args):
        from bot.cli.status import status_answer

        print(status_answer(args[1:], None))
        return
    from bot.cli.commands import app

    app()


def __getattr__(name: str) -> object:
    if name == "app":  # `from bot.cli import app`, as before the commands moved to bot/cli/commands.py
        from bot.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
