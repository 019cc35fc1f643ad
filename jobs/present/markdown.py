"""A neutral Reply as Markdown (the digest `.md` files): headline figures as a list, tables as Markdown tables,
footnotes as a list. Cells keep their text; `|` and line breaks are escaped so a cell never breaks its row.
Columns of figures are right-aligned (`---:`), the others left; `aligned` pads every cell to its column's
width (CJK characters count two) so the table also reads as a table in a terminal (the console)."""

from __future__ import annotations

from jobs.present.formatting import display_width
from jobs.present.reply import Reply, Table, numeric_columns


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


def table_markdown(table: Table, *, aligned: bool = False) -> list[str]:
    width = len(table.columns)
    numeric = numeric_columns(table)
    header = [_cell(c) for c in table.columns]
    body = []
    for index, row in enumerate(table.rows):
        cells = [_cell(c) for c in [*row[:width], *([""] * (width - len(row)))]]
        mark = table.marks[index] if index < len(table.marks) else None
        if mark is not None:
            cells[0] = f"{mark.emoji} {cells[0]}"
        body.append(cells)
    least = [4 if numeric[i] else 3 for i in range(width)]  # room for the rule: `---` or `---:`
    if aligned:
        widths = [max(least[i], *(display_width(r[i]) for r in (header, *body))) for i in range(width)]
    else:
        widths = least

    def line(cells: list[str]) -> str:
        if not aligned:
            return "| " + " | ".join(cells) + " |"
        padded = [" " * (widths[i] - display_width(c)) + c if numeric[i] else c + " " * (widths[i] - display_width(c))
                  for i, c in enumerate(cells)]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (widths[i] - 1) + ":" if numeric[i] else "-" * widths[i] for i in range(width)]
    out = [f"### {_cell(table.title)}", ""] if table.title and not aligned else []
    if table.title and aligned:
        out = [_cell(table.title)]
    return [*out, line(header), "| " + " | ".join(rule) + " |", *(line(cells) for cells in body)]


def console_table(table: Table) -> list[str]:
    """A table as the console prints it (`Reply.plain_text(table_lines=console_table)`)."""
    return table_markdown(table, aligned=True)


def _cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")
