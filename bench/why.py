"""`why_query` (issues 15 and 19): `why KPI last-week [scope]` — the change against the week before split into
the driver tree's factors (LMDI), who moved it (members, shops, sources) and the notes of those days.

Four questions on the 100-member workspace at 1 M facts (the dataset `unusual_query` reads): the team's GMV
(4 factors), the hosts' GMV (3), one host's GMV, the team's ROAS. Ours is `storage.kpi.why.explain`, what the
`why` command calls, through `KpiEngine`. The floor, in the same run on the raw driver, is what any answer
must read, by hand, in one statement per question: the scope's sums of the tree's metrics over the week and
the week before, and the KPI's metrics per member (not for a member scope), per shop and per source over
each week; then the notes touching those days. The floor's totals are checked against ours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bench.dataset import DatasetSpec, postgres_connected, sqlite_connected, sqlite_dataset, team
from bench.harness import Result, against_floor
from bench.unusual import MEMBERS, sized
from storage.db import Database
from storage.kpi.drivers import tree_for
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef, load_registry
from storage.kpi.scope import Scope
from storage.kpi.why import explain

_WHOSE = {"team": "", "role": " AND member IN (SELECT m.key FROM member m JOIN role_assignment r"
                              " ON r.member_id = m.id WHERE r.role = ?)", "member": " AND member = ?"}
_TOTAL = ("SELECT 'total{w}', '', metric, SUM(value), MAX(date) FROM fact WHERE metric IN ({marks})"
          " AND date BETWEEN ? AND ?{whose} GROUP BY metric")
_SPLIT = ("SELECT '{by}{w}', {by}, metric, SUM(value), MAX(date) FROM fact WHERE metric IN ({marks})"
          " AND date BETWEEN ? AND ?{whose} GROUP BY {by}, metric")
NOTES_SQL = "SELECT id, start_date, end_date, text, kpis, scope_kind, scope_key FROM note" \
            " WHERE start_date <= ? AND end_date >= ? ORDER BY start_date, id"


def _floor_statement(kpi: KpiDef, tree_metrics: list[str], scope: Scope, windows: list[tuple[Any, Any]],
                     ) -> tuple[str, list[Any]]:
    """One statement: per window, the totals of the tree's metrics, then the KPI's metrics per member, shop
    and source (`why` splits by each; a member's own `why` has no members to split by)."""
    whose, key = _WHOSE[scope.kind], ([scope.key] if scope.kind != "team" else [])
    totals = list(dict.fromkeys([*kpi.metrics, *tree_metrics]))
    splits = [by for by in ("member", "shop", "source") if not (by == "member" and scope.kind == "member")]
    branches, params = [], []
    for w, (start, end) in enumerate(windows):
        branches.append(_TOTAL.format(w=w, marks=", ".join("?" * len(totals)), whose=whose))
        params += [*totals, start, end, *key]
        for by in splits:
            branches.append(_SPLIT.format(w=w, by=by, marks=", ".join("?" * len(kpi.metrics)), whose=whose))
            params += [*kpi.metrics, start, end, *key]
    return " UNION ALL ".join(branches), params


def _questions(db: Database, connection: Any, placeholder: str, iso: bool, spec: DatasetSpec,
               ) -> tuple[Callable[[], Any], Callable[[], Any], dict[str, Any]]:
    registry = load_registry(None)
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), week_start=0, today=lambda: spec.end)
    week = engine.calendar.previous(engine.calendar.week(spec.end))  # the last complete week
    before = engine.calendar.previous(week)
    host = next(m for m in team(spec) if m.role == "host")
    asked = [(registry.kpis["gmv"], Scope.team(), []), (registry.kpis["gmv"], Scope.role("host"), ["host"]),
             (registry.kpis["gmv"], Scope.member(host.key), ["host"]), (registry.kpis["roas"], Scope.team(), [])]
    day: Callable[[date], Any] = (lambda d: d.isoformat()) if iso else (lambda d: d)
    windows = [(day(week.start), day(week.end)), (day(before.start), day(before.end))]
    statements = []
    for kpi, scope, roles in asked:
        tree = tree_for(registry, kpi.id, roles)
        sql, params = _floor_statement(kpi, tree.metrics if tree else [], scope, windows)
        statements.append((sql.replace("?", placeholder), params))
    notes = (NOTES_SQL.replace("?", placeholder), [day(week.end), day(before.start)])
    work = [step for statement in statements for step in (statement, notes)]  # each question: facts, notes

    def ours() -> Any:
        return [explain(engine, kpi, scope, week) for kpi, scope, _ in asked]

    def floor() -> Any:
        out = []
        for sql, params in work:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            out.append(cursor.fetchall())
            cursor.close()
        return out

    answers, rows = ours(), floor()
    for (kpi, scope, _), why, found in zip(asked, answers, rows[::2], strict=True):
        for w, expected in ((0, why.after), (1, why.before)):
            sums = {metric: float(total) for branch, _, metric, total, _ in found if branch == f"total{w}"}
            got = kpi.formula.evaluate({m: sums[m] for m in kpi.metrics if m in sums})
            agree = (got is None and expected is None) or (
                got is not None and expected is not None and abs(got - expected) <= 1e-6 * max(1.0, abs(expected)))
            if not agree:  # both None: no data on either side (a small dataset without ad_gmv rows, say)
                raise AssertionError(f"floor and ours differ for {kpi.id} {scope} window {w}: {got} vs {expected}")
    return ours, floor, {"week": week.key, "against": before.key, "questions": [f"{k.id} {s}" for k, s, _ in asked],
                         "floor_rows": sum(len(r) for r in rows)}


def _measure(name: str, db: Database, connection: Any, placeholder: str, spec: DatasetSpec, reps: int,
             params: dict[str, Any]) -> Result:
    ours, floor, facts = _questions(db, connection, placeholder, params["database"] == "sqlite", spec)
    return against_floor(name, ours, floor, reps=reps, params=params, facts=facts,
                         detail=f" for {len(facts['questions'])} questions")


def prepare(options: Any) -> None:
    sqlite_dataset(DatasetSpec(rows=options.rows, members=MEMBERS))


def run(options: Any) -> list[Result]:
    spec = DatasetSpec(rows=options.rows, members=MEMBERS)
    with sqlite_connected(sqlite_dataset(spec)) as (db, conn):
        return [_measure(sized("why_query", spec.rows), db, conn, "?", spec, 10 if options.quick else 30,
                         {"database": "sqlite", "facts": spec.rows, "members": MEMBERS, "days": spec.days})]


def run_postgres(options: Any) -> list[Result]:
    spec = DatasetSpec(rows=options.rows, members=MEMBERS)
    with postgres_connected(options.postgres, spec) as (db, conn):
        return [_measure(sized("why_query_pg", spec.rows), db, conn, "%s", spec, 10 if options.quick else 30,
                         {"database": "postgresql", "facts": spec.rows, "members": MEMBERS,
                          "days": spec.days})]
