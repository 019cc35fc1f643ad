"""The console adapter: `kpibot console` — the same command path as Slack and Feishu, in a terminal.

Interactive on a terminal (history, Ctrl-D to leave); one command per line when standard input is
a pipe or a file, so it can be scripted.
"""

from __future__ import annotations

import getpass
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.core.bot import KpiBot
from bot.core.messages import T
from bot.core.request import CommandRequest, UserRef, extract_typed_mentions
from jobs.present.markdown import console_table
from jobs.present.reply import Reply


def console_user(as_user: str | None) -> UserRef:
    """Bare: the local operator (an admin). `--as EMAIL`: that person, with their permissions only."""
    if as_user is None:
        name = getpass.getuser()
        return UserRef("console", name, display_name=name, operator=True)
    return named_user(as_user)


def named_user(name: str) -> UserRef:
    return UserRef("console", name, email=name if "@" in name else None, display_name=name)


# One console run is one conversation: a follow-up (`and last week?`) inherits the previous question.
SESSION = f"console:{uuid.uuid4().hex[:12]}"


def to_request(line: str, user: UserRef, lang: str | None) -> CommandRequest:
    """`@alice@shop.com` or `@alice` in a line becomes a mention of that console user."""
    text, mentions = extract_typed_mentions(line, named_user)
    return CommandRequest(text=text, user=user, channel="console", mentions=mentions,
                          lang=lang, conversation=SESSION)


def answer(core: KpiBot, line: str, user: UserRef, lang: str | None, folder: Path | None = None) -> str:
    """The reply as text, tables as aligned Markdown tables; files it carries (exports) are written into
    `folder` (default: the current directory) and their paths printed after it."""
    reply = core.handle(to_request(line, user, lang))
    lines = [reply.plain_text(table_lines=console_table)]
    lines += [T("file_written", reply.lang, path=str(path)) for path in write_files(reply, folder or Path.cwd())]
    return "\n".join(lines)


def write_files(reply: Reply, folder: Path) -> list[Path]:
    """Each attachment as a file in `folder` under its own name (a file of that name is replaced)."""
    written = []
    for file in reply.files:
        path = folder / Path(file.name).name  # the name only: never a path out of the folder
        path.write_bytes(file.data)
        written.append(path.resolve())
    return written


def run_script(core: KpiBot, lines: Iterable[str], user: UserRef, lang: str | None, out: TextIO,
               folder: Path | None = None) -> int:
    count = 0
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        out.write(f"> {line}\n{answer(core, line, user, lang, folder)}\n\n")
        count += 1
    return count


def run_interactive(core: KpiBot, user: UserRef, lang: str | None) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    history = Path.home() / ".kpibot_history"
    session: PromptSession[str] = PromptSession(history=FileHistory(str(history)))
    print("kpibot console — type `help`, Ctrl-D to leave.")
    while True:
        try:
            line = session.prompt("kpi> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        if line.strip():
            print(answer(core, line, user, lang))


def run(core: KpiBot, as_user: str | None, lang: str | None) -> None:
    user = console_user(as_user)
    if sys.stdin.isatty():
        run_interactive(core, user, lang)
    else:
        run_script(core, sys.stdin, user, lang, sys.stdout)
