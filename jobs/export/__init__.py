"""Exports: a leaderboard as CSV or XLSX with numbers as numbers, and a posted digest's tables as one XLSX
with one sheet per table. Files are reply attachments (`jobs.present.reply.Attachment`): each surface uploads
them, the console writes them to disk."""

from jobs.export.board import board_file_name, board_sheet
from jobs.export.digest import digest_file_name, digest_sheets
from jobs.export.sheets import (
    MAX_EXPORT_BYTES,
    Sheet,
    csv_attachment,
    file_name,
    to_csv,
    to_xlsx,
    xlsx_attachment,
)

__all__ = ["MAX_EXPORT_BYTES", "Sheet", "board_file_name", "board_sheet", "csv_attachment", "digest_file_name",
           "digest_sheets", "file_name", "to_csv", "to_xlsx", "xlsx_attachment"]
