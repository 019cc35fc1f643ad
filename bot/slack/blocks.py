"""Neutral `Reply` → Block Kit, within Slack's limits.

Layout: header (mark emoji + title) · text sections · figures as section fields · the first table that
fits as a native `table` block (bot/slack/tables.py), the others as monospace sections · footnotes as a
context line · buttons. `text` always carries the complete plain-text rendering (notifications, screen
readers, clients without blocks). Limits: ≤ 50 blocks per message (100 on Home / modals), header ≤ 150
chars, section text ≤ 3000, ≤ 10 fields of ≤ 2000, button label ≤ 75; an over-long reply is cut at a
block boundary with a visible notice.
"""

from __future__ import annotations

from typing import Any

from bot.core.messages import T
from bot.slack.tables import native_table_block
from jobs.present.reply import Action, Figure, Reply, Table

MESSAGE_BLOCK_LIMIT = 50
SURFACE_BLOCK_LIMIT = 100  # App Home and modals
HEADER_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
FIELDS_PER_SECTION = 10
FIELD_TEXT_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 2000
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
BUTTONS_PER_BLOCK = 25
FALLBACK_TEXT_LIMIT = 40000

# Two buttons in one actions block may not share an action_id: the second gets `::1` appended.
ACTION_SUFFIX = "::"

Block = dict[str, Any]


def message_payload(reply: Reply, *, max_blocks: int = MESSAGE_BLOCK_LIMIT) -> dict[str, Any]:
    """`text` + `blocks` for chat.postMessage / chat.update / slash-command responses."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply, max_blocks=max_blocks)}


def fallback_text(reply: Reply) -> str:
    """`text` is mrkdwn too: escaped like the blocks, or a `<!channel>` typed by a user would ping."""
    return clip(escape(reply.plain_text()), FALLBACK_TEXT_LIMIT)


def reply_blocks(reply: Reply, *, max_blocks: int = MESSAGE_BLOCK_LIMIT) -> list[Block]:
    head = [header_block(reply)]
    body: list[Block] = []
    if reply.text and reply.text.strip():
        body.extend(mrkdwn_sections(escape(reply.text)))
    body.extend(figure_sections(reply.figures))
    native_used = False
    for table in reply.tables:
        native = None if native_used else native_table_block(table)
        if native is None:
            body.extend(table_sections(table))
            continue
        native_used = True
        if table.title:
            body.append(title_section(table.title))
        body.append(native)
    tail: list[Block] = []
    if reply.footnotes:
        tail.append(context_block(reply.footnotes))
    tail.extend(action_blocks(reply.actions))
    room = max_blocks - len(head) - len(tail)
    if len(body) > room:
        body = [*body[: max(room - 1, 0)], context_block([truncation_notice(reply.lang)])]
    return [*head, *body, *tail][:max_blocks]


def header_block(reply: Reply) -> Block:
    title = reply.title.strip() or "kpibot"
    text = f"{reply.mark.emoji} {title}" if reply.mark else title
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_LIMIT), "emoji": True}}


def mrkdwn_sections(text: str) -> list[Block]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in split_lines(text, SECTION_TEXT_LIMIT)
    ]


def figure_sections(figures: list[Figure]) -> list[Block]:
    fields = [
        {
            "type": "mrkdwn",
            "text": clip(
                f"*{escape(fig.label)}*\n{escape(fig.value)}" + (f" {fig.mark.emoji}" if fig.mark else ""),
                FIELD_TEXT_LIMIT,
            ),
        }
        for fig in figures
    ]
    return [
        {"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]}
        for start in range(0, len(fields), FIELDS_PER_SECTION)
    ]


def table_sections(table: Table) -> list[Block]:
    """A table as aligned monospace lines, split into sections of ≤ 3000 chars."""
    blocks: list[Block] = []
    if table.title:
        blocks.append(title_section(table.title))
    fence = "```"
    room = SECTION_TEXT_LIMIT - 2 * len(fence) - 2
    for chunk in split_lines(escape("\n".join(table_lines(table))), room):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{fence}\n{chunk}\n{fence}"}})
    return blocks


def title_section(title: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(f"*{escape(title)}*", SECTION_TEXT_LIMIT)}}


def table_lines(table: Table) -> list[str]:
    from jobs.present.formatting import display_width, pad

    rows = [table.columns, *table.rows]
    widths = [max(display_width(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(table.columns))]
    lines = []
    for index, row in enumerate(rows):
        cells = [pad(cell, widths[i]) for i, cell in enumerate(row[: len(widths)])]
        line = "  ".join(cells).rstrip()
        mark = table.marks[index - 1] if index > 0 and index - 1 < len(table.marks) else None
        lines.append(f"{line} {mark.emoji}" if mark else line)
    return lines


def context_block(notes: list[str]) -> Block:
    text = clip("  ·  ".join(escape(note) for note in notes), CONTEXT_TEXT_LIMIT)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def action_blocks(actions: list[Action]) -> list[Block]:
    blocks: list[Block] = []
    for start in range(0, len(actions), BUTTONS_PER_BLOCK):
        seen: dict[str, int] = {}
        elements = []
        for action in actions[start : start + BUTTONS_PER_BLOCK]:
            count = seen.get(action.action_id, 0)
            seen[action.action_id] = count + 1
            elements.append(button(action, suffix=count))
        blocks.append(
            {"type": "actions", "block_id": f"kpi_actions_{start // BUTTONS_PER_BLOCK}", "elements": elements}
        )
    return blocks


def button(action: Action, *, suffix: int = 0) -> Block:
    action_id = action.action_id if suffix == 0 else f"{action.action_id}{ACTION_SUFFIX}{suffix}"
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": clip(action.label, BUTTON_LABEL_LIMIT), "emoji": True},
        "value": action.value[:BUTTON_VALUE_LIMIT],
    }
    if action.style in ("primary", "danger"):
        element["style"] = action.style
    return element


def routed_action_id(slack_action_id: str) -> str:
    """The core's action id behind a button's Slack action_id (undoes the de-duplicating suffix)."""
    return slack_action_id.split(ACTION_SUFFIX, 1)[0]


def truncation_notice(lang: str) -> str:
    return T("cut_to_fit", lang)


def escape(text: str) -> str:
    """Slack mrkdwn control characters; `*bold*` passes through. With no `<` left, no `<!here>`,
    `<@U…>`, `<#C…>` or `<https://…|link>` can come out of user or data text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_lines(text: str, limit: int) -> list[str]:
    """Cut `text` into chunks of ≤ `limit` chars, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()] or [" "]
