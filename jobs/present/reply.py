"""The neutral reply: what every surface (console, Slack, Feishu, file outbox) renders.

Every string in a reply is already in the reply's language and already formatted; renderers
only lay it out. A renderer never computes a figure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Mark(StrEnum):
    """Status of a KPI against its pace."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"

    @property
    def emoji(self) -> str:
        return {"on_track": "🟢", "at_risk": "🟡", "off_track": "🔴"}.get(self.value, "⚪")

    @property
    def colour(self) -> str:
        """Card header colour name understood by Feishu (green/yellow/red/grey)."""
        return {"on_track": "green", "at_risk": "yellow", "off_track": "red"}.get(self.value, "grey")


class ReplyKind(StrEnum):
    ANSWER = "answer"          # a figure or table the user asked for
    CONFIRMATION = "confirmation"  # a write was accepted
    REFUSAL = "refusal"        # a write was refused (permissions)
    ERROR = "error"            # bad input: says which field and what was expected
    HINT = "hint"              # not understood: names the closest commands
    HELP = "help"
    NOTICE = "notice"          # scheduled posts: digests, alerts


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    mark: Mark | None = None


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    marks: Sequence[Mark | None] = field(default_factory=list)  # one per row, may be empty
    title: str | None = None


# A figure as the formatters write it: "$12.2K", "75.0%", "+9.4%", "1,200", "$1.2万", "S$80", "3.2x", "-2.5 pp".
_FIGURE = re.compile(r"[-+−]?(?:[$¥€£₫฿]|S\$|RM|Rp)?\s?[-+−]?\d[\d,]*(?:\.\d+)?\s?(?:%|[KMB]|万|亿|x|×|pp)?",
                     re.IGNORECASE)
_NOT_A_VALUE = {"", "–", "—", "-", "n/a"}  # how a missing figure is shown
_MARKS = "🟢🟡🔴⚪🥇🔻"


def is_figure(cell: str) -> bool:
    return bool(_FIGURE.fullmatch(cell.strip(_MARKS + " ")))


def numeric_columns(table: Table) -> list[bool]:
    """Per column: whether it holds figures (every filled cell one, at least one filled). Each surface right-aligns
    those — Slack `column_settings`, Feishu `horizontal_align`, Markdown `---:` — and keeps names, statuses and
    dates left."""
    out = []
    for index in range(len(table.columns)):
        cells = [str(row[index]).strip(_MARKS + " ") for row in table.rows if index < len(row)]
        filled = [cell for cell in cells if cell not in _NOT_A_VALUE]
        out.append(bool(filled) and all(is_figure(cell) for cell in filled))
    return out


@dataclass(frozen=True)
class Action:
    """A button. `action_id` is stable (adapters route on it); `value` travels back unchanged."""

    action_id: str
    label: str
    value: str
    style: str | None = None  # "primary" | "danger" | None


@dataclass(frozen=True)
class Chart:
    """A rendered chart (PNG bytes) attached to a reply."""

    name: str  # file name, e.g. "gmv-pace.png"
    png: bytes
    title: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply (an export): Slack, Feishu and DingTalk upload it into the conversation,
    the console writes it to disk. `data` is the whole file."""

    name: str  # file name with its extension, e.g. "kpibot-board-gmv-host-2026-11.xlsx"
    data: bytes
    mime: str
    title: str = ""

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""


@dataclass
class Reply:
    title: str
    lang: str = "en"
    kind: ReplyKind = ReplyKind.ANSWER
    mark: Mark | None = None
    figures: list[Figure] = field(default_factory=list)
    text: str | None = None  # free paragraph (help, errors, hints); markdown-light: *bold* only
    tables: list[Table] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)  # exports: uploaded after the message
    public: bool = False  # Slack: post in channel instead of ephemeral
    form: str | None = None  # ask the surface to open a form, e.g. "target" (modal / form card)

    def plain_text(self, *, table_lines: Callable[[Table], list[str]] | None = None) -> str:
        """A complete plain-text rendering: the `text` fallback of rich surfaces, and the console's output
        (which passes `table_lines`: tables as aligned Markdown tables, jobs.present.markdown.console_table)."""
        lines = [f"{self.mark.emoji + ' ' if self.mark else ''}{self.title}"]
        if self.text:
            lines.append(self.text)
        for fig in self.figures:
            mark = f" {fig.mark.emoji}" if fig.mark else ""
            lines.append(f"  {fig.label}: {fig.value}{mark}")
        for table in self.tables:
            lines.extend((table_lines or _table_lines)(table))
        for note in self.footnotes:
            lines.append(f"  · {note}")
        return "\n".join(lines)


def _table_lines(table: Table) -> list[str]:
    from jobs.present.formatting import display_width, pad

    rows = [table.columns, *table.rows]
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(table.columns))]
    out = [table.title] if table.title else []
    for index, row in enumerate(rows):
        mark = ""
        if index > 0 and table.marks and table.marks[index - 1] is not None:
            mark = " " + table.marks[index - 1].emoji  # type: ignore[union-attr]
        out.append("  " + "  ".join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() + mark)
    return out
