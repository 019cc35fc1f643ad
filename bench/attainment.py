"""attainment_query: three chat questions for the current month through the KPI engine — a team
status (`/kpi status`: team GMV), a role leaderboard (`board gmv role:host`) and a member's `me` (a
host's four KPIs) — against the floor: for each, one hand-written SQL aggregate on a raw DB-API
connection returning the same sums (checked before timing). ratio = ours / floor.

`attainment_query_pandas` is the contrast: read the fact table into a DataFrame and answer the same
three questions with pandas (a naive full scan), timed against the same floor.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bench.dataset import DatasetSpec, load_postgres, sqlite_dataset, team
from bench.harness import NotAvailable, Result, interleaved, median, peak_rss_mb, say, spread
from bench.postgres import configured_url, libpq_dsn, scratch_schema
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef, Registry, load_registry
from storage.kpi.scope import Scope

QUESTIONS = ("team_status", "role_board", "member_me")
BOARD_ROLE = "host"

SCOPED_SUMS = """
SELECT 'c', metric, SUM(value), MAX(date) FROM fact
 WHERE metric IN ({metrics}) AND date BETWEEN ? AND ?{scope} GROUP BY metric
UNION ALL
SELECT 'p', metric, SUM(value), MAX(date) FROM fact
 WHERE metric IN ({metrics}) AND date BETWEEN ? AND ?{scope} GROUP BY metric
"""
ROLE_SUMS = """
SELECT f.member, f.metric, SUM(f.value), MAX(f.date) FROM fact f
 WHERE f.metric IN ({metrics}) AND f.date BETWEEN ? AND ? AND f.member <> ''
   AND f.member IN (SELECT m.key FROM member m JOIN role_assignment r ON r.member_id = m.id WHERE r.role = ?)
 GROUP BY f.member, f.metric
"""


@dataclass
class Floor:
    """One SQL statement per question on a raw connection (sqlite3 or psycopg)."""

    connection: Any
    placeholder: str  # "?" or "%s"

    def run(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        cursor.execute(sql.replace("?", self.placeholder), params)
        rows = cursor.fetchall()
        cursor.close()
        return rows


class Questions:
    """The three questions, ours (engine) and the floor (raw SQL), over one database."""

    def __init__(self, db: Database, floor: Floor, spec: DatasetSpec, *, iso_dates: bool) -> None:
        self.registry: Registry = load_registry(None)
        self.engine = KpiEngine(db, self.registry, tz=ZoneInfo("UTC"), week_start=0, today=lambda: spec.end)
        self.floor = floor
        self.iso_dates = iso_dates
        self.month: Period = self.engine.calendar.month(spec.end)
        self.gmv: KpiDef = self.registry.kpis["gmv"]
        self.host_kpis = [self.registry.kpis[k] for k in self.registry.roles[BOARD_ROLE].kpis]
        self.me_key = next(m.key for m in team(spec) if m.role == BOARD_ROLE)
        # The previous period like for like (as the engine compares it): known from the data, fixed here.
        through = self.engine.status(self.gmv, Scope.team(), self.month).data_through
        self.previous = self._like_for_like(through)
        me_through = self.engine.statuses(self.host_kpis, Scope.member(self.me_key), self.month)
        self.me_previous = self._like_for_like(max((s.data_through for s in me_through if s.data_through),
                                                   default=None))

    def _like_for_like(self, through: date | None) -> tuple[date, date]:
        previous = self.engine.calendar.previous(self.month)
        if through is None:
            return previous.start, previous.end
        end = min(previous.end, previous.start + (min(through, self.engine.today()) - self.month.start))
        return previous.start, end

    def _d(self, day: date) -> Any:
        return day.isoformat() if self.iso_dates else day

    # ---- ours -----------------------------------------------------------------------------

    def ours(self) -> dict[str, Callable[[], Any]]:
        return {
            "team_status": lambda: self.engine.status(self.gmv, Scope.team(), self.month),
            "role_board": lambda: self.engine.board(self.gmv, BOARD_ROLE, self.month),
            "member_me": lambda: self.engine.statuses(self.host_kpis, Scope.member(self.me_key), self.month),
        }

    # ---- the floor ------------------------------------------------------------------------

    def floors(self) -> dict[str, Callable[[], Any]]:
        return {
            "team_status": lambda: self._scoped(self.gmv.metrics, None, self.previous),
            "role_board": self._role,
            "member_me": lambda: self._scoped(_metrics(self.host_kpis), self.me_key, self.me_previous),
        }

    def _scoped(self, metrics: list[str], member: str | None, previous: tuple[date, date]) -> list[tuple[Any, ...]]:
        marks = ", ".join("?" for _ in metrics)
        scope = " AND member = ?" if member is not None else ""
        extra = [member] if member is not None else []
        params = [*metrics, self._d(self.month.start), self._d(self.month.end), *extra,
                  *metrics, self._d(previous[0]), self._d(previous[1]), *extra]
        return self.floor.run(SCOPED_SUMS.format(metrics=marks, scope=scope), params)

    def _role(self) -> list[tuple[Any, ...]]:
        metrics = self.gmv.metrics
        marks = ", ".join("?" for _ in metrics)
        params = [*metrics, self._d(self.month.start), self._d(self.month.end), BOARD_ROLE]
        return self.floor.run(ROLE_SUMS.format(metrics=marks), params)

    # ---- same numbers? ----------------------------------------------------------------------

    def check(self) -> None:
        """The floor must return the numbers the engine computes; a benchmark of a wrong floor is worthless."""
        ours, floors = self.ours(), self.floors()
        team_status = ours["team_status"]()
        rows = floors["team_status"]()
        _same(team_status.sums, {m: v for kind, m, v, _ in rows if kind == "c"}, "team status (current)")
        previous = {m: v for kind, m, v, _ in rows if kind == "p"}
        _close(team_status.previous_actual, self.gmv.formula.evaluate(previous), "team status (previous)")
        board = ours["role_board"]()
        by_member: dict[str, dict[str, float]] = {}
        for member, metric, total, _ in floors["role_board"]():
            by_member.setdefault(member, {})[metric] = total
        for row in board:
            _same(row.status.sums or {}, by_member.get(row.member, {}), f"board row {row.member}")
        me = ours["member_me"]()
        rows = floors["member_me"]()
        current = {m: v for kind, m, v, _ in rows if kind == "c"}
        for status in me:
            _same(status.sums or {}, {m: current[m] for m in status.kpi.metrics if m in current}, "me")


def _metrics(kpis: list[KpiDef]) -> list[str]:
    return list(dict.fromkeys(m for k in kpis for m in k.metrics))


def _same(ours: dict[str, float], floor: dict[str, float], what: str) -> None:
    if set(ours) != set(floor):
        raise AssertionError(f"floor differs from the engine for {what}: metrics {sorted(ours)} vs {sorted(floor)}")
    for metric, value in ours.items():
        _close(value, floor[metric], f"{what} {metric}")


def _close(ours: float | None, floor: float | None, what: str) -> None:
    if ours is None or floor is None:
        if ours is not floor:
            raise AssertionError(f"floor differs from the engine for {what}: {ours} vs {floor}")
        return
    if not math.isclose(ours, float(floor), rel_tol=1e-9, abs_tol=1e-6):
        raise AssertionError(f"floor differs from the engine for {what}: {ours} vs {floor}")


def measure(questions: Questions, *, reps: int, name: str, params: dict[str, Any]) -> Result:
    questions.check()
    cases: dict[str, Callable[[], Any]] = {}
    for question in QUESTIONS:
        cases[f"ours:{question}"] = questions.ours()[question]
        cases[f"floor:{question}"] = questions.floors()[question]
    times = interleaved(cases, reps=reps, warmup=2)
    ours = {q: median(times[f"ours:{q}"]) * 1000 for q in QUESTIONS}
    floor = {q: median(times[f"floor:{q}"]) * 1000 for q in QUESTIONS}
    value, baseline = sum(ours.values()), sum(floor.values())
    details = {
        f"{q}_ms": {"ours": round(ours[q], 3), "floor": round(floor[q], 3), "ratio": round(ours[q] / floor[q], 2),
                    "ours_range_ms": spread([t * 1000 for t in times[f"ours:{q}"]])}
        for q in QUESTIONS
    }
    return Result(
        name=name, value=round(value, 3), unit="ms", baseline_name="sql_floor", baseline_value=round(baseline, 3),
        ratio=round(value / baseline, 2), params={**params, "reps": reps, **details}, peak_rss_mb=peak_rss_mb(),
    )


def _spec(options: Any) -> DatasetSpec:
    return DatasetSpec(rows=options.rows)


DEFAULT_ROWS = 1_000_000


def sized(name: str, rows: int, default: int = DEFAULT_ROWS) -> str:
    """`attainment_query` at the default 1 M facts, `attainment_query_10m` at 10 M (both fit one table)."""
    if rows == default:
        return name
    label = f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"{rows // 1000}k"
    return f"{name}_{label}"


def _reps(options: Any) -> int:
    return 10 if options.quick else 30


def prepare_sqlite(options: Any) -> None:
    """Generate (or find cached) the SQLite file; runs in its own process so its memory is not counted."""
    sqlite_dataset(_spec(options))


def run_sqlite(options: Any) -> list[Result]:
    spec = _spec(options)
    path = sqlite_dataset(spec)
    db = Database(f"sqlite:///{path}")
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    try:
        questions = Questions(db, Floor(conn, "?"), spec, iso_dates=True)
        return [measure(questions, reps=_reps(options), name=sized("attainment_query", spec.rows),
                        params={"database": "sqlite", "facts": spec.rows, "members": spec.members,
                                "days": spec.days, "today": spec.end.isoformat()})]
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
        say(f"  loading {spec.rows:,} facts into PostgreSQL (COPY) …")
        load_postgres(db, spec)
        conn = psycopg.connect(libpq_dsn(url), autocommit=True)
        try:
            questions = Questions(db, Floor(conn, "%s"), spec, iso_dates=False)
            return [measure(questions, reps=_reps(options), name=sized("attainment_query_pg", spec.rows),
                            params={"database": "postgresql", "facts": spec.rows, "members": spec.members,
                                    "days": spec.days, "today": spec.end.isoformat()})]
        finally:
            conn.close()
            db.dispose()


def run_pandas(options: Any) -> list[Result]:
    import pandas as pd

    spec = _spec(options)
    path = sqlite_dataset(spec)
    db = Database(f"sqlite:///{path}")
    conn = sqlite3.connect(path, check_same_thread=False)
    try:
        questions = Questions(db, Floor(conn, "?"), spec, iso_dates=True)
        floors = questions.floors()
        hosts = [m.key for m in team(spec) if m.role == BOARD_ROLE]
        month_start, month_end = questions.month.start.isoformat(), questions.month.end.isoformat()
        previous = tuple(d.isoformat() for d in questions.previous)
        host_metrics = _metrics(questions.host_kpis)

        def naive() -> None:
            frame = pd.read_sql_query("SELECT metric, date, member, value FROM fact", conn)
            in_month = frame[(frame.date >= month_start) & (frame.date <= month_end)]
            gmv = in_month[in_month.metric == "gmv"]
            gmv.value.sum(), gmv.date.max()
            before = frame[(frame.metric == "gmv") & (frame.date >= previous[0]) & (frame.date <= previous[1])]
            before.value.sum()
            board = gmv[gmv.member.isin(hosts)].groupby("member").agg(total=("value", "sum"), newest=("date", "max"))
            board.sort_values("total", ascending=False)
            mine = in_month[(in_month.member == questions.me_key) & in_month.metric.isin(host_metrics)]
            mine.groupby("metric").agg(total=("value", "sum"), newest=("date", "max"))

        def floor() -> None:
            for question in QUESTIONS:
                floors[question]()

        reps = 3 if spec.rows <= 2_000_000 and not options.quick else 1
        times = interleaved({"pandas": naive, "floor": floor}, reps=reps, warmup=0)
        value, baseline = median(times["pandas"]) * 1000, median(times["floor"]) * 1000
        return [Result(
            name=sized("attainment_query_pandas", spec.rows), value=round(value, 1), unit="ms",
            baseline_name="sql_floor", baseline_value=round(baseline, 3), ratio=round(value / baseline, 1),
            params={"database": "sqlite", "facts": spec.rows, "reps": reps, "what": "read_sql full table + groupby"},
            peak_rss_mb=peak_rss_mb(),
        )]
    finally:
        conn.close()
        db.dispose()
