"""Rows of a CSV or XLSX file, streamed with their line numbers (never the whole file in memory).

CSV: UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode text"), or GBK/GB18030 as Chinese
tools export it; comma, semicolon or tab separated (guessed from the first line). One encoding per
file: a file whose lines do not all decode under it (UTF-8 rows pasted into a GBK file, or the other
way round) is refused naming the first line that differs, never read as a silent mix.
XLSX: the first sheet (or a named one), read-only, with Excel dates as dates. A formula cell saved
without its computed value (files written by scripts, or never opened in Excel) is refused naming the
cell; a cell merged down several rows (a member's name beside each of their rows) is read in every row
of the range as the range's first cell, and a number merged over several cells is refused, since
repeating it would count it more than once.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20
csv.field_size_limit(1 << 24)


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message says why (no stack trace, no path guessing)."""


class TableFile:
    """Rows of one file: `rows()` yields (line number, cells); `progress()` is (done, total) in
    units that only make sense together (bytes for CSV, rows for XLSX)."""

    label = "line"

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        raise NotImplementedError

    def progress(self) -> tuple[int, int | None]:
        raise NotImplementedError


def open_table(path: Path, sheet: str | None = None) -> TableFile:
    if not path.is_file():
        raise FileProblem(f"{path.name}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise FileProblem(f"{path.name}: the old .xls format is not supported; save it as .xlsx or CSV")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if suffix in XLSX_SUFFIXES or (suffix not in CSV_SUFFIXES and magic == ZIP_MAGIC):
        return XlsxTable(path, sheet)
    return CsvTable(path)


class CsvTable(TableFile):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.encoding = detect_encoding(path)
        self._raw: BinaryIO | None = None

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        with self.path.open("rb") as raw:
            self._raw = raw
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            first = text.readline()
            delimiter = guess_delimiter(first)
            text.seek(0)
            reader = csv.reader(text, delimiter=delimiter)
            try:
                for cells in reader:
                    yield reader.line_num, cells
            except csv.Error as exc:
                raise FileProblem(f"line {reader.line_num}: not valid CSV ({exc})") from None
            finally:
                self._raw = None

    def progress(self) -> tuple[int, int | None]:
        done = self._raw.tell() if self._raw is not None else self.size
        return done, self.size


def detect_encoding(path: Path) -> str:
    """utf-8-sig when the whole file decodes as UTF-8; GB18030 (a superset of GBK) when no line of it is
    UTF-8 text; FileProblem naming the first line that breaks the file's encoding otherwise."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(path, "utf-8-sig"):
        return "utf-8-sig"
    first_utf8, first_other = _first_lines_by_encoding(path)
    if first_utf8 is not None and first_other is not None and first_utf8 < first_other:
        raise FileProblem(f"{path.name}: line {first_other} is not UTF-8 text like line {first_utf8} before it; "
                          "the file mixes encodings — save all of it as CSV UTF-8")
    if first_utf8 is not None and first_other is not None:
        raise FileProblem(f"{path.name}: line {first_utf8} is UTF-8 text while line {first_other} before it is "
                          "GBK; the file mixes encodings — save all of it as CSV UTF-8")
    bad = _first_undecodable_line(path, "gb18030")
    if bad is not None:
        raise FileProblem(f"{path.name}: line {bad} is not UTF-8 or GBK text; save the file as CSV UTF-8 or as .xlsx")
    return "gb18030"


def _first_lines_by_encoding(path: Path) -> tuple[int | None, int | None]:
    """(first line that is non-ASCII UTF-8, first line that is not UTF-8), 1-based; None when there is none.
    Chinese GBK text is almost never valid UTF-8, so a UTF-8 line in a GBK file tells a mix apart."""
    first_utf8 = first_other = None
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                first_other = first_other or number
            else:
                first_utf8 = first_utf8 or number
            if first_utf8 is not None and first_other is not None:
                break
    return first_utf8, first_other


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def guess_delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class XlsxTable(TableFile):
    def __init__(self, path: Path, sheet: str | None) -> None:
        self.path = path
        self.sheet = sheet
        self._done = 0
        self._total: int | None = None

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        import zipfile

        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise FileProblem(f"{self.path.name}: not a readable .xlsx file ({type(exc).__name__})") from None
        try:
            if self.sheet is not None:
                if self.sheet not in workbook.sheetnames:
                    names = ", ".join(workbook.sheetnames)
                    raise FileProblem(f"{self.path.name}: no sheet called {self.sheet!r} (sheets: {names})")
                worksheet = workbook[self.sheet]
            else:
                worksheet = workbook.worksheets[0]
            self._total = worksheet.max_row
            merged = _scan_sheet(self.path.name, worksheet)  # before any row: a refusal leaves nothing read
            first_row = worksheet.min_row or 1
            for line, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
                self._done = line
                yield line, merged.fill(first_row + line - 1, list(cells))
        finally:
            workbook.close()

    def progress(self) -> tuple[int, int | None]:
        return self._done, self._total


SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class MergedCells:
    """Merged ranges of a sheet. A range merged down several rows is read in each of its cells as its first
    cell's value; a number merged over several cells is refused (repeating it would count it again)."""

    def __init__(self, file_name: str, ranges: list[tuple[int, int, int, int]]) -> None:
        self._file_name = file_name
        self._by_row: dict[int, list[tuple[int, int, int, int]]] = {}
        self._top_values: dict[tuple[int, int], Any] = {}
        for bounds in ranges:
            _, min_row, _, max_row = bounds
            for row in range(min_row, max_row + 1):
                self._by_row.setdefault(row, []).append(bounds)

    def fill(self, row: int, cells: list[Any]) -> list[Any]:
        for min_col, min_row, max_col, max_row in self._by_row.get(row, ()):
            if row == min_row:
                value = cells[min_col - 1] if min_col <= len(cells) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    span = f"{_column_letters(min_col)}{min_row}:{_column_letters(max_col)}{max_row}"
                    raise FileProblem(f"{self._file_name}: cells {span} are merged around one number, which would "
                                      "count it more than once; unmerge them and give each row its own value")
                self._top_values[(min_row, min_col)] = value
            if max_row == min_row:
                continue  # merged across one row (a banner, a header): its other cells stay empty
            while len(cells) < max_col:
                cells.append(None)
            for col in range(min_col, max_col + 1):
                cells[col - 1] = self._top_values.get((min_row, min_col))
        return cells


def _scan_sheet(file_name: str, worksheet: Any) -> MergedCells:
    """One streaming pass over the sheet's XML (memory flat: each row is dropped once read): refuse a
    formula cell without a cached value, naming it; collect the merged ranges (listed after the rows)."""
    import xml.etree.ElementTree as ElementTree

    from openpyxl.utils.cell import range_boundaries

    ranges: list[tuple[int, int, int, int]] = []
    source = worksheet._get_source()
    try:
        for _, element in ElementTree.iterparse(source, events=("end",)):
            tag = element.tag.removeprefix(SHEET_NS)
            if tag == "c":
                formula = element.find(f"{SHEET_NS}f")
                cached = element.find(f"{SHEET_NS}v")
                if formula is not None and (cached is None or cached.text is None):
                    raise FileProblem(
                        f"{file_name}: cell {element.get('r', '?')} holds a formula whose value was never computed; "
                        "open and save the file in Excel, or export CSV")
            elif tag == "row":
                element.clear()
            elif tag == "mergeCell" and (ref := element.get("ref")):
                ranges.append(range_boundaries(ref))
    finally:
        source.close()
    return MergedCells(file_name, ranges)


def _column_letters(index: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return get_column_letter(index)
