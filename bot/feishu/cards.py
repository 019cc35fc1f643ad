"""Neutral `Reply` → Feishu message content: a card (JSON 2.0) or, for a one-line hint, text.

Card layout, top to bottom: header (title, colour from the reply's mark), the free text, the
figures two per row (`column_set`), each table as a `table` component (at most five per card and
50 columns each, Feishu's limits; further or wider tables as markdown lines; columns of figures
right-aligned; cells are `text`, shown as written, so nothing in them renders as markdown or
mentions anyone), charts as `img` (image keys uploaded beforehand), buttons with `callback`
behaviours, footnotes in small grey text. JSON 2.0 rejects unknown properties, so only documented
ones are used. A card stays under 30 KB: the longest tables are cut first, with a footnote saying
how many rows were left out.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

from bot.core.messages import T
from jobs.present.reply import Action, Figure, Reply, ReplyKind, Table, numeric_columns

CARD_LIMIT_BYTES = 30 * 1024
MAX_TABLE_COMPONENTS = 5  # Feishu's limit per card
MAX_TABLE_COLUMNS = 50  # Feishu shows no column past the 50th
TABLE_PAGE_SIZE = 10  # Feishu's maximum rows per table page
TEXT_LIMIT_CHARS = 4000
PLAIN_KINDS = {ReplyKind.HINT, ReplyKind.ERROR, ReplyKind.REFUSAL}
KIND_COLOURS = {
    ReplyKind.CONFIRMATION: "green",
    ReplyKind.REFUSAL: "red",
    ReplyKind.ERROR: "orange",
}
BUTTON_TYPES = {"primary": "primary_filled", "danger": "danger"}
BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")


def message_content(reply: Reply, image_keys: Sequence[str] = ()) -> tuple[str, str]:
    """(msg_type, content) for the im/v1 message APIs; `content` is the JSON string they take."""
    if is_plain(reply):  # text messages show markdown raw: drop the code ticks around examples
        return "text", json.dumps({"text": escape_text(reply.plain_text().replace("`", ""))}, ensure_ascii=False)
    return "interactive", card_json(reply_card(reply, image_keys))


def is_plain(reply: Reply) -> bool:
    """True when a card adds nothing: a short hint, refusal or error with no figures or buttons."""
    rich = reply.figures or reply.tables or reply.actions or reply.charts or reply.footnotes
    return (
        reply.kind in PLAIN_KINDS
        and not rich
        and reply.mark is None
        and reply.form is None
        and len(reply.plain_text().splitlines()) <= 2
        and len(reply.plain_text()) <= 300
    )


def card_json(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False, separators=(",", ":"))


def card_size(card: dict[str, Any]) -> int:
    return len(card_json(card).encode("utf-8"))


def reply_card(reply: Reply, image_keys: Sequence[str] = ()) -> dict[str, Any]:
    tables = [copy.deepcopy(table) for table in reply.tables]
    left_out = 0
    while True:
        card = _build(reply, tables, image_keys, left_out)
        if card_size(card) <= CARD_LIMIT_BYTES or not any(t.rows for t in tables):
            break
        longest = max(tables, key=lambda t: len(t.rows))
        cut = max(1, len(longest.rows) // 4)
        left_out += cut
        tables[tables.index(longest)] = Table(
            columns=longest.columns,
            rows=longest.rows[: len(longest.rows) - cut],
            marks=longest.marks[: max(0, len(longest.rows) - cut)],
            title=longest.title,
        )
    if card_size(card) > CARD_LIMIT_BYTES:  # still too big: long free text
        short = copy.copy(reply)
        short.text = (reply.text or "")[: TEXT_LIMIT_CHARS // 4] + " …"
        card = _build(short, tables, image_keys, left_out)
    return card


def header(title: str, template: str) -> dict[str, Any]:
    return {"title": {"tag": "plain_text", "content": title[:150]}, "template": template}


def markdown(content: str, *, size: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"tag": "markdown", "content": content}
    if size:
        element["text_size"] = size
    return element


_MARKDOWN_ENTITIES = str.maketrans({"&": "&amp;", "<": "&#60;", ">": "&#62;", "[": "&#91;", "]": "&#93;"})


def escape(text: str) -> str:
    """Card markdown treats `<…>` as tags (`<at id=all>`, `<a>`, `<font>`) and `[label](url)` as a link:
    show them as typed (HTML entities, as Feishu's markdown documents), and break the `://` that
    would auto-link a bare URL."""
    return text.translate(_MARKDOWN_ENTITIES).replace("://", "&#58;//")


def escape_text(text: str) -> str:
    """A text message parses `<at user_id="all">` but no entities: a zero-width space after every
    `<` keeps the text as it reads and no tag can form."""
    return text.replace("<", "<\u200b")


def rich_text(text: str) -> str:
    """The reply's markdown-light (`*bold*`) → card markdown (`**bold**`)."""
    return BOLD.sub(r"**\1**", escape(text))


def button(action: Action, lang: str) -> dict[str, Any]:
    """A button whose callback brings back the action id, its value and the card's language."""
    value = {"action_id": action.action_id, "value": action.value, "lang": lang}
    return {
        "tag": "button",
        "text": {"tag": "plain_text", "content": action.label},
        "type": BUTTON_TYPES.get(action.style or "", "default"),
        "behaviors": [{"type": "callback", "value": value}],
    }


def _build(reply: Reply, tables: list[Table], image_keys: Sequence[str], left_out: int) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    if reply.text:
        elements.append(markdown(rich_text(reply.text[:TEXT_LIMIT_CHARS])))
    elements.extend(_figure_rows(reply.figures))
    components = 0
    for table in tables:
        native = components < MAX_TABLE_COMPONENTS and 0 < len(table.columns) <= MAX_TABLE_COLUMNS
        components += native
        elements.extend(_table(table, as_component=native))
    for chart, key in zip(reply.charts, image_keys, strict=False):
        label = chart.title or chart.name
        elements.append({
            "tag": "img",
            "img_key": key,
            "alt": {"tag": "plain_text", "content": label},
            "title": {"tag": "plain_text", "content": label},
            "scale_type": "fit_horizontal",
            "preview": True,
        })
    if reply.actions:
        elements.append({
            "tag": "column_set",
            "horizontal_spacing": "8px",
            "columns": [
                {"tag": "column", "width": "auto", "elements": [button(action, reply.lang)]} for action in reply.actions
            ],
        })
    notes = list(reply.footnotes)
    if left_out:
        notes.append(T("more_rows", reply.lang, n=left_out))
    if notes:
        lines = "\n".join(f"<font color='grey'>{escape(note)}</font>" for note in notes)
        elements.append(markdown(lines, size="notation"))
    if not elements:
        elements.append(markdown(escape(reply.title)))
    title = f"{reply.mark.emoji} {reply.title}" if reply.mark else reply.title
    return {
        "schema": "2.0",
        "config": {"update_multi": True, "summary": {"content": title[:100]}},
        "header": header(title, _colour(reply)),
        "body": {"elements": elements},
    }


def _colour(reply: Reply) -> str:
    if reply.mark is not None:
        return reply.mark.colour
    return KIND_COLOURS.get(reply.kind, "blue")


def _figure_rows(figures: list[Figure]) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(figures), 2):
        pair = figures[start : start + 2]
        columns = [
            {"tag": "column", "width": "weighted", "weight": 1, "elements": [markdown(_figure_text(f))]}
            for f in pair
        ]
        rows.append({"tag": "column_set", "horizontal_spacing": "12px", "columns": columns})
    return rows


def _figure_text(figure: Figure) -> str:
    mark = f" {figure.mark.emoji}" if figure.mark else ""
    return f"<font color='grey'>{escape(figure.label)}</font>\n**{escape(figure.value)}**{mark}"


def _table(table: Table, *, as_component: bool) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if table.title:
        elements.append(markdown(f"**{escape(table.title)}**"))
    rows = [_marked_row(table, index, row) for index, row in enumerate(table.rows)]
    if not as_component:
        lines = [" · ".join(escape(cell) for cell in table.columns)]
        lines += [" · ".join(escape(cell) for cell in row) for row in rows]
        elements.append(markdown("\n".join(lines)))
        return elements
    names = [f"c{index}" for index in range(len(table.columns))]
    numeric = numeric_columns(table)
    elements.append({
        "tag": "table",
        "page_size": max(1, min(TABLE_PAGE_SIZE, len(rows))),
        "row_height": "low",
        "freeze_first_column": True,
        "header_style": {"background_style": "grey", "bold": True},
        "columns": [
            {"name": name, "display_name": column, "data_type": "text", "width": "auto",
             "horizontal_align": "right" if right else "left"}
            for name, column, right in zip(names, table.columns, numeric, strict=False)
        ],
        "rows": [dict(zip(names, row, strict=False)) for row in rows],
    })
    return elements


def _marked_row(table: Table, index: int, row: list[str]) -> list[str]:
    mark = table.marks[index] if index < len(table.marks) else None
    if mark is None or not row:
        return list(row)
    return [f"{mark.emoji} {row[0]}", *row[1:]]
