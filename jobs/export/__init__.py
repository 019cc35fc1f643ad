"""Exports: a leaderboard as CSV or XLSX with numbers as numbers, and a posted digest's tables as one XLSX
with one sheet per table. Files are returned as bytes; each surface uploads them (the console writes them)."""

from jobs.export.board import board_sheet
from jobs.export.digest import digest_sheets
from jobs.export.sheets import ExportFile, Sheet, to_csv, to_xlsx

__all__ = ["ExportFile", "Sheet", "board_sheet", "digest_sheets", "to_csv", "to_xlsx"]
