"""Metric facts: set-based upserts in, SQL aggregates out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Connection, Date, TextClause, and_, bindparam, func, select, text
from sqlmodel import Session, col

from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.models import Fact, Member, RoleAssignment, utcnow

FACT = Fact.__table__  # type: ignore[attr-defined]
ROWS_PER_STATEMENT = 10_000  # a push API batch at most; bigger imports go in several statements


@dataclass(frozen=True)
class FactRecord:
    metric: str
    date: date
    value: float  # in the reporting currency for money metrics
    member: str = ""  # '' = team-level
    source: str = "api"
    shop: str = ""  # '' = no shop named
    original_value: float | None = None  # money converted on the way in: the amount as it came
    original_currency: str | None = None


FactKey = tuple[str, date, str, str, str]  # metric, date, member, shop, source


def upsert_facts(session: Session, records: Sequence[FactRecord]) -> int:
    """Insert or replace facts on (metric, date, member, shop, source): a repeat changes nothing, a
    corrected value replaces the old one. Set-based: per chunk, the rows go into a temporary table by
    the driver's bulk path (COPY on PostgreSQL, executemany on SQLite), then one INSERT … SELECT …
    ON CONFLICT statement writes them all."""
    connection = session.connection()
    now = {"now": utcnow()}
    written = 0
    for start in range(0, len(records), ROWS_PER_STATEMENT):
        # The last of several records with the same key wins (a statement may not touch a row twice).
        chunk = records[start : start + ROWS_PER_STATEMENT]
        unique = {(r.metric, r.date, r.member, r.shop, r.source): r for r in chunk}
        connection.exec_driver_sql(_CREATE_INCOMING)
        _load_incoming(connection, unique)
        connection.execute(UPSERT_INCOMING, now)
        connection.exec_driver_sql(f"DELETE FROM {_incoming_table(connection)}")
        written += len(unique)
    return written


INCOMING = "kpibot_incoming"  # per connection (TEMPORARY), empty between statements
_INCOMING_COLUMNS = "metric, date, member, shop, source, value, original_value, original_currency"
_CREATE_INCOMING = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {INCOMING} (metric VARCHAR(64) NOT NULL, "
                    "date DATE NOT NULL, member VARCHAR(200) NOT NULL, shop VARCHAR(64) NOT NULL, "
                    "source VARCHAR(64) NOT NULL, value FLOAT NOT NULL, original_value FLOAT, "
                    "original_currency VARCHAR(3))")
UPSERT_INCOMING = text(
    f"INSERT INTO fact ({_INCOMING_COLUMNS}, updated_at) "
    f"SELECT {_INCOMING_COLUMNS}, :now FROM {INCOMING} WHERE true "  # SQLite needs the WHERE
    "ON CONFLICT (metric, date, member, shop, source) DO UPDATE SET value = excluded.value, "
    "original_value = excluded.original_value, original_currency = excluded.original_currency, "
    "updated_at = excluded.updated_at"
).bindparams(bindparam("now", type_=FACT.c.updated_at.type))


def _incoming_table(connection: Connection) -> str:
    schema = "pg_temp" if connection.dialect.name == "postgresql" else "temp"
    return f"{schema}.{INCOMING}"


def _load_incoming(connection: Connection, rows: dict[FactKey, FactRecord]) -> None:
    table = _incoming_table(connection)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {table} ({_INCOMING_COLUMNS}) FROM STDIN") as copy:
            for (metric, day, member, shop, source), r in rows.items():
                copy.write_row((metric, day, member, shop, source, float(r.value), r.original_value,
                                r.original_currency))
    else:  # SQLite: dates as the Date column stores them, ISO text
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({_INCOMING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(metric, day.isoformat(), member, shop, source, float(r.value), r.original_value, r.original_currency)
             for (metric, day, member, shop, source), r in rows.items()],
        )


def role_members_select(role_id: str):  # type: ignore[no-untyped-def]
    return (
        select(col(Member.key))
        .join(RoleAssignment, col(RoleAssignment.member_id) == Member.id)
        .where(col(RoleAssignment.role) == role_id)
    )


def scope_condition(scope: Scope):  # type: ignore[no-untyped-def]
    conditions = []
    if scope.kind == "member":
        conditions.append(FACT.c.member == scope.key)
    elif scope.kind == "role":
        conditions.append(FACT.c.member.in_(role_members_select(scope.key)))
    if scope.shop:
        conditions.append(FACT.c.shop == scope.shop)
    return and_(*conditions) if conditions else None


@dataclass(frozen=True)
class MetricSums:
    sums: dict[str, float]
    newest: dict[str, date]  # per metric, the newest date with a row

    @property
    def through(self) -> date | None:
        return max(self.newest.values(), default=None)


# The engine's reads, one per chat question, are built once: constructing a statement costs more than
# running these indexed aggregates (measured in bench/attainment.py), so they are fixed SQL texts.
def _reading(sql: str) -> TextClause:
    return text(sql).bindparams(
        bindparam("metrics", expanding=True), bindparam("start", type_=Date()), bindparam("end", type_=Date()),
    )


_ROLE_HOLDERS = "SELECT m.key FROM member m JOIN role_assignment r ON r.member_id = m.id WHERE r.role = :key"
# Whose rows, by Scope.kind (series.py reads these too); a role or member narrowed to a shop adds one more.
_SCOPE_FILTERS = {"team": "", "member": " AND member = :key", "role": f" AND member IN ({_ROLE_HOLDERS})",
                  "shop": " AND shop = :key"}
_SCOPED = {(kind, in_shop): whose + (" AND shop = :shop" if in_shop else "")
           for kind, whose in _SCOPE_FILTERS.items() for in_shop in (False, True) if not (kind == "shop" and in_shop)}
_SCOPED_SUMS = ("SELECT metric, SUM(value), MAX(date) FROM fact WHERE metric IN :metrics"
                " AND date BETWEEN :start AND :end{scope} GROUP BY metric")
PERIOD_SUMS = {kind: _reading(_SCOPED_SUMS.format(scope=scope)) for kind, scope in _SCOPED.items()}


# A period and the one before it, like for like, in one statement: while the period runs, the previous
# one is cut to as many days as the current one has data for (its newest date, capped at today). The cut
# is a scalar bound on the date range, so the index still narrows the scan.
_THROUGH = "(SELECT MAX(date) FROM fact WHERE metric IN :metrics AND date BETWEEN :start AND :end{scope})"
_CUT = {
    "sqlite": ("MIN(:previous_end, CASE WHEN :fixed THEN :previous_end ELSE date(:previous_start, '+' || "
               "CAST(julianday(MIN({through}, :today)) - julianday(:start) AS INTEGER) || ' days') END)"),
    "postgresql": ("LEAST(:previous_end, CASE WHEN :fixed THEN :previous_end "
                   "ELSE :previous_start + (LEAST({through}, :today) - :start) END)"),
}
_WITH_PREVIOUS = ("SELECT 'current', metric, SUM(value), MAX(date) FROM fact WHERE metric IN :metrics"
                  " AND date BETWEEN :start AND :end{scope} GROUP BY metric"
                  " UNION ALL"
                  " SELECT 'previous', metric, SUM(value), MAX(date) FROM fact WHERE metric IN :metrics"
                  " AND date BETWEEN :previous_start AND {cut}{scope} GROUP BY metric")


def _with_previous(dialect: str, scope: str) -> TextClause:
    cut = _CUT[dialect].format(through=_THROUGH.format(scope=scope))
    return _reading(_WITH_PREVIOUS.format(scope=scope, cut=cut)).bindparams(
        bindparam("previous_start", type_=Date()), bindparam("previous_end", type_=Date()),
        bindparam("today", type_=Date()), bindparam("fixed", type_=Boolean()),
    )


WITH_PREVIOUS_SUMS = {
    (dialect, kind): _with_previous(dialect, scope) for dialect in _CUT for kind, scope in _SCOPED.items()
}


def sums_with_previous(
    session: Session, metrics: Iterable[str], scope: Scope, current: Period, previous: Period, today: date
) -> tuple[MetricSums, MetricSums | None]:
    """`current`'s sums and `previous`'s, like for like: a period still running (ending today or
    later) is compared with as many days of the previous one as it has data for; a finished one with
    the whole previous period. No data yet → no previous."""
    fixed = current.end < today
    statement = WITH_PREVIOUS_SUMS[(session.get_bind().dialect.name, scope.filter_kind)]
    params = {"metrics": list(metrics), "start": current.start, "end": current.end, "key": scope.key,
              "shop": scope.shop, "previous_start": previous.start, "previous_end": previous.end, "today": today,
              "fixed": fixed}
    found = {"current": MetricSums({}, {}), "previous": MetricSums({}, {})}
    for which, metric, total, newest in session.connection().execute(statement, params):
        _add(found[which], metric, total, newest)
    if not fixed and found["current"].through is None:
        return found["current"], None
    return found["current"], found["previous"]


def period_sums(
    session: Session, metrics: Iterable[str], scope: Scope, start: date, end: date
) -> MetricSums:
    """Sums of each metric over [start, end] in a scope, and the newest date with data."""
    params = {"metrics": list(metrics), "start": start, "end": end, "key": scope.key, "shop": scope.shop}
    out = MetricSums({}, {})
    for metric, total, newest in session.connection().execute(PERIOD_SUMS[scope.filter_kind], params):
        _add(out, metric, total, newest)
    return out


_SCOPED_COVERAGE = ("SELECT metric, MIN(date), COUNT(DISTINCT date) FROM fact WHERE metric IN :metrics"
                    " AND date BETWEEN :start AND :end{scope} GROUP BY metric")
PERIOD_COVERAGE = {kind: _reading(_SCOPED_COVERAGE.format(scope=scope)) for kind, scope in _SCOPED.items()}


def period_coverage(
    session: Session, metrics: Iterable[str], scope: Scope, start: date, end: date
) -> dict[str, tuple[date, int]]:
    """Per metric with rows in [start, end] in a scope: its first date with rows and on how many days it has
    rows (a daily feed has many, a monthly CRM push one)."""
    params = {"metrics": list(metrics), "start": start, "end": end, "key": scope.key, "shop": scope.shop}
    return {metric: (_as_date(first), int(days))  # type: ignore[misc]  # grouped rows always have a date
            for metric, first, days in session.connection().execute(PERIOD_COVERAGE[scope.filter_kind], params)}


def _add(into: MetricSums, metric: str, total: float | None, newest: Any) -> None:
    into.sums[metric] = float(total or 0.0)
    into.newest[metric] = _as_date(newest)  # type: ignore[assignment]


def daily_sums(
    session: Session, metrics: Iterable[str], scope: Scope, start: date, end: date
) -> dict[date, dict[str, float]]:
    """Per-day sums (for charts: at most one row per day and metric)."""
    conditions = [FACT.c.metric.in_(list(metrics)), FACT.c.date.between(start, end)]
    if (cond := scope_condition(scope)) is not None:
        conditions.append(cond)
    stmt = (
        select(FACT.c.date, FACT.c.metric, func.sum(FACT.c.value))
        .where(and_(*conditions))
        .group_by(FACT.c.date, FACT.c.metric)
    )
    out: dict[date, dict[str, float]] = {}
    for day, metric, total in session.execute(stmt):
        out.setdefault(_as_date(day), {})[metric] = float(total or 0.0)  # type: ignore[arg-type]  # grouped dates are never NULL
    return out


# A loose index scan over ix_fact_source_date: one index probe per source instead of reading every
# fact (a plain GROUP BY source took seconds at 10 M facts, on every status reply).
NEWEST_BY_SOURCE = text(
    "WITH RECURSIVE sources(source) AS ("
    " SELECT MIN(source) FROM fact"
    " UNION ALL"
    " SELECT (SELECT MIN(f.source) FROM fact f WHERE f.source > sources.source) FROM sources"
    " WHERE sources.source IS NOT NULL)"
    " SELECT source, (SELECT MAX(f.date) FROM fact f WHERE f.source = sources.source) FROM sources"
    " WHERE source IS NOT NULL"
)


# The shops named in facts, by a loose index scan over ix_fact_shop_metric_date (one probe per shop).
SHOPS_WITH_DATA = text(
    "WITH RECURSIVE shops(shop) AS ("
    " SELECT MIN(shop) FROM fact WHERE shop > ''"
    " UNION ALL"
    " SELECT (SELECT MIN(f.shop) FROM fact f WHERE f.shop > shops.shop) FROM shops WHERE shops.shop IS NOT NULL)"
    " SELECT shop FROM shops WHERE shop IS NOT NULL"
)


def shops_with_data(session: Session) -> list[str]:
    return [row[0] for row in session.execute(SHOPS_WITH_DATA)]


OLDEST_BY_SOURCE = text(NEWEST_BY_SOURCE.text.replace("MAX(f.date)", "MIN(f.date)"))


def first_date(session: Session) -> date | None:
    """The first date with any fact (per source by the same index probes, then the oldest)."""
    firsts = [_as_date(day) for _, day in session.execute(OLDEST_BY_SOURCE)]
    return min((day for day in firsts if day is not None), default=None)


def newest_date_by_source(session: Session) -> dict[str, date]:
    return {source: _as_date(newest) for source, newest in session.execute(NEWEST_BY_SOURCE)}  # type: ignore[misc]


def sources_for_metrics(
    session: Session, metrics: Iterable[str], start: date, end: date, *, among: Iterable[str] | None = None
) -> list[str]:
    """Sources with rows for `metrics` in [start, end] (only those `among`, when given)."""
    stmt = (
        select(FACT.c.source)
        .where(FACT.c.metric.in_(list(metrics)), FACT.c.date.between(start, end))
        .group_by(FACT.c.source)
    )
    if among is not None:
        stmt = stmt.where(FACT.c.source.in_(list(among)))
    return [row[0] for row in session.execute(stmt)]


def count_facts(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(FACT)).scalar_one())


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])

