"""Sheets to CSV (UTF-8 with BOM, so Excel opens Chinese text correctly) or XLSX (openpyxl, write-only)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Font

Cell = str | float | int | None
MAX_SHEET_NAME = 31  # Excel's limit
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# A cell starting with these is run as a formula by spreadsheet programs: text from users or data is kept
# as text by a leading apostrophe (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    name: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class ExportFile:
    name: str  # e.g. board-gmv-host-2026-11.xlsx
    data: bytes
    mime: str


def _safe_text(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number_text(value):
        return "'" + value
    return value


def _is_number_text(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d[\d,]*(\.\d+)?%?", value))


def to_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_safe_text(c) for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow(["" if cell is None else _safe_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def sheet_names(names: list[str]) -> list[str]:
    """Excel-safe, unique sheet names (≤ 31 characters, no []:*?/\\)."""
    out: list[str] = []
    for index, name in enumerate(names, start=1):
        clean = _BAD_SHEET_CHARS.sub(" ", name).strip().strip("'") or f"Sheet{index}"
        candidate = clean[:MAX_SHEET_NAME]
        suffix = 2
        while candidate.lower() in {n.lower() for n in out}:
            tail = f" ({suffix})"
            candidate = clean[:MAX_SHEET_NAME - len(tail)] + tail
            suffix += 1
        out.append(candidate)
    return out


def to_xlsx(sheets: list[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for sheet, name in zip(sheets, sheet_names([s.name for s in sheets]), strict=True):
        ws = workbook.create_sheet(name)
        ws.append([_safe_text(c) for c in sheet.columns])
        for cell in ws[1]:
            cell.font = bold
        for row in sheet.rows:
            ws.append([_safe_text(cell) for cell in row])
        ws.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            widest = max([len(str(column)), *(len(str(r[index - 1])) for r in sheet.rows if index <= len(r))])
            ws.column_dimensions[ws.cell(1, index).column_letter].width = min(max(widest + 2, 8), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
