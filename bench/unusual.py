"""`unusual` (issue 15): every scope's unusual days in one reviewed week — the team, each role, each member —
against the same weekday of the 8 weeks before (9 weeks read), for every KPI.

Two sizes: the demo-sized team (10 members, 70 days: `small_shop`) and 100 members at 1 M facts (the
attainment dataset's generator with 100 members: each day's facts fill the team's and each member's role
metrics first). Ours is `scan_unusual`, what `unusual`, the digest's section and unusual alerts call.
The floor, in the same run, is the one aggregate any answer must read, written by hand on the raw driver:
each member's (and the shop level's) daily sums of the metrics over the 9 weeks — no roll-up to the team
and roles, no z-scores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.dataset import END, DatasetSpec, small_shop, sqlite_dataset
from bench.harness import Result, interleaved, median, peak_rss_mb, say, spread
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scan import scan_unusual
from storage.kpi.unusual import history_start

MEMBERS = 100
FLOOR_SQL = ("SELECT member, date, metric, SUM(value) FROM fact WHERE metric IN ({marks})"
             " AND date BETWEEN ? AND ? GROUP BY metric, date, member")  # the fact index's order: no sort


def _case(db: Database, path: Path) -> tuple[Callable[[], Any], Callable[[], Any], dict[str, Any]]:
    registry = load_registry(None)
    week = Calendar(0).previous(Calendar(0).week(END))  # the last complete week before the data's end
    metrics = sorted({m for kpi in registry.kpis.values() for m in kpi.metrics})
    conn = sqlite3.connect(path, check_same_thread=False)
    sql = FLOOR_SQL.format(marks=", ".join("?" * len(metrics)))
    params = (*metrics, history_start(week.start).isoformat(), week.end.isoformat())

    def ours() -> Any:
        return scan_unusual(db, registry, week.start, week.end)

    def floor() -> Any:
        return conn.execute(sql, params).fetchall()

    found = ours()
    rows = len(floor())
    return ours, floor, {"week": week.key, "findings": len(found), "floor_rows": rows, "kpis": len(registry.kpis)}


def _measure(name: str, db: Database, path: Path, reps: int, params: dict[str, Any]) -> Result:
    ours, floor, facts = _case(db, path)
    times = interleaved({"ours": ours, "floor": floor}, reps=reps, warmup=2)
    value, baseline = median(times["ours"]) * 1000, median(times["floor"]) * 1000
    say(f"  {name}: ours {value:.1f} ms, SQL floor {baseline:.1f} ms ({value / baseline:.2f}×), "
        f"{facts['findings']} unusual, {facts['floor_rows']:,} floor rows")
    return Result(name=name, value=round(value, 3), unit="ms", baseline_name="sql_floor",
                  baseline_value=round(baseline, 3), ratio=round(value / baseline, 2),
                  params={**params, **facts, "reps": reps, "ours_range_ms": spread([t * 1000 for t in times["ours"]])},
                  peak_rss_mb=peak_rss_mb())


def prepare(options: Any) -> None:
    sqlite_dataset(DatasetSpec(rows=options.rows, members=MEMBERS))


def run(options: Any) -> list[Result]:
    reps = 5 if options.quick else 15
    results = []
    with TemporaryDirectory() as folder:
        path = Path(folder) / "demo.db"
        db = small_shop(path)
        try:
            results.append(_measure("unusual_demo_team", db, path, reps * 2,
                                    {"database": "sqlite", "members": 10, "days": 70}))
        finally:
            db.dispose()
    spec = DatasetSpec(rows=options.rows, members=MEMBERS)
    path = sqlite_dataset(spec)
    db = Database(f"sqlite:///{path}")
    try:
        results.append(_measure("unusual_100_members", db, path, reps,
                                {"database": "sqlite", "facts": spec.rows, "members": MEMBERS, "days": spec.days,
                                 "weeks_read": (END - history_start(END - timedelta(days=7))).days // 7}))
    finally:
        db.dispose()
    return results
