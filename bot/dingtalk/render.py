"""Neutral `Reply` → DingTalk markdown (and StandardCard JSON when it has buttons).

DingTalk markdown has no tables: its documented subset is headings, quotes, bold, italics, links, images,
ordered and unordered lists (and `<font>`), PLATFORM-NOTES-2 §4 and open.dingtalk.com's message-type page as
quoted there. So a table becomes one list line per row, the most readable of what renders: the first cell
in bold, then `column: value` pairs, the row's mark last. Charts are `![title](media_id)`
(uploaded beforehand). Every text from users or data is escaped first: no link (`[x](url)`, a bare
URL, an HTML tag) and no mention (`@all`, `@所有人`, `@phone`) can come from it, and nothing here ever
sets `isAtAll`. Messages stay under the 15,000-byte `msgParam` limit (the longest tables are cut).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.messages import T as core_text
from jobs.present.i18n import Catalog
from jobs.present.reply import Action, Reply, Table

MESSAGE_LIMIT_BYTES = 14_000  # msgParam ≤ 15,000 bytes with its JSON wrapping
LINE_BREAK = "  \n"  # DingTalk markdown keeps a line break only with two spaces before it
ZERO_WIDTH = "\u200b"
BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_ESCAPES = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞", "@": "@" + ZERO_WIDTH})
_URL_PARTS = re.compile(r"(?i)(://|www\.)")

# DingTalk's own wording; shared adapter wording (working, text-only hint, more rows …) is in bot.core.messages.
T = Catalog({
    "target_form": ("DingTalk has no form for this here. Set a target with a command, e.g. "
                    "`target set gmv 1.2m team month` (KPI, value, then optionally scope and period).",
                    "钉钉这里没有表单。请用命令设置目标，例如 `target set gmv 120万 team month`"
                    "（KPI、数值，再可选范围和周期）。"),
})


def escape(text: str) -> str:
    """User or data text made inert: brackets and angle brackets become full-width, `@` and URL
    schemes get a zero-width space so DingTalk neither mentions nor links."""
    return _URL_PARTS.sub(lambda m: m.group(1)[0] + ZERO_WIDTH + m.group(1)[1:], text.translate(_ESCAPES))


def markdown_text(text: str) -> str:
    """A reply paragraph (markdown-light: *bold*, `code`) escaped, then its own bold restored."""
    return BOLD.sub(r"**\1**", escape(text))


def reply_markdown(reply: Reply, media_ids: Sequence[str] = ()) -> tuple[str, str]:
    """(title, text) of a DingTalk markdown message; the title shows in the chat list and notifications."""
    title = escape(reply.title)
    head = f"#### {reply.mark.emoji + ' ' if reply.mark else ''}{title}"
    tables = list(reply.tables)
    while True:
        text = LINE_BREAK.join(_body_lines(reply, head, tables, media_ids))
        if len(text.encode("utf-8")) <= MESSAGE_LIMIT_BYTES or not any(table.rows for table in tables):
            return title[:60], text
        tables = _cut_longest(tables, reply.lang)


def _body_lines(reply: Reply, head: str, tables: list[Table], media_ids: Sequence[str]) -> list[str]:
    lines = [head]
    if reply.text:
        lines.extend(markdown_text(line) for line in reply.text.splitlines())
    for figure in reply.figures:
        mark = f" {figure.mark.emoji}" if figure.mark else ""
        lines.append(f"- **{escape(figure.label)}**: {escape(figure.value)}{mark}")
    for table in tables:
        lines.extend(table_lines(table))
    for media_id, chart in zip(media_ids, reply.charts, strict=False):
        lines.append(f"![{escape(chart.title or chart.name)}]({media_id})")
    lines.extend(f"· {escape(note)}" for note in reply.footnotes)
    return lines


def table_lines(table: Table) -> list[str]:
    lines = [f"**{escape(table.title)}**"] if table.title else []
    for index, row in enumerate(table.rows):
        mark = table.marks[index] if index < len(table.marks) else None
        first, *rest = row or [""]
        pairs = " · ".join(f"{escape(column)}: {escape(cell)}" for column, cell in zip(table.columns[1:], rest,
                                                                                        strict=False) if cell)
        suffix = f" {mark.emoji}" if mark is not None else ""
        lines.append(f"- **{escape(first)}**{' — ' + pairs if pairs else ''}{suffix}")
    return lines


def _cut_longest(tables: list[Table], lang: str) -> list[Table]:
    longest = max(range(len(tables)), key=lambda i: len(tables[i].rows))
    table = tables[longest]
    keep = len(table.rows) // 2
    cut = len(table.rows) - keep
    note_row = [core_text("more_rows", lang, n=cut)] + [""] * (len(table.columns) - 1)
    trimmed = Table(table.columns, [*table.rows[:keep], note_row], table.marks[:keep], table.title)
    return [*tables[:longest], trimmed, *tables[longest + 1:]]


# -- interactive cards (buttons) -------------------------------------------------------------------


def button_id(action: Action) -> str:
    """The button's id carries the action back in the card callback (`actionIds`)."""
    return f"{action.action_id}|{action.value}"


def parse_button_id(text: str) -> tuple[str, str] | None:
    action_id, sep, value = text.partition("|")
    return (action_id, value) if sep and action_id else None


def reply_card(reply: Reply, media_ids: Sequence[str] = ()) -> dict[str, Any]:
    """A StandardCard: the markdown body, then one row of `request` buttons (callbacks)."""
    title, text = reply_markdown(reply, media_ids)
    card: dict[str, Any] = {
        "config": {"autoLayout": True, "enableForward": True},
        "header": {"title": {"type": "text", "text": title}},
        "contents": [{"type": "markdown", "text": text, "id": "kpibot_body"}],
    }
    if reply.actions:
        card["contents"].append({
            "type": "action",
            "id": "kpibot_actions",
            "actions": [
                {
                    "type": "button",
                    "label": {"type": "text", "text": escape(action.label)[:20], "id": f"label_{index}"},
                    "actionType": "request",
                    "status": "primary" if action.style == "primary" else "normal",
                    "id": button_id(action),
                }
                for index, action in enumerate(reply.actions)
            ],
        })
    return card
