"""Daily series and window sums for the review questions (why, unusual, baselines, before/after).

Each read is one SQL statement whatever the number of days, members or KPIs: the database sums the facts,
Python only evaluates formulas on the sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal

from sqlalchemy import BindParameter, Connection, Date, TextClause, bindparam, text
from sqlmodel import Session

from storage.kpi.scope import Scope
from storage.repositories.facts import _ROLE_HOLDERS, _SCOPED  # the engine's scope filters

ScopeKey = tuple[str, str]  # (team | role | member, '' | role id | member key)
Series = dict[date, dict[str, float]]  # day → metric → sum

ReadKind = Literal["team", "role", "holders", "member", "shop"]


@dataclass(frozen=True)
class DailyRead:
    """Which scope's daily sums to read, and of which metrics: the `team`'s (every row), a `role`'s (its
    holders' rows summed), each of a role's `holders` separately (one series per member), one `member`'s, or
    one `shop`'s. `shop` narrows a role, its holders or a member to that shop's rows (Scope.shop)."""

    kind: ReadKind
    key: str  # '' for the team | role id for role and holders | member key | shop key
    metrics: tuple[str, ...]
    shop: str = ""


# One branch per read, all in one statement. Each groups in the fact index's order (metric, date, member), so
# no branch sorts; the team's and a role's sums are rolled up by the database, never fetched per member.
_BRANCHES: dict[ReadKind, tuple[str, str, str]] = {  # kind → (member column, filter, grouping)
    "team": ("''", "", "metric, date"),
    "role": ("''", f" AND member IN ({_ROLE_HOLDERS.replace(':key', ':k{i}')})", "metric, date"),
    "holders": ("member", f" AND member IN ({_ROLE_HOLDERS.replace(':key', ':k{i}')})", "metric, date, member"),
    "member": ("''", " AND member = :k{i}", "metric, date"),
    "shop": ("''", " AND shop = :k{i}", "metric, date"),
}
# On SQLite the team's read and the roles' reads (every shop) share one branch that reads each row once,
# grouped by (metric, date): the team's sum and, per role, the sum of its holders' rows (NULL: none; a role's
# sums of metrics it does not read are dropped in Python). The rows are added in the same index order as a
# branch per role would, so the sums are the same to the last bit. PostgreSQL keeps a branch per role: its
# plans sum in another order (the last bits would move), and the one pass measured no faster there at 1 M facts.
_ROLE_SUM = "SUM(CASE WHEN member IN (" + _ROLE_HOLDERS.replace(":key", ":k{i}") + ") THEN value END)"


@cache
def _daily_statements(rolled: tuple[int, ...], kinds: tuple[tuple[ReadKind, bool], ...]) -> tuple[TextClause, ...]:
    """The rolled branch (the reads at `rolled`, the team's first, then roles', summed side by side: a sum per
    rolled read) as its own statement, then one branch per other (kind, narrowed to a shop) read in one more
    statement of four columns. Two statements, not one UNION ALL, so that the per-member rows (the wide
    part of the fetch) are not padded with the rolled sums' NULL columns: on SQLite a second statement on the
    same connection costs no round trip (PostgreSQL rolls nothing up, so it keeps the one statement)."""
    statements = []
    if rolled:
        team, *roles = rolled
        sums = ["SUM(value)", *(_ROLE_SUM.format(i=i) for i in roles)]  # :m{team} holds every rolled read's metrics
        statements.append(text(f"SELECT date, metric, {', '.join(sums)} FROM fact WHERE metric IN :m{team}"
                               " AND date BETWEEN :start AND :end GROUP BY metric, date").bindparams(
            bindparam(f"m{team}", expanding=True), bindparam("start", type_=Date()), bindparam("end", type_=Date())))
    branches = []
    for i, (kind, in_shop) in enumerate(kinds):
        if i in rolled:
            continue
        who, whose, group = _BRANCHES[kind]
        whose += " AND shop = :s{i}" if in_shop else ""
        branches.append(f"SELECT {i}, {who}, date, metric, SUM(value) FROM fact WHERE metric IN :m{i}"
                        f" AND date BETWEEN :start AND :end{whose.format(i=i)} GROUP BY {group}")
    if branches:
        statements.append(text(" UNION ALL ".join(branches)).bindparams(
            *(bindparam(f"m{i}", expanding=True) for i in range(len(kinds)) if i not in rolled),
            bindparam("start", type_=Date()), bindparam("end", type_=Date()),
        ))
    return tuple(statements)


def _fetched(connection: Connection, statement: TextClause, params: dict[str, Any]) -> Sequence[Any]:
    result = connection.execute(statement, params)
    try:
        return result.cursor.fetchall()  # the driver's plain tuples: Row objects cost ~1 µs each, 30 ms at 1 M facts
    finally:
        result.close()


def _rolled(reads: Sequence[DailyRead]) -> tuple[int, ...]:
    """The first team read and every role read over every shop, when there is a team read: the team reads
    every row anyway, so the roles' sums come from the same pass."""
    team = next((i for i, r in enumerate(reads) if r.kind == "team" and not r.shop), None)
    if team is None:
        return ()
    return (team, *(i for i, r in enumerate(reads) if r.kind == "role" and not r.shop))


def daily_by_scope(session: Session, reads: Sequence[DailyRead], start: date, end: date, *,
                   holders: dict[str, list[str]] | None = None) -> dict[ScopeKey, Series]:
    """Daily sums over [start, end] for each read, in one statement (two on SQLite with a team read: the
    team's and roles' rolled-up sums, then the rest): (team | role | member, key) → series.
    A member read by two holders reads (two roles) gets both reads' metrics in one series. `holders`, when
    given, is filled with member key → the roles of the holders reads that found rows of theirs."""
    reads = [r for r in reads if r.metrics]
    if not reads:
        return {}
    connection = session.connection()
    rolled = _rolled(reads) if connection.dialect.name == "sqlite" else ()
    params: dict[str, Any] = {"start": start, "end": end}
    out: dict[ScopeKey, Series] = {}
    into: list[Series | None] = []  # per branch, its series; None = one series per member (holders)
    for i, read in enumerate(reads):
        if i not in rolled[1:]:  # a rolled role's metrics are the rolled branch's list
            params[f"m{i}"] = list(read.metrics)
        if read.kind != "team":
            params[f"k{i}"] = read.key
        if read.shop:
            params[f"s{i}"] = read.shop
        into.append(None if read.kind == "holders" else out.setdefault((read.kind, read.key), {}))
    rolled_into: list[tuple[Series, frozenset[str]]] = []  # per sum of the rolled branch: its series, its metrics
    if rolled:
        params[f"m{rolled[0]}"] = sorted({m for i in rolled for m in reads[i].metrics})
        rolled_into = [(out[(reads[i].kind, reads[i].key)], frozenset(reads[i].metrics)) for i in rolled]
    if connection.dialect.name == "postgresql":
        # Every branch is cheap, but their summed cost estimate crosses jit_above_cost: PostgreSQL would JIT-
        # compile the plan first (~150 ms at 1 M facts, longer than running it). For this transaction only.
        connection.exec_driver_sql("SET LOCAL jit = off")
    statements = _daily_statements(rolled, tuple((r.kind, bool(r.shop)) for r in reads))
    days: dict[Any, date] = {}  # each distinct date value parsed once (SQLite returns text)
    if rolled:  # the team's sum, then each role's (None: no rows of the role's holders)
        rolled_by_metric: dict[str, list[tuple[int, Series]]] = {}  # metric → (column, series) of its rolled reads
        for row in _fetched(connection, statements[0], params):
            day, metric = row[0], row[1]
            if (parsed := days.get(day)) is None:
                parsed = days[day] = as_date(day)
            if (columns := rolled_by_metric.get(metric)) is None:
                columns = rolled_by_metric[metric] = [(2 + j, series) for j, (series, metrics) in enumerate(rolled_into)
                                                      if metric in metrics]
            for column, series in columns:
                if (value := row[column]) is not None:
                    if (cells := series.get(parsed)) is None:
                        cells = series[parsed] = {}
                    cells[metric] = float(value)
    members: list[dict[str, Series]] = [{} for _ in reads]  # per holders read: member → their series
    for index, who, day, metric, value in (_fetched(connection, statements[-1], params)
                                           if len(statements) > bool(rolled) else ()):
        if (parsed := days.get(day)) is None:
            parsed = days[day] = as_date(day)
        if (mine := into[index]) is None and (mine := members[index].get(who)) is None:
            mine = members[index][who] = out.setdefault(("member", who), {})
            if holders is not None:
                holders.setdefault(who, []).append(reads[index].key)
        if (sums := mine.get(parsed)) is None:
            sums = mine[parsed] = {}
        sums[metric] = float(value)
    return {key: series for key, series in out.items() if series}


@dataclass
class WindowSums:
    sums: dict[str, float] = field(default_factory=dict)
    newest: date | None = None  # the newest day with a row for any of the metrics
    oldest: date | None = None


SPLITS = ("member", "shop", "source")  # the fact columns a total can be split by


@cache
def _windows_statement(count: int, filter_kind: tuple[str, bool], bys: tuple[str | None, ...], own_split_metrics: bool,
                       ) -> TextClause:
    """Per window i and split j (a fact column, or None for the scope's totals), one grouped branch. With
    `own_split_metrics` the splits read `:split_metrics` and the totals `:metrics`. `filter_kind` is
    Scope.filter_kind: a role or member narrowed to a shop reads only that shop's rows (:shop)."""
    if unknown := [by for by in bys if by is not None and by not in SPLITS]:
        raise ValueError(f"cannot split facts by {unknown[0]!r}")
    branch = ("SELECT {i}, {j}, {who}, metric, SUM(value), MAX(date), MIN(date) FROM fact WHERE metric IN :{metrics}"
              " AND date BETWEEN :s{i} AND :e{i}{scope} GROUP BY {group}")
    sql = " UNION ALL ".join(
        branch.format(i=i, j=j, who=by or "''", scope=_SCOPED[filter_kind],
                      group=f"{by}, metric" if by else "metric",
                      metrics="split_metrics" if by and own_split_metrics else "metrics")
        for j, by in enumerate(bys) for i in range(count)
    )
    dates = [bindparam(f"{edge}{i}", type_=Date()) for i in range(count) for edge in ("s", "e")]
    lists: list[BindParameter[Any]] = [bindparam(name, expanding=True)
                                       for name in ("metrics", "split_metrics")[:1 + own_split_metrics]]
    return text(sql).bindparams(*lists, *dates)


def window_sums(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]],
) -> list[WindowSums]:
    """The scope's sums over each [start, end] window, in one statement (windows may overlap)."""
    found = _read_windows(session, metrics, scope, windows, (None,))
    return [found.get((0, i, ""), WindowSums()) for i in range(len(windows))]


def split_window_sums(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]], by: str,
) -> list[dict[str, WindowSums]]:
    """Per window, the scope's sums for each value of one fact column (`member`, `shop` or `source`), grouped
    by the database in one statement ('' = the column left empty: no person, no shop named)."""
    return splits_window_sums(session, metrics, scope, windows, (by,))[by]


def splits_window_sums(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]],
    bys: Sequence[str],
) -> dict[str, list[dict[str, WindowSums]]]:
    """`split_window_sums` by several fact columns at once, still one statement: by → per window → key → sums."""
    found = _read_windows(session, metrics, scope, windows, tuple(bys))
    out: dict[str, list[dict[str, WindowSums]]] = {by: [{} for _ in windows] for by in bys}
    for (j, i, key), sums in found.items():
        out[bys[j]][i][key] = sums
    return out


def window_and_split_sums(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]],
    bys: Sequence[str], split_metrics: Iterable[str],
) -> tuple[list[WindowSums], dict[str, list[dict[str, WindowSums]]]]:
    """`window_sums` of `metrics` and `splits_window_sums` of `split_metrics` over the same windows, in one
    statement (a `why` whose windows are all known before reading)."""
    found = _read_windows(session, metrics, scope, windows, (None, *bys), split_metrics=split_metrics)
    totals = [found.get((0, i, ""), WindowSums()) for i in range(len(windows))]
    splits: dict[str, list[dict[str, WindowSums]]] = {by: [{} for _ in windows] for by in bys}
    for (j, i, key), sums in found.items():
        if j:
            splits[bys[j - 1]][i][key] = sums
    return totals, splits


def _read_windows(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]],
    bys: tuple[str | None, ...], *, split_metrics: Iterable[str] | None = None,
) -> dict[tuple[int, int, str], WindowSums]:
    if not windows or not bys:
        return {}
    params: dict[str, Any] = {"metrics": list(metrics), "key": scope.key}
    if scope.filter_kind[1]:
        params["shop"] = scope.shop
    if split_metrics is not None:
        params["split_metrics"] = list(split_metrics)
    for i, (start, end) in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = start, end
    statement = _windows_statement(len(windows), scope.filter_kind, bys, split_metrics is not None)
    out: dict[tuple[int, int, str], WindowSums] = {}
    rows = _fetched(session.connection(), statement, params)
    days: dict[Any, date] = {}  # each distinct date value parsed once (SQLite returns text)
    for index, split, key, metric, total, newest, oldest in rows:
        into = out.get(found := (int(split), int(index), key))
        if into is None:
            into = out[found] = WindowSums()
        into.sums[metric] = float(total)
        if (new := days.get(newest)) is None:
            new = days[newest] = as_date(newest)
        if (old := days.get(oldest)) is None:
            old = days[oldest] = as_date(oldest)
        into.newest = new if into.newest is None else max(into.newest, new)
        into.oldest = old if into.oldest is None else min(into.oldest, old)
    return out


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
