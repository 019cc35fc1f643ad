"""The command registry: every chat command is declared once, and everything else is derived.

A declaration names the command's words in English and Chinese, its subcommands, how each one
reads its arguments, the handler that answers it, its usage, help text and examples in both
languages, and whether it needs an admin. From the declarations come the parser's dispatch
(`CommandRegistry.group_for_word`), the handler table (`CommandRegistry.spec_for`), `help`, the
did-you-mean vocabulary (`CommandRegistry.words`) and the permission check (`Subcommand.admin`).

Declarations live in the modules of `bot/handlers/`: any module there with a module-level
`COMMANDS` list is picked up at start-up (`bot.handlers.command_registry`). Adding a read
command is one new module — for example `bot/handlers/streak.py`:

    from dataclasses import dataclass

    from bot.handlers.context import Context
    from bot.language.commands import Command
    from bot.language.parser import Parser
    from bot.language.registry import Bilingual, CommandGroup, Subcommand
    from jobs.present.reply import Reply


    @dataclass(frozen=True)
    class Streak(Command):
        kpi: str


    def read(parser: Parser, words: list[str], request) -> Streak:
        found = parser.scan(words, request)          # KPI, scope, period, values … wherever they stand
        parser.reject_unknown(found, "streak")       # an unknown word → "did you mean …" + usage
        return Streak(kpi=parser.one_kpi(found, default=True, topic="streak"))


    def streak(ctx: Context, cmd: Streak) -> Reply:
        result = ctx.services.engine.status(ctx.services.registry.kpis[cmd.kpi], ...)
        return Reply(title=ctx.t("…"), lang=ctx.lang, text=...)


    COMMANDS = [CommandGroup(
        name="streak", words=("streak", "连续"),
        summary=Bilingual("Days in a row on track.", "连续达标天数。"),
        subcommands=(Subcommand(command=Streak, read=read, handle=streak,
                                usage=Bilingual("streak [KPI]", "streak [指标]")),),
        examples=Bilingual("streak gmv", "连续 GMV"),
    )]

A group with several subcommands lists one `Subcommand` per action, each with its `name` and the
`words` that select it (`target set` / `目标 设置`); `default` is the one run when nothing follows the
command word (another first word is an error that lists the subcommands). An admin-only subcommand
sets `admin=True`, `audit="group.action"`, `subject` (what the refusal's audit entry names) and,
unless the catalogue has `what_<group>`, `what=Bilingual("notes", "备注")` (or a catalogue key suffix
such as `what="baseline"`); the core refuses a
non-admin (audited) before the handler runs, inside the question's one unit of work (`ctx.session()`).

tests/test_registry.py then covers the new command without being edited: `help NAME` in both
languages, every example run on the demo workspace as an admin (they must answer, not err), and
every admin subcommand — which must appear among the English examples — refused for a non-admin
on every surface. A command word must be new: the registry refuses a clash at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.language.commands import Command

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.core.request import CommandRequest
    from bot.language.parser import Parser

# (parser, the words after the command's own words, the request) → a parsed command; raises ParseError.
ReadArguments = Callable[["Parser", list[str], "CommandRequest"], Command]
# (context, parsed command) → a Reply. Typed loosely so this module does not import the handlers' context.
Handle = Callable[[Any, Any], Any]
# (context, the question's session, parsed command) → the subject an audited refusal names.
Subject = Callable[[Any, "Session", Any], str]


@dataclass(frozen=True)
class Bilingual:
    """One text in English and Chinese; several texts (examples) separated by " · "."""

    en: str
    zh: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def items(self, lang: str) -> list[str]:
        return [part for part in self(lang).split(" · ") if part]


@dataclass(frozen=True)
class Subcommand:
    """One action of a command group: `target set`, `role list`, or a group's only action."""

    command: type[Command]
    read: ReadArguments
    handle: Handle
    name: str = ""  # canonical subcommand word ("set"); "" for a group without subcommands
    words: tuple[str, ...] = ()  # further words selecting it, English and Chinese ("设置", "设定")
    usage: Bilingual | None = None
    admin: bool = False
    audit: str = ""  # the audit action of a refusal, e.g. "target.set"
    subject: Subject | None = None  # what the refusal's audit entry names
    # What a refusal says it changes: Bilingual("notes", "备注"), or a catalogue key suffix ("baseline" →
    # what_baseline in bot/core/messages.py); default: what_<group> if the catalogue has it, else the group name.
    what: Bilingual | str | None = None

    def all_words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.lower() for w in (self.name, *self.words) if w))


@dataclass(frozen=True)
class CommandGroup:
    """A command as users know it (`target`, `目标`), with its subcommands and help."""

    name: str  # canonical verb and help topic
    words: tuple[str, ...]  # every word that starts it, English and Chinese (the name is included)
    summary: Bilingual  # one line in `help`
    subcommands: tuple[Subcommand, ...]
    examples: Bilingual  # run as tests against the demo workspace
    default: str | None = None  # subcommand when none is written (a group without subcommands: its only one)
    order: int = 100  # position in `help`; ties by name
    extra_commands: tuple[Subcommand, ...] = ()  # reachable without a word of their own (target form)
    anywhere: bool = False  # its words also count later in a question: "GMV为什么下降", "上周有什么异常"

    def all_words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.lower() for w in (self.name, *self.words)))

    @property
    def has_subcommands(self) -> bool:
        return any(sub.name for sub in self.subcommands)

    def subcommand_for(self, word: str) -> Subcommand | None:
        low = word.lower()
        return next((sub for sub in self.subcommands if sub.name and low in sub.all_words()), None)

    def subcommand_named(self, name: str | None) -> Subcommand | None:
        candidates = (*self.subcommands, *self.extra_commands)
        return next((sub for sub in candidates if sub.name == (name or "")), None)

    def choices(self) -> str:
        return ", ".join(sub.name for sub in self.subcommands if sub.name)

    def usage(self, lang: str) -> str:
        parts = [sub.usage(lang) for sub in (*self.subcommands, *self.extra_commands) if sub.usage]
        return " · ".join(parts)


@dataclass
class CommandRegistry:
    """All declared groups, checked for clashes when built."""

    groups: list[CommandGroup] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.groups = sorted(self.groups, key=lambda g: (g.order, g.name))
        self._by_word: dict[str, CommandGroup] = {}
        self._by_type: dict[type[Command], tuple[CommandGroup, Subcommand]] = {}
        for group in self.groups:
            for word in group.all_words():
                if word in self._by_word:
                    raise ValueError(f"command word {word!r} of {group.name!r} is already {self._by_word[word].name!r}")
                self._by_word[word] = group
            for sub in (*group.subcommands, *group.extra_commands):
                if sub.command in self._by_type:
                    raise ValueError(f"{sub.command.__name__} is declared twice")
                self._by_type[sub.command] = (group, sub)
                if sub.admin and not sub.audit:
                    raise ValueError(f"admin command {sub.command.__name__} needs an audit action")

    @classmethod
    def of(cls, groups: Iterable[CommandGroup]) -> CommandRegistry:
        return cls(list(groups))

    def group_for_word(self, word: str) -> CommandGroup | None:
        return self._by_word.get(word.lower())

    def group(self, name: str | None) -> CommandGroup | None:
        return next((g for g in self.groups if g.name == name), None)

    def spec_for(self, command: type[Command]) -> tuple[CommandGroup, Subcommand]:
        return self._by_type[command]

    def words(self) -> set[str]:
        """Every command and subcommand word: the tokenizer's and the did-you-mean vocabulary."""
        found = set(self._by_word)
        for group in self.groups:
            for sub in group.subcommands:
                found |= set(sub.all_words())
        return found

    def usage(self, topic: str | None, lang: str) -> str | None:
        group = self.group(topic)
        return group.usage(lang) if group else None

    def admin_commands(self) -> list[tuple[CommandGroup, Subcommand]]:
        return [(g, s) for g in self.groups for s in (*g.subcommands, *g.extra_commands) if s.admin]
