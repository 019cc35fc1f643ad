"""The engine's one read of a period (SPEC §5): per group — the asked scope, or each member or shop of a
board — every metric's headline value, and per KPI the data-through date `d` by the per-source rule, the
sums through `d`, (single answers) the previous period cut like for like, and the question's targets. One
statement — one round trip; the rule is computed by the database, for single answers and boards alike:

- each source that delivered rows for the KPI's metrics in the group has its newest date;
- a source is *ongoing* when that date is within ONGOING_DAYS before the newest of them (per group, KPI);
- `d` is the oldest newest-date among ongoing sources, capped by today and the period end;
- pace sums are the rows through `d`; the headline value is every row (levels: `last`, `mean`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Boolean, Date, TextClause, bindparam, text
from sqlmodel import Session

from storage.kpi.scope import Scope
from storage.kpi.through import DataThrough, through_of
from storage.repositories.facts import _ROLE_HOLDERS, _SCOPED, _as_date
from storage.repositories.targets import TargetRow, TargetScope, target_rows

ONGOING_DAYS = 7

# `top` minus ONGOING_DAYS, and the previous period's like-for-like end for a data-through date `d`.
_WEEK_BEFORE = {"sqlite": f"date(t.top, '-{ONGOING_DAYS} days')", "postgresql": f"t.top - {ONGOING_DAYS}"}
_PREVIOUS_CUT = {
    "sqlite": "date(:previous_start, '+' || CAST(julianday(d) - julianday(:start) AS INTEGER) || ' days')",
    "postgresql": ":previous_start + (d - :start)",
}


@dataclass(frozen=True)
class Grouping:
    """Whose rows are read and how they are grouped: one group '' for a scope, or one per member / shop."""

    column: str  # '' (the scope is one group) | member | shop
    where: str  # a fixed filter on fact (no alias), reading :key and :shop
    key: str = ""
    shop: str = ""
    holders: bool = False  # a role's members: every holder is a group, with its display name, data or not

    @classmethod
    def of_scope(cls, scope: Scope) -> Grouping:
        return cls("", _SCOPED[scope.filter_kind], scope.key, scope.shop)

    @classmethod
    def members(cls, role: str | None, shop: str = "") -> Grouping:
        """Each member with rows (of `role`, when given; only their rows in `shop`, when given)."""
        in_shop = " AND shop = :shop" if shop else ""
        if role is None:
            return cls("member", " AND member <> ''" + in_shop, shop=shop)
        return cls("member", f" AND member <> '' AND member IN ({_ROLE_HOLDERS}){in_shop}", role, shop, holders=True)

    @classmethod
    def shops(cls) -> Grouping:
        return cls("shop", " AND shop <> ''")


@dataclass
class KpiRead:
    through: DataThrough = field(default_factory=lambda: DataThrough(None))
    through_sums: dict[str, float] = field(default_factory=dict)  # rows through `d`
    previous: dict[str, float] = field(default_factory=dict)  # previous period through the like-for-like cut
    previous_first: dict[str, date] = field(default_factory=dict)  # its first date with rows, per metric
    previous_levels: dict[str, float] = field(default_factory=dict)  # levels (last, mean) over the same cut


@dataclass
class GroupRead:
    values: dict[str, float] = field(default_factory=dict)  # headline, per metric with rows (levels applied)
    kpis: dict[str, KpiRead] = field(default_factory=dict)
    holder: bool = False  # Grouping.holders: the group is a holder of the role
    name: str = ""  # its display name ('' = none set)

    def kpi(self, kpi_id: str) -> KpiRead:
        return self.kpis.get(kpi_id) or KpiRead()


class Figures(NamedTuple):
    groups: dict[str, GroupRead]  # groups without rows are absent
    targets: list[TargetRow]  # the rows `targets` asked for ([] when not asked)


def read_figures(
    session: Session, kpis: Mapping[str, Sequence[str]], grouping: Grouping, start: date, end: date, today: date,
    *, previous: tuple[date, date] | None = None, last: Sequence[str] = (), mean: Sequence[str] = (),
    targets: TargetScope | None = None,
) -> Figures:
    """`kpis`: KPI id → its metrics. `previous`: (start, end) of the period to compare with, cut like for
    like while [start, end] runs (today ≤ end). `targets`: the KPIs' target rows of that scope, read in the
    same statement."""
    pairs = [(kpi, metric) for kpi, metrics in kpis.items() for metric in dict.fromkeys(metrics)]
    if not pairs:
        return Figures({}, target_rows(session, kpis, targets.start, targets.end, scope_kind=targets.kind,
                                       scope_key=targets.key, shop=targets.shop) if targets else [])
    dialect = session.get_bind().dialect.name
    levels = bool(last or mean)
    statement = _statement(dialect, grouping.column, grouping.where, len(pairs), previous is not None, levels,
                           grouping.holders, targets.branch() if targets else "")
    params: dict[str, Any] = {"metrics": sorted({m for _, m in pairs}), "start": start, "end": end,
                              "cap": min(today, end), "key": grouping.key, "shop": grouping.shop}
    if targets is not None:
        params |= targets.params(kpis)
    for i, (kpi, metric) in enumerate(pairs):
        params[f"k{i}"], params[f"m{i}"] = kpi, metric
    if previous is not None:
        params |= {"previous_start": previous[0], "previous_end": previous[1], "fixed": end < today}
    if levels:
        params |= {"last": list(last) or [""], "mean": list(mean) or [""]}
    out: dict[str, GroupRead] = {}
    days: dict[str, date | None] = {}
    sources: dict[tuple[str, str], list[tuple[str, bool, date]]] = {}
    level_values: list[tuple[str, str, float]] = []
    found_targets: list[TargetRow] = []
    for kind, group, kpi, name, number, day in session.connection().execute(statement, params):
        if kind == "target" and targets is not None:  # a target row, not a group (scope key, period key)
            found_targets.append(targets.row(kpi, group, name, float(number)))
            continue
        into = out.setdefault(group, GroupRead())
        if kind == "sum":
            into.values[name] = float(number or 0.0)
        elif kind == "holder":
            into.holder, into.name = True, name or ""
        elif kind in ("last", "mean"):
            level_values.append((group, name, float(number or 0.0)))
        elif kind == "source":
            sources.setdefault((group, kpi), []).append((name, bool(number), _as_date(day)))  # type: ignore[arg-type]
        elif kind == "day":
            days[f"{group}\0{kpi}"] = _as_date(day)
        elif kind == "through":
            into.kpis.setdefault(kpi, KpiRead()).through_sums[name] = float(number or 0.0)
        elif kind in ("previous_last", "previous_mean"):
            into.kpis.setdefault(kpi, KpiRead()).previous_levels[name] = float(number or 0.0)
        else:  # previous
            read = into.kpis.setdefault(kpi, KpiRead())
            read.previous[name] = float(number or 0.0)
            read.previous_first[name] = _as_date(day)  # type: ignore[assignment]
    for group, metric, value in level_values:
        out[group].values[metric] = value
    for (group, kpi), found in sources.items():
        read = out[group].kpis.setdefault(kpi, KpiRead())
        read.through = through_of(days.get(f"{group}\0{kpi}"), found)
    return Figures(out, found_targets)


def _aliased(where: str, alias: str) -> str:
    """A fixed fact filter read through a table alias."""
    return where.replace(" AND member", f" AND {alias}.member").replace(" AND shop", f" AND {alias}.shop")


@cache
def _statement(
    dialect: str, column: str, where: str, pairs: int, previous: bool, levels: bool, holders: bool, targets: str,
) -> TextClause:
    g, fg = (column, f"f.{column}") if column else ("''", "''")
    by = f"{column}, " if column else ""
    f_where = _aliased(where, "f")
    kpi_metric = " UNION ALL ".join(f"SELECT CAST(:k{i} AS VARCHAR(64)) AS kpi, CAST(:m{i} AS VARCHAR(64)) AS metric"
                                    for i in range(pairs))
    sql = (
        f"WITH kpi_metric AS ({kpi_metric}),"
        f" per_day AS (SELECT {g} AS g, metric, source, date, SUM(value) AS total FROM fact"
        f"  WHERE metric IN :metrics AND date BETWEEN :start AND :end{where} GROUP BY {by}metric, source, date),"
        " per_source AS (SELECT g, metric, source, SUM(total) AS total, MAX(date) AS newest FROM per_day"
        "  GROUP BY g, metric, source),"
        " kpi_source AS (SELECT p.g, km.kpi, p.source, MAX(p.newest) AS newest FROM per_source p"
        "  JOIN kpi_metric km ON km.metric = p.metric GROUP BY p.g, km.kpi, p.source),"
        " kpi_top AS (SELECT g, kpi, MAX(newest) AS top FROM kpi_source GROUP BY g, kpi),"
        " kpi_ongoing AS (SELECT s.g, s.kpi, s.source, s.newest,"
        f"  CASE WHEN s.newest >= {_WEEK_BEFORE[dialect]} THEN 1 ELSE 0 END AS ongoing"
        "  FROM kpi_source s JOIN kpi_top t ON t.g = s.g AND t.kpi = s.kpi),"
        " kpi_oldest AS (SELECT g, kpi, MIN(newest) AS oldest FROM kpi_ongoing WHERE ongoing = 1 GROUP BY g, kpi),"
        " kpi_through AS (SELECT g, kpi, CASE WHEN oldest > :cap THEN :cap ELSE oldest END AS d FROM kpi_oldest)"
        " SELECT 'sum', g, '', metric, SUM(total), NULL FROM per_source GROUP BY g, metric"
        " UNION ALL SELECT 'source', g, kpi, source, ongoing, newest FROM kpi_ongoing"
        " UNION ALL SELECT 'day', g, kpi, '', NULL, d FROM kpi_through"
        " UNION ALL SELECT 'through', th.g, th.kpi, pd.metric, SUM(pd.total), NULL FROM per_day pd"
        " JOIN kpi_metric km ON km.metric = pd.metric JOIN kpi_through th ON th.kpi = km.kpi AND th.g = pd.g"
        " WHERE pd.date <= th.d GROUP BY th.g, th.kpi, pd.metric"
    )
    binds: list[BindParameter[Any]] = [bindparam("metrics", expanding=True), bindparam("start", type_=Date()),
                                       bindparam("end", type_=Date()), bindparam("cap", type_=Date())]
    if previous:
        cut = _PREVIOUS_CUT[dialect]
        sql = sql.replace(
            " kpi_through AS (SELECT g, kpi, CASE WHEN oldest > :cap THEN :cap ELSE oldest END AS d FROM kpi_oldest)",
            " kpi_through AS (SELECT g, kpi, CASE WHEN oldest > :cap THEN :cap ELSE oldest END AS d FROM kpi_oldest),"
            f" kpi_cut AS (SELECT g, kpi, CASE WHEN :fixed THEN :previous_end ELSE {cut} END AS pc FROM kpi_through)",
        )
        sql += (
            " UNION ALL SELECT 'previous', pc.g, pc.kpi, f.metric, SUM(f.value), MIN(f.date) FROM fact f"
            " JOIN kpi_metric km ON km.metric = f.metric"
            f" JOIN kpi_cut pc ON pc.kpi = km.kpi AND pc.g = {fg}"
            " WHERE f.metric IN :metrics AND f.date BETWEEN :previous_start AND :previous_end"
            f" AND f.date <= pc.pc{f_where} GROUP BY pc.g, pc.kpi, f.metric"
        )
        binds += [bindparam("previous_start", type_=Date()), bindparam("previous_end", type_=Date()),
                  bindparam("fixed", type_=Boolean())]
    if previous and levels:  # the previous period's levels over the same like-for-like cut, per KPI
        p_where, pg = _aliased(where, "p"), f"p.{column}" if column else "''"
        sql += (
            " UNION ALL SELECT 'previous_last', n.g, n.kpi, f.metric, SUM(f.value), NULL FROM fact f"
            " JOIN (SELECT pc.g, pc.kpi, p.metric AS level_metric, MAX(p.date) AS level_date FROM fact p"
            f"  JOIN kpi_metric km ON km.metric = p.metric JOIN kpi_cut pc ON pc.kpi = km.kpi AND pc.g = {pg}"
            "  WHERE p.metric IN :last AND p.date BETWEEN :previous_start AND :previous_end AND p.date <= pc.pc"
            f"{p_where} GROUP BY pc.g, pc.kpi, p.metric) n"
            f" ON f.metric = n.level_metric AND f.date = n.level_date AND {fg} = n.g WHERE true{f_where}"
            " GROUP BY n.g, n.kpi, f.metric"
            " UNION ALL SELECT 'previous_mean', pc.g, pc.kpi, f.metric, SUM(f.value) * 1.0 / COUNT(DISTINCT f.date),"
            " NULL FROM fact f JOIN kpi_metric km ON km.metric = f.metric"
            f" JOIN kpi_cut pc ON pc.kpi = km.kpi AND pc.g = {fg}"
            " WHERE f.metric IN :mean AND f.date BETWEEN :previous_start AND :previous_end"
            f" AND f.date <= pc.pc{f_where} GROUP BY pc.g, pc.kpi, f.metric"
        )
    if levels:
        sql += (
            " UNION ALL SELECT 'last', n.g, '', f.metric, SUM(f.value), NULL FROM fact f"
            f" JOIN (SELECT {g} AS g, metric AS level_metric, MAX(date) AS level_date FROM fact"
            f"  WHERE metric IN :last AND date BETWEEN :start AND :end{where} GROUP BY {by}metric) n"
            f" ON f.metric = n.level_metric AND f.date = n.level_date AND {fg} = n.g WHERE true{f_where}"
            " GROUP BY n.g, f.metric"
            f" UNION ALL SELECT 'mean', {g}, '', metric, SUM(value) * 1.0 / COUNT(DISTINCT date), NULL FROM fact"
            f" WHERE metric IN :mean AND date BETWEEN :start AND :end{where} GROUP BY {by}metric"
        )
        binds += [bindparam("last", expanding=True), bindparam("mean", expanding=True)]
    if holders:
        sql += (" UNION ALL SELECT 'holder', m.key, '', m.display_name, NULL, NULL FROM member m"
                " JOIN role_assignment r ON r.member_id = m.id WHERE r.role = :key")
    if targets:
        sql += targets
        binds += [bindparam("target_kpis", expanding=True), bindparam("target_start", type_=Date()),
                  bindparam("target_end", type_=Date())]
    return text(sql).bindparams(*binds)


__all__ = ["ONGOING_DAYS", "Figures", "GroupRead", "Grouping", "KpiRead", "read_figures"]
