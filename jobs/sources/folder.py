"""A drop folder: each new CSV/XLSX file imported once, then moved to `done/` or `failed/`.

A file is known by (source, name, sha256) in `imported_file`, written in the same transaction as
its facts: a crash between commit and move only means the next scan moves it without importing it
again. A failed file gets `<file>.errors.txt` beside it in `failed/`; dropping it again (after
fixing the file or the mapping) retries it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from jobs.ingest.importer import ingest_file
from jobs.ingest.layout import RowProblem
from jobs.ingest.mapping import Mapping
from jobs.ingest.pipeline import IngestReport
from jobs.ingest.readers import CSV_SUFFIXES, XLSX_SUFFIXES
from storage.db import Database
from storage.kpi.registry import Registry
from storage.models import ImportedFile, utcnow
from storage.repositories.upsert import insert_for

log = logging.getLogger(__name__)

DONE_DIR = "done"
FAILED_DIR = "failed"
ERRORS_SUFFIX = ".errors.txt"
IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download")
IMPORTED = ImportedFile.__table__  # type: ignore[attr-defined]
NAME_MAX = 500  # imported_file.name


@dataclass
class FolderResult:
    imported: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_written: int = 0
    newest_date: date | None = None
    errors: list[str] = field(default_factory=list)  # one line per failed file

    @property
    def ok(self) -> bool:
        return not self.failed


def scan_folder(
    db: Database, registry: Registry, source: str, folder: Path, *, mapping: Mapping | None, tz: ZoneInfo,
    settle_seconds: float, currency: str | None = None,
) -> FolderResult:
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist")
    result = FolderResult()
    for path in waiting_files(folder, settle_seconds):
        _take(db, registry, source, path, mapping, tz, result, currency)
    return result


def waiting_files(folder: Path, settle_seconds: float) -> list[Path]:
    """Files to take now: not hidden, not half-copied, not our own error reports, settled."""
    settled_before = time.time() - settle_seconds
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if not path.is_file() or name.startswith((".", "~$")) or name.endswith(ERRORS_SUFFIX):
            continue
        if name.lower().endswith(IN_PROGRESS_SUFFIXES) or path.stat().st_mtime > settled_before:
            continue
        out.append(path)
    return out


def _take(
    db: Database, registry: Registry, source: str, path: Path, mapping: Mapping | None, tz: ZoneInfo,
    result: FolderResult, currency: str | None,
) -> None:
    digest = sha256_of(path)
    with db.session() as session:
        status = session.execute(
            select(IMPORTED.c.status).where(
                IMPORTED.c.source == source, IMPORTED.c.name == path.name[:NAME_MAX], IMPORTED.c.sha256 == digest
            )
        ).scalar_one_or_none()
        if status == "done":
            report = None
        elif path.suffix.lower() not in (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".xls"):
            report = IngestReport(name=path.name, source=source, problem_count=1,
                                  problems=[RowProblem("file", 0, "is not a CSV or XLSX file")])
        else:
            report = ingest_file(session, registry, path, source=source, mapping=mapping, tz=tz, currency=currency)
        if report is not None:
            _remember(session, source, path.name, digest, "done" if report.ok else "failed")
    if report is None:
        log.info("Drop folder %s: %s was imported before; moving it to %s/", source, path.name, DONE_DIR)
        result.already_imported.append(path.name)
        _move(path, DONE_DIR)
    elif report.ok:
        result.imported.append(path.name)
        result.rows_read += report.rows_read
        result.rows_written += report.diff.written
        newest = report.summary.newest_date
        if newest and (result.newest_date is None or newest > result.newest_date):
            result.newest_date = newest
        _move(path, DONE_DIR)
    else:
        result.failed.append(path.name)
        result.rows_read += report.rows_read
        first = report.problem_lines()[0] if report.problem_lines() else "rejected"
        result.errors.append(f"{path.name}: {report.problem_count} problem(s), first: {first}")
        moved = _move(path, FAILED_DIR)
        _write_errors(moved, report)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _remember(session: Session, source: str, name: str, digest: str, status: str) -> None:
    stmt = insert_for(session, IMPORTED).values(
        source=source, name=name[:NAME_MAX], sha256=digest, status=status, imported_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "name", "sha256"],
        set_={"status": stmt.excluded.status, "imported_at": stmt.excluded.imported_at},
    )
    session.execute(stmt)


def _move(path: Path, subfolder: str) -> Path:
    """Move `path` into `subfolder` under a name not taken yet; returns where it went."""
    target_dir = path.parent / subfolder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    counter = 2
    while target.exists():  # never overwrite an earlier file of the same name
        target = target_dir / f"{path.stem}-{counter}{path.suffix}"
        counter += 1
    path.replace(target)
    return target


def _write_errors(moved: Path, report: IngestReport) -> None:
    lines = [f"{moved.name} was not imported into source {report.source!r}; nothing was written.", ""]
    lines += report.problem_lines()
    lines += ["", "Fix the file (or the mapping in the KPI file) and drop it into the folder again."]
    moved.with_name(moved.name + ERRORS_SUFFIX).write_text("\n".join(lines) + "\n", encoding="utf-8")
