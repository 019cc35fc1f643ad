"""shop_board: the shops side by side for GMV this month (`board gmv by shop`, KpiEngine.shop_board) on
N facts (the attainment workspace, members' facts spread over 4 shops; default 1 M, `--rows`), against
the floor: one hand-written statement on a raw DB-API connection returning the same per-shop sums and
newest days (checked before timing). ratio = ours / floor. `shop_board_pg` on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bench.attainment import Floor, _close, sized
from bench.dataset import DatasetSpec, load_postgres, sqlite_dataset
from bench.harness import NotAvailable, Result, interleaved, median, peak_rss_mb, say, spread
from bench.postgres import configured_url, libpq_dsn, scratch_schema
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import load_registry

SHOPS = 4
FLOOR_SQL = """
SELECT shop, metric, SUM(value), MAX(date) FROM fact
 WHERE metric IN ({metrics}) AND date BETWEEN ? AND ? AND shop <> '' GROUP BY shop, metric
"""


def _spec(options: Any) -> DatasetSpec:
    return DatasetSpec(rows=options.rows, shops=SHOPS)


def measure(db: Database, floor: Floor, spec: DatasetSpec, *, iso_dates: bool, reps: int, name: str,
            params: dict[str, Any]) -> Result:
    registry = load_registry(None)
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), week_start=0, today=lambda: spec.end)
    month = engine.calendar.month(spec.end)
    gmv = registry.kpis["gmv"]
    bounds = [month.start.isoformat(), month.end.isoformat()] if iso_dates else [month.start, month.end]
    sql = FLOOR_SQL.format(metrics=", ".join("?" for _ in gmv.metrics))

    def ours() -> Any:
        return engine.shop_board(gmv, month)

    def floor_rows() -> list[tuple[Any, ...]]:
        return floor.run(sql, [*gmv.metrics, *bounds])

    board = ours()
    by_shop: dict[str, dict[str, float]] = {}
    for shop, metric, total, _ in floor_rows():
        by_shop.setdefault(shop, {})[metric] = total
    if sorted(row.member for row in board) != sorted(by_shop) or len(by_shop) != SHOPS:
        raise AssertionError(f"floor shops {sorted(by_shop)} differ from the board's {[r.member for r in board]}")
    for row in board:
        for metric, value in (row.status.sums or {}).items():
            _close(value, by_shop[row.member].get(metric), f"shop {row.member} {metric}")
    cases: dict[str, Callable[[], Any]] = {"ours": ours, "floor": floor_rows}
    times = interleaved(cases, reps=reps, warmup=2)
    value, baseline = median(times["ours"]) * 1000, median(times["floor"]) * 1000
    return Result(
        name=name, value=round(value, 3), unit="ms", baseline_name="sql_floor", baseline_value=round(baseline, 3),
        ratio=round(value / baseline, 2),
        params={**params, "shops": SHOPS, "reps": reps, "kpi": "gmv", "period": month.key,
                "ours_range_ms": spread([t * 1000 for t in times["ours"]]),
                "floor_range_ms": spread([t * 1000 for t in times["floor"]])},
        peak_rss_mb=peak_rss_mb(),
    )


def _reps(options: Any) -> int:
    return 10 if options.quick else 30


def prepare_sqlite(options: Any) -> None:
    sqlite_dataset(_spec(options))


def run_sqlite(options: Any) -> list[Result]:
    spec = _spec(options)
    path = sqlite_dataset(spec)
    db = Database(f"sqlite:///{path}")
    conn = sqlite3.connect(path, check_same_thread=False)
    try:
        return [measure(db, Floor(conn, "?"), spec, iso_dates=True, reps=_reps(options),
                        name=sized("shop_board", spec.rows),
                        params={"database": "sqlite", "facts": spec.rows, "members": spec.members})]
    finally:
        conn.close()
        db.dispose()


def run_postgres(options: Any) -> list[Result]:
    import psycopg

    base = configured_url(options.postgres)
    if base is None:
        raise NotAvailable("PostgreSQL: set KPIBOT_TEST_DATABASE_URL or pass --postgres URL")
    spec = _spec(options)
    with scratch_schema(base) as url:
        db = Database(url)
        db.upgrade()
        say(f"  loading {spec.rows:,} facts over {SHOPS} shops into PostgreSQL (COPY) …")
        load_postgres(db, spec)
        conn = psycopg.connect(libpq_dsn(url), autocommit=True)
        try:
            return [measure(db, Floor(conn, "%s"), spec, iso_dates=False, reps=_reps(options),
                            name=sized("shop_board_pg", spec.rows),
                            params={"database": "postgresql", "facts": spec.rows, "members": spec.members})]
        finally:
            conn.close()
            db.dispose()
