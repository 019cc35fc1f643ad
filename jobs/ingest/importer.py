"""`kpibot import FILE`: a CSV or XLSX file into facts, all or nothing.

The file is streamed once into a staging table inside one transaction; a bad row anywhere means
nothing reaches `fact`. A dry run stops after comparing the staged facts with the stored ones.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from jobs.ingest.currency import MoneyRules
from jobs.ingest.layout import RowProblem
from jobs.ingest.mapping import Mapping, MappingError, find_mapping, parse_mapping
from jobs.ingest.names import MetricNames, normal
from jobs.ingest.pipeline import IngestReport, ProgressCallback, stage_rows
from jobs.ingest.readers import FileProblem, open_table
from jobs.ingest.runlog import record_outcome
from jobs.ingest.staging import Staging
from jobs.ingest.values import source_name_problem
from storage.db import Database
from storage.kpi.registry import Registry
from storage.models import utcnow
from storage.repositories.fx import all_rates

log = logging.getLogger(__name__)

DEFAULT_IMPORT_SOURCE = "import"


class ImportSetupError(ValueError):
    """The command itself is wrong (unknown mapping, bad source name); nothing was read."""


def import_file(
    db: Database,
    registry: Registry,
    path: str | Path,
    *,
    source: str | None = None,
    mapping: str | None = None,
    dry_run: bool = False,
    tz: ZoneInfo | None = None,
    on_progress: ProgressCallback | None = None,
    currency: str | None = None,
) -> IngestReport:
    """Import one file (see module doc). The source is `source`, else the mapping's source, else
    "import". Every real import, accepted or rejected, is recorded as a sync run (kind import)."""
    path = Path(path)
    chosen = resolve_mapping(registry, mapping)
    source = source or (chosen.import_source if chosen else DEFAULT_IMPORT_SOURCE)
    if reason := source_name_problem(source):
        raise ImportSetupError(f"--source: {reason}")
    started = utcnow()
    try:
        with db.session() as session:
            report = ingest_file(session, registry, path, source=source, mapping=chosen, dry_run=dry_run,
                                 tz=tz, on_progress=on_progress, currency=currency)
    except Exception as exc:
        if not dry_run:
            record_outcome(db, source=source, kind="import", started_at=started, ok=False,
                           error=f"{path.name}: {type(exc).__name__}")
        raise
    if not dry_run:
        record_outcome(
            db, source=source, kind="import", started_at=started, ok=report.ok, rows_read=report.rows_read,
            rows_written=report.diff.written, newest_date=report.summary.newest_date,
            error=None if report.ok else f"{path.name}: {report.error_summary()}",
        )
    return report


def resolve_mapping(registry: Registry, name: str | None) -> Mapping | None:
    if not name:
        return None
    try:
        return find_mapping(registry.sections, name, set(registry.metrics))
    except MappingError as exc:
        raise ImportSetupError("; ".join(exc.problems)) from None


def ingest_file(
    session: Session,
    registry: Registry,
    path: Path,
    *,
    source: str,
    mapping: Mapping | None,
    dry_run: bool = False,
    tz: ZoneInfo | None = None,
    on_progress: ProgressCallback | None = None,
    currency: str | None = None,
) -> IngestReport:
    """Read, check and (unless a dry run or a bad row) write one file inside `session`'s transaction.
    With a reporting `currency`, money in another currency is converted at the stored rates."""
    report = IngestReport(name=path.name, source=source, dry_run=dry_run)
    names = MetricNames(registry)
    money = MoneyRules(registry, currency, all_rates(session)) if currency else None
    with Staging(session) as staging:
        try:
            table = open_table(path, mapping.sheet if mapping else None)
            staged = stage_rows(staging, table.rows(), names, mapping, tz=tz, label=table.label,
                                progress=table.progress, on_progress=on_progress, money=money)
        except FileProblem as exc:
            report.problems, report.problem_count = [RowProblem("file", 0, str(exc))], 1
            return report
        except SQLAlchemyError:
            raise
        except Exception as exc:  # a file the CSV / XLSX reader chokes on
            log.warning("reading %s failed", path.name, exc_info=True)
            reason = f"could not be read ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
            report.problems, report.problem_count = [RowProblem("file", 0, reason)], 1
            return report
        report.rows_read = staged.rows_read
        report.problems, report.problem_count = staged.problems, staged.problem_count
        report.layout = staged.layout.kind if staged.layout else None
        if mapping is None and staged.layout is None:
            report.hint = _mapping_hint(registry, staged.header)
        if not report.ok:
            return report
        report.summary = staging.summary()
        report.diff = staging.diff(source) if dry_run else staging.apply(source)
    return report


def _mapping_hint(registry: Registry, header: list[Any]) -> str | None:
    """When the header fits a mapping of the KPI file, say so."""
    present = {normal(cell) for cell in header if cell is not None}
    if not present:
        return None
    for name, spec in (registry.sections.get("mappings") or {}).items():
        try:
            candidate = parse_mapping(str(name), spec)
        except (KeyError, TypeError, AttributeError, ValueError):
            continue
        wanted = {normal(candidate.date), *(normal(column) for column in candidate.columns)}
        if wanted <= present:
            return f"hint: these columns fit the mapping {name!r}; try --mapping {name}"
    return None
