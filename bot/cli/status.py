"""`kpibot status WORDS…`, answered by `bot.cli.main` (no options: without Typer) and by Typer's `status` command."""

from __future__ import annotations


def status_answer(words: list[str], lang: str | None) -> str:
    """The chat answer to the words (`status` without any), as the console shows it."""
    from bot.cli.settings import settings_or_exit
    from bot.console import answer, console_user
    from bot.runtime import build_runtime

    runtime = build_runtime(settings_or_exit(), with_platforms=False)
    return answer(runtime.core, " ".join(words) or "status", console_user(None), lang)
