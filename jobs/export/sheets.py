"""Sheets to CSV (UTF-8 with BOM, so Excel opens Chinese text correctly) or XLSX (openpyxl), as reply attachments.

Text from users or data never becomes a formula (CSV injection): in a CSV a cell starting with `=`, `+`, `-`,
`@`, a tab or a carriage return gets a leading apostrophe (a number written as text, `-10.0%`, is left alone);
in an XLSX such a cell is written as a string with Excel's quote prefix, so it shows exactly as written and is
never evaluated. Numbers stay numbers; a column may carry an Excel number format (`0.0%`, `#,##0.00`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from jobs.present.reply import Attachment

Cell = str | float | int | None
MAX_SHEET_NAME = 31  # Excel's limit
# The smallest of the platforms' upload limits: DingTalk media files 20 MB (Feishu im/v1/files 30 MB, Slack 1 GB).
MAX_EXPORT_BYTES = 20 * 1024 * 1024
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FILE_NAME_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass
class Sheet:
    name: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    formats: dict[int, str] = field(default_factory=dict)  # column index → Excel number format


def looks_like_formula(value: Cell) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number_text(value)


def _csv_text(value: Cell) -> Cell:
    return "'" + value if looks_like_formula(value) and isinstance(value, str) else value


def _is_number_text(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d[\d,]*(\.\d+)?%?", value))


def to_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(c) for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow(["" if cell is None else _csv_text(cell) for cell in row])
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
    from openpyxl import Workbook  # here, not at the top: every answer loads this module, few export
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for sheet, name in zip(sheets, sheet_names([s.name for s in sheets]), strict=True):
        ws = workbook.create_sheet(name)
        ws.append(list(sheet.columns))
        for row in sheet.rows:
            ws.append(list(row))
        for row_cells in ws.iter_rows():
            for cell in row_cells:
                if looks_like_formula(cell.value):  # openpyxl would write it as a formula: keep it text
                    cell.data_type = "s"
                    cell.quotePrefix = True
                elif cell.row > 1 and (fmt := sheet.formats.get(cell.column - 1)) and isinstance(cell.value,
                                                                                                  int | float):
                    cell.number_format = fmt
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            widest = max([len(str(column)), *(len(str(r[index - 1])) for r in sheet.rows if index <= len(r))])
            ws.column_dimensions[ws.cell(1, index).column_letter].width = min(max(widest + 2, 8), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(*parts: str, extension: str) -> str:
    """`kpibot-board-gmv-host-2026-11.xlsx`: the parts joined by `-`, anything but letters, digits, `.`, `_`
    and `-` replaced, so the name is safe on every platform and file system."""
    clean = [_FILE_NAME_UNSAFE.sub("_", part).strip("_.") or "_" for part in ("kpibot", *parts)]
    return "-".join(clean) + "." + extension


def xlsx_attachment(name: str, sheets: list[Sheet], title: str = "") -> Attachment:
    return Attachment(name=name, data=to_xlsx(sheets), mime=XLSX_MIME, title=title or name)


def csv_attachment(name: str, sheet: Sheet, title: str = "") -> Attachment:
    return Attachment(name=name, data=to_csv(sheet), mime=CSV_MIME, title=title or name)
