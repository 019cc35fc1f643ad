"""Daily series and window sums for the review questions (why, unusual, baselines, before/after).

Each read is one SQL statement whatever the number of days, members or KPIs: the database sums the facts,
Python only evaluates formulas on the sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Date, TextClause, bindparam, text
from sqlmodel import Session

from storage.kpi.scope import Scope
from storage.repositories.facts import _SCOPE_FILTERS  # the same scope filters as the engine's reads

ScopeKey = tuple[str, str]  # (team | role | member, '' | role id | member key)
Series = dict[date, dict[str, float]]  # day → metric → sum

# Members' daily sums once (a CTE, grouped in the fact index's order so no sort is needed), then the team's
# and each role's rolled up from them in the same statement: the facts are read once for all three kinds.
DAILY_BY_SCOPE = text(
    "WITH d AS (SELECT member, date, metric, SUM(value) AS v FROM fact"
    " WHERE metric IN :metrics AND date BETWEEN :start AND :end GROUP BY metric, date, member)"
    " SELECT 'team', '', date, metric, SUM(v) FROM d GROUP BY date, metric"
    " UNION ALL SELECT 'member', member, date, metric, v FROM d WHERE member <> ''"
    " UNION ALL SELECT 'role', r.role, d.date, d.metric, SUM(d.v) FROM d JOIN member m ON m.key = d.member"
    " JOIN role_assignment r ON r.member_id = m.id GROUP BY r.role, d.date, d.metric"
).bindparams(bindparam("metrics", expanding=True), bindparam("start", type_=Date()), bindparam("end", type_=Date()))


def daily_by_scope(session: Session, metrics: Iterable[str], start: date, end: date) -> dict[ScopeKey, Series]:
    """Every scope's (team, each role, each member) daily sums of `metrics` over [start, end]."""
    out: dict[ScopeKey, Series] = {}
    params = {"metrics": list(metrics), "start": start, "end": end}
    days: dict[Any, date] = {}  # each distinct date value parsed once (SQLite returns text)
    for kind, key, day, metric, total in session.connection().execute(DAILY_BY_SCOPE, params).all():
        if (parsed := days.get(day)) is None:
            parsed = days[day] = as_date(day)
        out.setdefault((kind, key), {}).setdefault(parsed, {})[metric] = float(total)
    return out


@dataclass
class WindowSums:
    sums: dict[str, float] = field(default_factory=dict)
    newest: date | None = None  # the newest day with a row for any of the metrics
    oldest: date | None = None


SPLITS = ("member", "shop", "source")  # the fact columns a total can be split by


@cache
def _windows_statement(count: int, scope_kind: str, by: str | None) -> TextClause:
    if by is not None and by not in SPLITS:
        raise ValueError(f"cannot split facts by {by!r}")
    who = by or "''"
    group = f"{by}, metric" if by else "metric"
    branch = ("SELECT {i}, {who}, metric, SUM(value), MAX(date), MIN(date) FROM fact WHERE metric IN :metrics"
              " AND date BETWEEN :s{i} AND :e{i}{scope} GROUP BY {group}")
    sql = " UNION ALL ".join(branch.format(i=i, who=who, scope=_SCOPE_FILTERS[scope_kind], group=group)
                             for i in range(count))
    dates = [bindparam(f"{edge}{i}", type_=Date()) for i in range(count) for edge in ("s", "e")]
    return text(sql).bindparams(bindparam("metrics", expanding=True), *dates)


def window_sums(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]],
) -> list[WindowSums]:
    """The scope's sums over each [start, end] window, in one statement (windows may overlap)."""
    found = _read_windows(session, metrics, scope, windows, by=None)
    return [found.get((i, ""), WindowSums()) for i in range(len(windows))]


def split_window_sums(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]], by: str,
) -> list[dict[str, WindowSums]]:
    """Per window, the scope's sums for each value of one fact column (`member`, `shop` or `source`), grouped
    by the database in one statement ('' = the column left empty: no person, no shop named)."""
    found = _read_windows(session, metrics, scope, windows, by=by)
    out: list[dict[str, WindowSums]] = [{} for _ in windows]
    for (i, key), sums in found.items():
        out[i][key] = sums
    return out


def _read_windows(
    session: Session, metrics: Iterable[str], scope: Scope, windows: Sequence[tuple[date, date]], *, by: str | None,
) -> dict[tuple[int, str], WindowSums]:
    if not windows:
        return {}
    params: dict[str, Any] = {"metrics": list(metrics), "key": scope.key}
    for i, (start, end) in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = start, end
    statement = _windows_statement(len(windows), scope.kind, by)
    out: dict[tuple[int, str], WindowSums] = {}
    for index, key, metric, total, newest, oldest in session.connection().execute(statement, params):
        into = out.setdefault((int(index), key), WindowSums())
        into.sums[metric] = float(total)
        new, old = as_date(newest), as_date(oldest)
        into.newest = new if into.newest is None else max(into.newest, new)
        into.oldest = old if into.oldest is None else min(into.oldest, old)
    return out


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
