"""`unusual_query` (issues 15 and 19): every scope's unusual days in one reviewed week — the team, each role,
each member — against the same weekday of the 8 weeks before (9 weeks read), for every KPI.

Sizes: 100 members at 1 M facts (`unusual_query`, SQLite; `unusual_query_pg`, PostgreSQL: the attainment
dataset's generator with 100 members, each day's facts filling the team's and each member's role metrics
first) and the demo-sized team (`unusual_query_demo`: 10 members, 70 days, `small_shop`). Ours is
`scan_unusual`, what `unusual`, the digest's section and unusual alerts call.

The floor, in the same run on the raw driver, is the one aggregate any answer must read, written by hand:
each member's (and the shop level's) daily sums of every KPI's metrics over the 9 weeks, grouped in the fact
index's order, all fetched. From those rows every scope's series follows (the team's and the roles' by
adding up members); ours must also roll them up, evaluate the formulas and judge each day.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.dataset import (
    END,
    DatasetSpec,
    postgres_connected,
    small_shop,
    sqlite_connected,
    sqlite_dataset,
)
from bench.harness import Result, against_floor
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scan import scan_unusual
from storage.kpi.unusual import history_start

MEMBERS = 100
DEFAULT_ROWS = 1_000_000
FLOOR_SQL = ("SELECT member, date, metric, SUM(value) FROM fact WHERE metric IN ({marks})"
             " AND date BETWEEN ? AND ? GROUP BY metric, date, member")  # the fact index's order: no sort


def sized(name: str, rows: int) -> str:
    """`unusual_query` at the default 1 M facts, `unusual_query_10m` at 10 M."""
    if rows == DEFAULT_ROWS:
        return name
    return f"{name}_{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"{name}_{rows // 1000}k"


def _case(db: Database, connection: Any, placeholder: str, iso: bool,
          ) -> tuple[Callable[[], Any], Callable[[], Any], dict[str, Any]]:
    registry = load_registry(None)
    week = Calendar(0).previous(Calendar(0).week(END))  # the last complete week before the data's end
    metrics = sorted({m for kpi in registry.kpis.values() for m in kpi.metrics})
    sql = FLOOR_SQL.format(marks=", ".join("?" * len(metrics))).replace("?", placeholder)
    day: Callable[[date], Any] = (lambda d: d.isoformat()) if iso else (lambda d: d)
    params = (*metrics, day(history_start(week.start)), day(week.end))

    def ours() -> Any:
        return scan_unusual(db, registry, week.start, week.end)

    def floor() -> Any:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    found = ours()
    rows = len(floor())
    return ours, floor, {"week": week.key, "findings": len(found), "floor_rows": rows, "kpis": len(registry.kpis)}


def _measure(name: str, db: Database, connection: Any, placeholder: str, reps: int, params: dict[str, Any],
             ) -> Result:
    ours, floor, facts = _case(db, connection, placeholder, iso=params["database"] == "sqlite")
    return against_floor(name, ours, floor, reps=reps, params=params, facts=facts,
                         detail=f", {facts['findings']} unusual, {facts['floor_rows']:,} floor rows")


def _weeks_read() -> int:
    return (END - history_start(END - timedelta(days=7))).days // 7


def prepare(options: Any) -> None:
    sqlite_dataset(DatasetSpec(rows=options.rows, members=MEMBERS))


def run(options: Any) -> list[Result]:
    reps = 5 if options.quick else 15
    results = []
    with TemporaryDirectory() as folder:
        path = Path(folder) / "demo.db"
        db = small_shop(path)
        conn = sqlite3.connect(path, check_same_thread=False)
        try:
            results.append(_measure("unusual_query_demo", db, conn, "?", reps * 2,
                                    {"database": "sqlite", "members": 10, "days": 70}))
        finally:
            conn.close()
            db.dispose()
    spec = DatasetSpec(rows=options.rows, members=MEMBERS)
    with sqlite_connected(sqlite_dataset(spec)) as (db, conn):
        results.append(_measure(sized("unusual_query", spec.rows), db, conn, "?", reps,
                                {"database": "sqlite", "facts": spec.rows, "members": MEMBERS, "days": spec.days,
                                 "weeks_read": _weeks_read()}))
    return results


def run_postgres(options: Any) -> list[Result]:
    spec = DatasetSpec(rows=options.rows, members=MEMBERS)
    reps = 5 if options.quick else 15
    with postgres_connected(options.postgres, spec) as (db, conn):
        return [_measure(sized("unusual_query_pg", spec.rows), db, conn, "%s", reps,
                         {"database": "postgresql", "facts": spec.rows, "members": MEMBERS, "days": spec.days,
                          "weeks_read": _weeks_read()})]
