"""Time for jobs: an injectable UTC clock, and a KPI engine pinned to a given day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from storage.kpi.engine import KpiEngine

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def engine_as_of(engine: KpiEngine, today: date) -> KpiEngine:
    """The same engine with its "today" pinned: a late digest reviews the week it was due for, and an alert
    evaluated at `now` looks at the days before `now` in the team's timezone."""
    if engine.today() == today:
        return engine
    return KpiEngine(engine.db, engine.registry, tz=engine.tz, week_start=engine.calendar.week_start,
                     today=lambda: today)
