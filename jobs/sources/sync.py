"""One sync of one configured source, recorded as a sync run whatever happens.

SQL and Bitable syncs stage everything the source returns, then in one transaction: upsert what
is new or changed, and delete what vanished — for SQL only inside the re-sync window (the query
only returns that window), for Bitable anywhere (the whole table is read). A T+1 correction thus
replaces yesterday's value, a row deleted at the source disappears here too, and an unchanged row
is not rewritten. An empty answer never deletes anything (a truncated warehouse table or an
emptied view is far likelier than a real "no data at all").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from jobs.ingest.currency import MoneyRules
from jobs.ingest.layout import RowProblem
from jobs.ingest.names import MetricNames
from jobs.ingest.pipeline import IngestReport, stage_rows
from jobs.ingest.runlog import record_outcome
from jobs.ingest.staging import DeleteScope, Diff, Staging
from jobs.sources.bitable import BitableError, BitableFetch, bitable_rows, records
from jobs.sources.config import SourceConfig, configured_sources
from jobs.sources.folder import FolderResult, scan_folder
from jobs.sources.secrets import MissingSecret, display_url, expand_url, mask
from jobs.sources.sql import query_rows
from storage.db import Database
from storage.kpi.registry import Registry
from storage.models import utcnow
from storage.repositories.fx import all_rates
from storage.settings import Settings

log = logging.getLogger("kpibot.sources")


class UnknownSource(LookupError):
    pass


@dataclass
class SyncOutcome:
    name: str
    kind: str
    ok: bool
    started_at: datetime
    finished_at: datetime | None = None
    rows_read: int = 0
    rows_written: int = 0  # new + changed + removed values
    newest_date: date | None = None
    diff: Diff = field(default_factory=Diff)
    error: str | None = None  # readable, secrets masked, no stack trace
    warn_admins: bool = False  # this run is the second failure in a row: tell the admins (once)
    window: tuple[date, date] | None = None  # sql: the re-sync window
    folder: FolderResult | None = None


class _Rejected(Exception):
    def __init__(self, report: IngestReport) -> None:
        self.report = report


def sync_source(
    db: Database,
    registry: Registry,
    settings: Settings,
    name: str,
    *,
    bitable_fetch: BitableFetch | None = None,
    today: date | None = None,
    since: date | None = None,
) -> SyncOutcome:
    """Sync the configured source `name` now. `since` widens a SQL window back to that date
    (a backfill). Never raises for a failing source: the outcome and the sync run say what failed."""
    config = next((c for c in configured_sources(registry) if c.name == name), None)
    if config is None:
        raise UnknownSource(f"no valid source called {name!r} in the KPI file's sources:")
    today = today or datetime.now(settings.tz).date()
    outcome = SyncOutcome(name=name, kind=config.kind, ok=False, started_at=utcnow())
    secrets: list[str] = []
    try:
        if config.kind == "sql":
            _sync_sql(db, registry, settings, config, today, since, outcome, secrets)
        elif config.kind == "bitable":
            _sync_bitable(db, registry, settings, config, bitable_fetch, outcome)
        else:
            _sync_folder(db, registry, settings, config, outcome)
    except _Rejected as rejected:
        outcome.rows_read = rejected.report.rows_read
        outcome.error = rejected.report.error_summary()
    except Exception as exc:  # a source failing must never take the scheduler down
        outcome.error = describe_error(exc, config)
        if not isinstance(exc, SQLAlchemyError | OSError | MissingSecret | BitableError | ValueError):
            # Not one of the expected failures: keep the traceback, in the log only (mask() can't reach it,
            # so it is not logged when the URL carries secrets).
            log.warning("Unexpected error syncing %r", name, exc_info=not secrets)
    outcome.error = mask(outcome.error, secrets) if outcome.error else None
    outcome.ok = outcome.error is None
    outcome.finished_at = utcnow()
    if not outcome.ok:
        log.error("Sync of source %r failed: %s", name, outcome.error)
    outcome.warn_admins = record_outcome(
        db, source=name, kind=config.kind, started_at=outcome.started_at, ok=outcome.ok,
        rows_read=outcome.rows_read, rows_written=outcome.rows_written, newest_date=outcome.newest_date,
        error=outcome.error,
    )
    return outcome


def _sync_sql(
    db: Database, registry: Registry, settings: Settings, config: SourceConfig, today: date, since: date | None,
    outcome: SyncOutcome, secrets: list[str],
) -> None:
    start = min(since, today) if since else today - timedelta(days=config.resync_days)
    outcome.window = (start, today)
    url, used = expand_url(config.url)
    secrets.extend(used)
    with (
        query_rows(url, config.query, start, today) as (header, rows),
        db.session() as session,
        Staging(session) as staging,
    ):
        _stage_and_apply(staging, registry, settings, config, header, rows, "row", DeleteScope(start, today), outcome)


def _sync_bitable(
    db: Database, registry: Registry, settings: Settings, config: SourceConfig, fetch: BitableFetch | None,
    outcome: SyncOutcome,
) -> None:
    if fetch is None:
        raise BitableError("Feishu is not configured (set FEISHU_APP_ID and FEISHU_APP_SECRET)")
    assert config.mapping is not None  # checked with the config
    items = records(fetch, config.app_token, config.table_id, config.view_id)
    header, rows = bitable_rows(items, config.mapping, settings.tz)
    with db.session() as session, Staging(session) as staging:
        _stage_and_apply(staging, registry, settings, config, header, rows, "record", DeleteScope(), outcome)


def _stage_and_apply(
    staging: Staging, registry: Registry, settings: Settings, config: SourceConfig, header: tuple[int, list[Any]],
    rows: Iterable[tuple[int, list[Any] | RowProblem]],
    label: str, scope: DeleteScope, outcome: SyncOutcome,
) -> None:
    money = MoneyRules(registry, settings.currency, all_rates(staging.session))  # a `shop` column, `currency`
    staged = stage_rows(staging, rows, MetricNames(registry), config.mapping, tz=settings.tz, label=label,
                        header=header, money=money)
    outcome.rows_read = staged.rows_read
    if staged.problem_count:
        report = IngestReport(name=config.name, source=config.name, rows_read=staged.rows_read,
                              problems=staged.problems, problem_count=staged.problem_count)
        raise _Rejected(report)
    summary = staging.summary()
    outcome.newest_date = summary.newest_date
    if summary.values == 0:
        log.info("Source %r returned no rows; nothing deleted or written", config.name)
        return
    outcome.diff = staging.apply(config.name, scope)
    outcome.rows_written = outcome.diff.written


def _sync_folder(db: Database, registry: Registry, settings: Settings, config: SourceConfig,
                 outcome: SyncOutcome) -> None:
    folder = Path(config.path).expanduser()
    if not folder.is_absolute() and settings.kpis_file:
        folder = Path(settings.kpis_file).expanduser().resolve().parent / folder
    result = scan_folder(db, registry, config.name, folder, mapping=config.mapping, tz=settings.tz,
                         settle_seconds=config.settle_seconds, currency=settings.currency)
    outcome.folder = result
    outcome.rows_read, outcome.rows_written, outcome.newest_date = (
        result.rows_read, result.rows_written, result.newest_date
    )
    if result.failed:
        noun = "file" if len(result.failed) == 1 else "files"
        outcome.error = f"{len(result.failed)} {noun} rejected (see failed/*.errors.txt): " + "; ".join(
            result.errors
        )


def describe_error(exc: BaseException, config: SourceConfig) -> str:
    """What went wrong, in one line, without a stack trace or the URL's secrets."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        detail = str(exc.orig)
    elif isinstance(exc, SQLAlchemyError):
        detail = str(exc).split("\n[SQL:")[0].split("\n(Background")[0]
    else:
        detail = str(exc) or type(exc).__name__
    detail = " ".join(detail.split())[:500]
    where = f" ({display_url(config.url)})" if config.kind == "sql" and config.url else ""
    return f"{type(exc).__name__}{where}: {detail}"
