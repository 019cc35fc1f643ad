"""Rows of a CSV or XLSX file, streamed with their line numbers (never the whole file in memory).

CSV: UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode text"), or GBK/GB18030 as Chinese
tools export it; comma, semicolon or tab separated (guessed from the first line).
XLSX: the first sheet (or a named one), read-only, with Excel dates as dates.
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
    """utf-8-sig when the whole file decodes as UTF-8, else GB18030 (a superset of GBK)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise FileProblem(f"{path.name}: not UTF-8 or GBK text; save it as CSV UTF-8 or as .xlsx")


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
            for line, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
                self._done = line
                yield line, list(cells)
        finally:
            workbook.close()

    def progress(self) -> tuple[int, int | None]:
        return self._done, self._total
