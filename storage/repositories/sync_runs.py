"""Sync runs: one row per push batch, file import or source sync — when, how much, how new, what failed.

Per-source summaries (last success, latest run, failing streak) are GROUP BY queries: the table
grows by a row per run and is never walked in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, select
from sqlmodel import Session

from storage.models import SourceSyncRun, utcnow

RUN = SourceSyncRun.__table__  # type: ignore[attr-defined]
ERROR_MAX_CHARS = 2000


@dataclass(frozen=True)
class RunSummary:
    source: str
    kind: str  # of the latest run
    last_run_at: datetime | None
    last_success: datetime | None
    last_error: str | None  # of the latest run, when it failed
    failing_streak: int  # failed runs since the last success


def record_run(
    session: Session,
    *,
    source: str,
    kind: str,
    started_at: datetime,
    ok: bool,
    rows_read: int = 0,
    rows_written: int = 0,
    newest_date: date | None = None,
    error: str | None = None,
    finished_at: datetime | None = None,
) -> None:
    session.execute(
        RUN.insert().values(
            source=source, kind=kind, started_at=started_at, finished_at=finished_at or utcnow(),
            rows_read=rows_read, rows_written=rows_written, newest_date=newest_date, ok=ok,
            error=error[:ERROR_MAX_CHARS] if error else None,
        )
    )


def failing_streak(session: Session, source: str) -> int:
    """Failed runs of `source` since its last successful one."""
    last_ok = select(func.max(RUN.c.id)).where(RUN.c.source == source, RUN.c.ok.is_(True)).scalar_subquery()
    stmt = select(func.count()).select_from(RUN).where(
        RUN.c.source == source, RUN.c.ok.is_(False), RUN.c.id > func.coalesce(last_ok, 0)
    )
    return int(session.execute(stmt).scalar_one())


def run_summaries(session: Session) -> dict[str, RunSummary]:
    successes = (
        select(RUN.c.source, func.max(RUN.c.id).label("last_ok_id"))
        .where(RUN.c.ok.is_(True))
        .group_by(RUN.c.source)
        .subquery()
    )
    last_success = dict(
        session.execute(
            select(RUN.c.source, RUN.c.finished_at).join(successes, RUN.c.id == successes.c.last_ok_id)
        ).all()
    )
    streaks = dict(
        session.execute(
            select(RUN.c.source, func.count())
            .select_from(RUN.outerjoin(successes, RUN.c.source == successes.c.source))
            .where(RUN.c.ok.is_(False), RUN.c.id > func.coalesce(successes.c.last_ok_id, 0))
            .group_by(RUN.c.source)
        ).all()
    )
    latest = select(RUN.c.source, func.max(RUN.c.id).label("latest_id")).group_by(RUN.c.source).subquery()
    out: dict[str, RunSummary] = {}
    rows = session.execute(
        select(RUN.c.source, RUN.c.kind, RUN.c.finished_at, RUN.c.ok, RUN.c.error).join(
            latest, and_(RUN.c.id == latest.c.latest_id)
        )
    )
    for source, kind, finished_at, ok, error in rows:
        out[source] = RunSummary(
            source=source, kind=kind, last_run_at=finished_at, last_success=last_success.get(source),
            last_error=None if ok else (error or "failed"), failing_streak=int(streaks.get(source, 0)),
        )
    return out


def prune_runs(session: Session, keep_days: int = 90) -> int:
    """Delete runs older than `keep_days`, keeping each source's latest success (freshness needs it).
    The push API adds a row per batch, so a scheduler should call this now and then."""
    cutoff = utcnow() - timedelta(days=keep_days)
    keep = select(func.max(RUN.c.id)).where(RUN.c.ok.is_(True)).group_by(RUN.c.source)
    # a DELETE's result is a CursorResult (it has rowcount); Session.execute is typed as the general Result
    statement = delete(RUN).where(RUN.c.started_at < cutoff, RUN.c.id.not_in(keep))
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)
