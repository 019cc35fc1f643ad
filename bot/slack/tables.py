"""A neutral Table as Slack's native `table` block, when it fits (PLATFORM-NOTES-2 §6): at most 100 rows
(the header included) of at most 20 cells, `raw_text` cells. A message may show one table block, so only a
reply's first fitting table is native; the others (and any table past the limits) stay monospace sections."""

from __future__ import annotations

from typing import Any

from jobs.present.reply import Table, numeric_columns

MAX_TABLE_ROWS = 100  # including the header row
MAX_TABLE_CELLS = 20
MAX_CELL_TEXT = 1000  # keeps one table well inside the message's aggregate text budget

Block = dict[str, Any]


def fits_native(table: Table) -> bool:
    return (0 < len(table.columns) <= MAX_TABLE_CELLS and len(table.rows) + 1 <= MAX_TABLE_ROWS
            and all(len(row) <= MAX_TABLE_CELLS for row in table.rows))


def native_table_block(table: Table) -> Block | None:
    """The `table` block, or None when the table is beyond Slack's limits (use the monospace fallback)."""
    if not fits_native(table):
        return None
    width = len(table.columns)
    rows = [[_cell(text) for text in table.columns]]
    for index, row in enumerate(table.rows):
        cells = [*row[:width], *([""] * (width - len(row)))]
        mark = table.marks[index] if index < len(table.marks) else None
        if mark is not None:
            cells[-1] = f"{cells[-1]} {mark.emoji}".strip()
        rows.append([_cell(text) for text in cells])
    settings = [{"align": "right" if numeric else "left", "is_wrapped": i == 0}
                for i, numeric in enumerate(numeric_columns(table))]
    return {"type": "table", "rows": rows, "column_settings": settings}


def _cell(text: str) -> Block:
    """raw_text is shown as written: no mrkdwn, so user text cannot mention or link anyone."""
    return {"type": "raw_text", "text": (str(text) or " ")[:MAX_CELL_TEXT]}
