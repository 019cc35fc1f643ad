"""attainment_query: three chat questions for the current month through the KPI engine — a team
status (`/kpi status`: team GMV), a role leaderboard (`board gmv role:host`) and a member's `me` (a
host's four KPIs) — against the floor: for each, one hand-written SQL aggregate on a raw DB-API
connection returning the same sums (checked before timing). ratio = ours / floor.

`attainment_query_pandas` is the contrast: read the fact table into a DataFrame and answer the same
three questions with pandas (a naive full scan), timed against the same floor.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from bench.dataset import DatasetSpec, postgres_connected, sqlite_connected, sqlite_dataset, team
from bench.harness import Result, interleaved, median, peak_rss_mb, spread
from storage.db import Database
from storage.kpi.attainment import KpiStatus
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef, Registry, load_registry
from storage.kpi.scope import Scope
from storage.repositories.figures import Grouping, GroupRead

QUESTIONS = ("team_status", "role_board", "member_me")
BOARD_ROLE = "host"

# The floor answers a question the way the engine must (SPEC §5, the per-source data-through rule), by hand,
# in one statement on a raw connection: per group and KPI each source's newest date, the ongoing sources
# (rows within ONGOING_DAYS before the newest of any source), d = the oldest newest-date among them capped
# by today and the period end, the sums through d, the headline sums (all rows), the previous period cut
# like for like at d (single answers) and the month's targets. Named parameters (:name), rewritten for psycopg.
ONGOING_DAYS = 7
_WEEK_BEFORE = {"sqlite": f"date(top, '-{ONGOING_DAYS} days')", "postgresql": f"top - {ONGOING_DAYS}"}
_CUT = {"sqlite": "date(:previous_start, '+' || CAST(julianday(t.d) - julianday(:start) AS INTEGER) || ' days')",
        "postgresql": ":previous_start + (t.d - :start)"}


@dataclass(frozen=True)
class FloorQuery:
    """`group`: '' (one group) or a fact column; `where`: a filter on fact (no alias) reading named
    parameters; `target`: the target rows' filter (scope kind / key), on the month exactly."""

    kpis: dict[str, list[str]]
    group: str
    where: str
    target: str
    previous: bool
    holders: bool = False

    def sql(self, dialect: str) -> str:
        group, where = self.group, self.where
        g, by = (group, f"{group}, ") if group else ("''", "")
        fg = f"f.{group}" if group else "''"
        f_where = where.replace(" AND member", " AND f.member").replace(" AND shop", " AND f.shop")
        pairs = [(k, m) for k, ms in self.kpis.items() for m in ms]
        km = ", ".join(f"(:k{i}, :m{i})" for i in range(len(pairs)))
        in_metrics = ", ".join(f":metric{i}" for i in range(len(self.metrics)))
        in_kpis = ", ".join(f":kpi{i}" for i in range(len(self.kpis)))
        week_before = _WEEK_BEFORE[dialect]
        sql = (
            f"WITH km(kpi, metric) AS (VALUES {km}),"
            f" per_day AS (SELECT {g} AS g, metric, source, date, SUM(value) AS total FROM fact"
            f"  WHERE metric IN ({in_metrics}) AND date BETWEEN :start AND :end{where}"
            f"  GROUP BY {by}metric, source, date),"
            " src AS (SELECT p.g, km.kpi, p.source, MAX(p.date) AS newest FROM per_day p"
            "  JOIN km ON km.metric = p.metric GROUP BY p.g, km.kpi, p.source),"
            " ranked AS (SELECT g, kpi, source, newest, MAX(newest) OVER (PARTITION BY g, kpi) AS top FROM src),"
            " t AS (SELECT g, kpi, CASE WHEN MIN(newest) > :cap THEN :cap ELSE MIN(newest) END AS d FROM ranked"
            f"  WHERE newest >= {week_before} GROUP BY g, kpi)"
            " SELECT 'sum', g, '', metric, SUM(total), NULL FROM per_day GROUP BY g, metric"
            f" UNION ALL SELECT 'source', g, kpi, source, CASE WHEN newest >= {week_before} THEN 1 ELSE 0 END,"
            "  newest FROM ranked"
            " UNION ALL SELECT 'day', g, kpi, '', NULL, d FROM t"
            " UNION ALL SELECT 'through', t.g, t.kpi, p.metric, SUM(p.total), NULL FROM per_day p"
            "  JOIN km ON km.metric = p.metric JOIN t ON t.g = p.g AND t.kpi = km.kpi WHERE p.date <= t.d"
            "  GROUP BY t.g, t.kpi, p.metric"
        )
        if self.previous:
            sql += (
                " UNION ALL SELECT 'previous', t.g, t.kpi, f.metric, SUM(f.value), MIN(f.date) FROM fact f"
                f"  JOIN km ON km.metric = f.metric JOIN t ON t.kpi = km.kpi AND t.g = {fg}"
                f"  WHERE f.metric IN ({in_metrics}) AND f.date BETWEEN :previous_start AND :previous_end"
                f"  AND f.date <= {_CUT[dialect]}{f_where} GROUP BY t.g, t.kpi, f.metric"
            )
        if self.holders:
            sql += (" UNION ALL SELECT 'holder', m.key, '', m.display_name, NULL, NULL FROM member m"
                    " JOIN role_assignment r ON r.member_id = m.id WHERE r.role = :role")
        sql += (" UNION ALL SELECT 'target', scope_key, kpi, '', value, NULL FROM target"
                f" WHERE kpi IN ({in_kpis}) AND {self.target} AND period_start = :start AND period_end = :end")
        if dialect == "postgresql":
            sql = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)
        return sql

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(m for ms in self.kpis.values() for m in ms))

    def params(self, bounds: dict[str, Any]) -> dict[str, Any]:
        """`bounds`: start, end, cap (today capped by the end), previous_start/_end, and the filters' keys."""
        pairs = [(k, m) for k, ms in self.kpis.items() for m in ms]
        out = dict(bounds)
        for i, (kpi, metric) in enumerate(pairs):
            out[f"k{i}"], out[f"m{i}"] = kpi, metric
        for i, metric in enumerate(self.metrics):
            out[f"metric{i}"] = metric
        for i, kpi in enumerate(self.kpis):
            out[f"kpi{i}"] = kpi
        return out


@dataclass
class FloorGroup:
    sums: dict[str, float] = field(default_factory=dict)
    day: dict[str, date] = field(default_factory=dict)  # KPI → d
    through: dict[str, dict[str, float]] = field(default_factory=dict)  # KPI → metric → sum through d
    previous: dict[str, dict[str, tuple[float, date]]] = field(default_factory=dict)  # KPI → metric → (sum, first)
    target: dict[str, float] = field(default_factory=dict)


def by_group(rows: list[tuple[Any, ...]]) -> dict[str, FloorGroup]:
    """The floor's rows per group (targets under their scope key) — for the check only, not timed."""
    out: dict[str, FloorGroup] = {}
    for kind, group, kpi, name, number, day in rows:
        into = out.setdefault(group, FloorGroup())
        if kind == "sum":
            into.sums[name] = float(number)
        elif kind == "day":
            into.day[kpi] = _day(day)
        elif kind == "through":
            into.through.setdefault(kpi, {})[name] = float(number)
        elif kind == "previous":
            into.previous.setdefault(kpi, {})[name] = (float(number), _day(day))
        elif kind == "target":
            into.target[kpi] = float(number)
    return out


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class Floor:
    """One SQL statement per question on a raw connection (sqlite3 or psycopg)."""

    connection: Any
    placeholder: str  # "?" or "%s"

    @property
    def dialect(self) -> str:
        return "sqlite" if self.placeholder == "?" else "postgresql"

    def run(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        cursor.execute(sql if isinstance(params, dict) else sql.replace("?", self.placeholder), params)
        rows = cursor.fetchall()
        cursor.close()
        return rows


class Questions:
    """The three questions, ours (engine) and the floor (raw SQL), over one database."""

    def __init__(self, db: Database, floor: Floor, spec: DatasetSpec, *, iso_dates: bool) -> None:
        self.registry: Registry = load_registry(None)
        self.db = db
        self.engine = KpiEngine(db, self.registry, tz=ZoneInfo("UTC"), week_start=0, today=lambda: spec.end)
        self.floor = floor
        self.iso_dates = iso_dates
        self.month: Period = self.engine.calendar.month(spec.end)
        self.gmv: KpiDef = self.registry.kpis["gmv"]
        self.host_kpis = [self.registry.kpis[k] for k in self.registry.roles[BOARD_ROLE].kpis]
        self.me_key = next(m.key for m in team(spec) if m.role == BOARD_ROLE)
        previous = self.engine.calendar.previous(self.month)
        self.previous = (previous.start, previous.end)  # the pandas contrast's window
        self.bounds = {"start": self._d(self.month.start), "end": self._d(self.month.end),
                       "cap": self._d(min(spec.end, self.month.end)), "previous_start": self._d(previous.start),
                       "previous_end": self._d(previous.end)}
        gmv = {"gmv": self.gmv.metrics}
        dialect = floor.dialect
        self.queries = {
            "team_status": FloorQuery(gmv, "", "", "scope_kind = 'team' AND scope_key = '' AND shop = ''",
                                      previous=True),
            "role_board": FloorQuery(gmv, "member", " AND member <> '' AND member IN (SELECT m.key FROM member m"
                                     " JOIN role_assignment r ON r.member_id = m.id WHERE r.role = :role)",
                                     "scope_kind = 'member' AND shop = ''", previous=False, holders=True),
            "member_me": FloorQuery({k.id: k.metrics for k in self.host_kpis}, "", " AND member = :key",
                                    "scope_kind = 'member' AND scope_key = :key AND shop = ''", previous=True),
        }
        self.statements = {q: (query.sql(dialect), query.params(self.bounds | {"role": BOARD_ROLE, "key": self.me_key}))
                           for q, query in self.queries.items()}

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
        return {q: partial(self._floor, q) for q in QUESTIONS}

    def _floor(self, question: str) -> list[tuple[Any, ...]]:
        return self.floor.run(*self.statements[question])

    # ---- same numbers? ----------------------------------------------------------------------

    def check(self) -> None:
        """The floor must return the figures the engine computes — headline sums, data-through date, sums
        through it, previous period like for like, target; a benchmark of a wrong floor is worthless."""
        ours, floors = self.ours(), self.floors()
        team = by_group(floors["team_status"]())
        self._same_status(ours["team_status"](), team[""], team[""].target, Grouping.of_scope(Scope.team()))
        board = by_group(floors["role_board"]())
        through = self._through([self.gmv], Grouping.members(BOARD_ROLE))
        rows = ours["role_board"]()
        with_rows = {key for key, group in board.items() if group.sums}
        if not with_rows <= {row.member for row in rows}:
            raise AssertionError(f"floor board members {sorted(with_rows)} not all on the engine's board")
        for row in rows:
            group = board.get(row.member, FloorGroup())
            self._same_status(row.status, group, group.target, None, through.get(row.member))
        me = by_group(floors["member_me"]())
        for status in ours["member_me"]():
            self._same_status(status, me[""], me[self.me_key].target, Grouping.of_scope(Scope.member(self.me_key)))

    def _through(self, kpis: list[KpiDef], grouping: Grouping) -> dict[str, GroupRead]:
        with self.db.session() as session:
            return self.engine._read(session, kpis, grouping, self.month, self.engine.today()).groups

    def _same_status(self, status: KpiStatus, group: FloorGroup, targets: dict[str, float],
                     grouping: Grouping | None, engine_read: GroupRead | None = None) -> None:
        kpi, what = status.kpi, f"{status.kpi.id} {status.scope}"
        _same(status.sums or {}, {m: group.sums[m] for m in kpi.metrics if m in group.sums}, f"{what} headline")
        if status.data_through != group.day.get(kpi.id):
            raise AssertionError(f"{what}: data through {status.data_through} vs the floor's {group.day.get(kpi.id)}")
        if grouping is not None:
            engine_read = self._through([kpi], grouping).get("")
        if engine_read is not None:
            _same(engine_read.kpi(kpi.id).through_sums, group.through.get(kpi.id, {}), f"{what} through d")
        expected = targets.get(kpi.id)
        _close(status.target.value if status.target else None, expected, f"{what} target")
        if grouping is not None:  # single answers compare with the previous period like for like
            previous = group.previous.get(kpi.id, {})
            value = None
            if all(m in previous for m in kpi.metrics) and max(previous[m][1] for m in kpi.metrics) <= self.previous[0]:
                value = kpi.formula.evaluate({m: previous[m][0] for m in kpi.metrics})
            _close(status.previous_actual, value, f"{what} previous")


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
    with sqlite_connected(sqlite_dataset(spec)) as (db, conn):
        conn.execute("PRAGMA journal_mode=WAL")
        questions = Questions(db, Floor(conn, "?"), spec, iso_dates=True)
        return [measure(questions, reps=_reps(options), name=sized("attainment_query", spec.rows),
                        params={"database": "sqlite", "facts": spec.rows, "members": spec.members,
                                "days": spec.days, "today": spec.end.isoformat()})]


def run_postgres(options: Any) -> list[Result]:
    spec = _spec(options)
    with postgres_connected(options.postgres, spec) as (db, conn):
        questions = Questions(db, Floor(conn, "%s"), spec, iso_dates=False)
        return [measure(questions, reps=_reps(options), name=sized("attainment_query_pg", spec.rows),
                        params={"database": "postgresql", "facts": spec.rows, "members": spec.members,
                                "days": spec.days, "today": spec.end.isoformat()})]


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
