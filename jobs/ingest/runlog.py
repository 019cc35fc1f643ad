"""Recording a sync run, and the one warning when a source fails twice in a row."""

from __future__ import annotations

import logging
from datetime import date, datetime

from jobs import observability
from storage.db import Database
from storage.repositories.sync_runs import failing_streak, record_run

log = logging.getLogger("kpibot.sources")

WARN_AT_STREAK = 2  # warn exactly when the second failure in a row lands: once per failing spell


def record_outcome(
    db: Database,
    *,
    source: str,
    kind: str,
    started_at: datetime,
    ok: bool,
    rows_read: int = 0,
    rows_written: int = 0,
    newest_date: date | None = None,
    error: str | None = None,
) -> bool:
    """Write the run in its own transaction (a failed sync rolled its data back, the run stays).
    True when this run makes the source's second failure in a row: admins should hear of it."""
    observability.record_run(source, ok=ok, rows_written=rows_written)
    with db.session() as session:
        record_run(
            session, source=source, kind=kind, started_at=started_at, ok=ok, rows_read=rows_read,
            rows_written=rows_written, newest_date=newest_date, error=error,
        )
        if ok:
            return False
        streak = failing_streak(session, source)
    if streak == WARN_AT_STREAK:
        log.warning(
            "Data source %r failed twice in a row; its figures are not being updated. Last error: %s. "
            "Run `kpibot sources` for details.", source, (error or "unknown").splitlines()[0][:300],
        )
        return True
    return False
