"""A posted digest's tables as sheets: the headline figures first (when it has any), then one sheet per table,
cells as shown in the digest."""

from __future__ import annotations

from jobs.digest.history import reply_from_json
from jobs.export.sheets import Sheet, file_name
from storage.models import DigestPost


def digest_sheets(post: DigestPost) -> list[Sheet]:
    reply = reply_from_json(post.content)
    sheets = [Sheet(name=table.title or f"{index}", columns=list(table.columns), rows=[list(r) for r in table.rows])
              for index, table in enumerate(reply.tables, start=1)]
    if reply.figures:
        sheets.insert(0, Sheet(name=reply.title, columns=["", ""], rows=[[f.label, f.value] for f in reply.figures]))
    return sheets


def digest_file_name(post: DigestPost) -> str:
    """`kpibot-digest-2026-W47-12.xlsx`: the digest's period and its history id."""
    return file_name("digest", post.period_key, str(post.id), extension="xlsx")
