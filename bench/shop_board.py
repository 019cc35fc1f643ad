"""shop_board: the shops side by side for GMV this month (`board gmv by shop`, KpiEngine.shop_board) on
N facts (the attainment workspace, members' facts spread over 4 shops; default 1 M, `--rows`), against
the floor: one hand-written statement on a raw DB-API connection computing the same answer — per shop the
per-source data-through date, the sums through it, the headline sums and the targets (checked before
timing). ratio = ours / floor. `shop_board_pg` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bench.attainment import Floor, FloorQuery, _close, _reps, _same, by_group, sized
from bench.dataset import DatasetSpec, postgres_connected, sqlite_connected, sqlite_dataset
from bench.harness import Result, interleaved, median, peak_rss_mb, spread
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import load_registry
from storage.repositories.figures import Grouping

SHOPS = 4
# The shops' board by hand, as the engine must answer it: per shop the per-source data-through date, the sums
# through it, the headline sums and the shops' month targets, in one statement (bench.attainment.FloorQuery).
FLOOR = FloorQuery({"gmv": ["gmv"]}, "shop", " AND shop <> ''", "scope_kind = 'shop'", previous=False)


def _spec(options: Any) -> DatasetSpec:
    return DatasetSpec(rows=options.rows, shops=SHOPS)


def measure(db: Database, floor: Floor, spec: DatasetSpec, *, iso_dates: bool, reps: int, name: str,
            params: dict[str, Any]) -> Result:
    registry = load_registry(None)
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), week_start=0, today=lambda: spec.end)
    month = engine.calendar.month(spec.end)
    gmv = registry.kpis["gmv"]
    days = {"start": month.start, "end": month.end, "cap": min(spec.end, month.end)}
    bounds: dict[str, Any] = {key: day.isoformat() for key, day in days.items()} if iso_dates else dict(days)
    sql, values = FLOOR.sql(floor.dialect), FLOOR.params(bounds)

    def ours() -> Any:
        return engine.shop_board(gmv, month)

    def floor_rows() -> list[tuple[Any, ...]]:
        return floor.run(sql, values)

    board = ours()
    found = by_group(floor_rows())
    with_rows = sorted(shop for shop, group in found.items() if group.sums)
    if sorted(row.member for row in board) != with_rows or len(with_rows) != SHOPS:
        raise AssertionError(f"floor shops {with_rows} differ from the board's {[r.member for r in board]}")
    with db.session() as session:
        through = engine._read(session, [gmv], Grouping.shops(), month, engine.today()).groups
    for row in board:
        group, what = found[row.member], f"shop {row.member}"
        _same(row.status.sums or {}, group.sums, what)
        if row.status.data_through != group.day.get("gmv"):
            raise AssertionError(f"{what}: data through {row.status.data_through} vs {group.day.get('gmv')}")
        _same(through[row.member].kpi("gmv").through_sums, group.through.get("gmv", {}), f"{what} through d")
        _close(row.status.target.value if row.status.target else None, group.target.get("gmv"), f"{what} target")
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


def prepare_sqlite(options: Any) -> None:
    sqlite_dataset(_spec(options))


def run_sqlite(options: Any) -> list[Result]:
    spec = _spec(options)
    with sqlite_connected(sqlite_dataset(spec)) as (db, conn):
        return [measure(db, Floor(conn, "?"), spec, iso_dates=True, reps=_reps(options),
                        name=sized("shop_board", spec.rows),
                        params={"database": "sqlite", "facts": spec.rows, "members": spec.members})]


def run_postgres(options: Any) -> list[Result]:
    spec = _spec(options)
    with postgres_connected(options.postgres, spec, f"facts over {SHOPS} shops") as (db, conn):
        return [measure(db, Floor(conn, "%s"), spec, iso_dates=False, reps=_reps(options),
                        name=sized("shop_board_pg", spec.rows),
                        params={"database": "postgresql", "facts": spec.rows, "members": spec.members})]
