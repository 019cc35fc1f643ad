"""A neutral Reply as Markdown (the digest `.md` files): headline figures as a list, tables as Markdown tables,
footnotes as a list. Cells keep their text; `|` and line breaks are escaped so a cell never breaks its row."""

from __future__ import annotations

from jobs.present.reply import Reply, Table


def reply_markdown(reply: Reply) -> str:
    lines = [f"# {reply.title}", ""]
    if reply.mark:
        lines += [reply.mark.emoji, ""]
    if reply.text:
        lines += [reply.text, ""]
    if reply.figures:
        lines += [f"- **{_cell(f.label)}:** {_cell(f.value)}{' ' + f.mark.emoji if f.mark else ''}"
                  for f in reply.figures]
        lines.append("")
    for table in reply.tables:
        lines += [*table_markdown(table), ""]
    if reply.footnotes:
        lines += [f"- {_cell(note)}" for note in reply.footnotes]
        lines.append("")
    return "\n".join(lines)


def table_markdown(table: Table) -> list[str]:
    width = len(table.columns)
    out = [f"### {_cell(table.title)}", ""] if table.title else []
    out.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
    out.append("|" + "|".join([" --- "] + [" ---: "] * (width - 1)) + "|")
    for index, row in enumerate(table.rows):
        cells = [_cell(c) for c in [*row[:width], *([""] * (width - len(row)))]]
        mark = table.marks[index] if index < len(table.marks) else None
        if mark is not None:
            cells[0] = f"{mark.emoji} {cells[0]}"
        out.append("| " + " | ".join(cells) + " |")
    return out


def _cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")
