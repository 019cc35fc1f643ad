"""Metric facts: set-based upserts in, SQL aggregates out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlmodel import Session

from storage.kpi.scope import Scope
from storage.models import Fact, Member, RoleAssignment, utcnow

FACT = Fact.__table__  # type: ignore[attr-defined]
ROWS_PER_STATEMENT = 10_000  # a push API batch at most; bigger imports go in several statements


@dataclass(frozen=True)
class FactRecord:
    metric: str
    date: date
    value: float
    member: str = ""  # '' = team-level
    source: str = "api"


def upsert_facts(session: Session, records: Sequence[FactRecord]) -> int:
    """Insert or replace facts on (metric, date, member, source): a repeat changes nothing, a
    corrected value replaces the old one. Set-based: one INSERT … SELECT … ON CONFLICT statement per
    chunk, the rows travelling as one parameter (a JSON array on SQLite, arrays on PostgreSQL)."""
    now = utcnow()
    written = 0
    for start in range(0, len(records), ROWS_PER_STATEMENT):
        # The last of several records with the same key wins (a statement may not touch a row twice).
        unique = list({(r.metric, r.date, r.member, r.source): r for r in records[start : start + ROWS_PER_STATEMENT]}
                      .values())
        if session.get_bind().dialect.name == "postgresql":
            session.execute(PG_UPSERT, {
                "metrics": [r.metric for r in unique], "dates": [r.date for r in unique],
                "members": [r.member for r in unique], "sources": [r.source for r in unique],
                "values": [float(r.value) for r in unique], "now": now,
            })
        else:
            rows = json.dumps([[r.metric, r.date.isoformat(), r.member, r.source, float(r.value)] for r in unique])
            session.execute(SQLITE_UPSERT, {"rows": rows, "now": _sqlite_timestamp(session, now)})
        written += len(unique)
    return written


_COLUMNS = "INSERT INTO fact (metric, date, member, source, value, updated_at) "
_ON_CONFLICT = (" ON CONFLICT (metric, date, member, source) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
SQLITE_UPSERT = text(
    _COLUMNS + "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
    "json_extract(value, '$[3]'), json_extract(value, '$[4]'), :now FROM json_each(:rows) WHERE true" + _ON_CONFLICT
)
PG_UPSERT = text(
    _COLUMNS + "SELECT m, d, mb, s, v, :now FROM unnest(CAST(:metrics AS varchar[]), CAST(:dates AS date[]), "
    "CAST(:members AS varchar[]), CAST(:sources AS varchar[]), CAST(:values AS float8[])) AS t(m, d, mb, s, v)"
    + _ON_CONFLICT
)


def _sqlite_timestamp(session: Session, moment: datetime) -> Any:
    """The stored form of a timestamp, as the column type would write it (the JSON path skips types)."""
    dialect = session.get_bind().dialect
    process = FACT.c.updated_at.type.bind_processor(dialect)
    return process(moment) if process else moment


def role_members_select(role_id: str):  # type: ignore[no-untyped-def]
    return (
        select(Member.key)
        .join(RoleAssignment, RoleAssignment.member_id == Member.id)  # type: ignore[arg-type]
        .where(RoleAssignment.role == role_id)
    )


def scope_condition(scope: Scope):  # type: ignore[no-untyped-def]
    if scope.kind == "member":
        return FACT.c.member == scope.key
    if scope.kind == "role":
        return FACT.c.member.in_(role_members_select(scope.key))
    return None


@dataclass(frozen=True)
class MetricSums:
    sums: dict[str, float]
    newest: dict[str, date]  # per metric, the newest date with a row

    @property
    def through(self) -> date | None:
        return max(self.newest.values(), default=None)

    def through_for(self, metrics: Iterable[str]) -> date | None:
        return max((self.newest[m] for m in metrics if m in self.newest), default=None)


def period_sums(
    session: Session, metrics: Iterable[str], scope: Scope, start: date, end: date
) -> MetricSums:
    """Sums of each metric over [start, end] in a scope, and the newest date with data."""
    conditions = [FACT.c.metric.in_(list(metrics)), FACT.c.date.between(start, end)]
    if (cond := scope_condition(scope)) is not None:
        conditions.append(cond)
    stmt = (
        select(FACT.c.metric, func.sum(FACT.c.value), func.max(FACT.c.date))
        .where(and_(*conditions))
        .group_by(FACT.c.metric)
    )
    out = MetricSums({}, {})
    for metric, total, newest in session.execute(stmt):
        out.sums[metric] = float(total or 0.0)
        out.newest[metric] = _as_date(newest)  # type: ignore[assignment]
    return out


def member_period_sums(
    session: Session, metrics: Iterable[str], members: Iterable[str] | None, role: str | None,
    start: date, end: date,
) -> dict[str, MetricSums]:
    """Per-member sums over [start, end] in one GROUP BY: for `members`, a role's members, or all."""
    conditions = [FACT.c.metric.in_(list(metrics)), FACT.c.date.between(start, end), FACT.c.member != ""]
    if members is not None:
        conditions.append(FACT.c.member.in_(list(members)))
    if role is not None:
        conditions.append(FACT.c.member.in_(role_members_select(role)))
    stmt = (
        select(FACT.c.member, FACT.c.metric, func.sum(FACT.c.value), func.max(FACT.c.date))
        .where(and_(*conditions))
        .group_by(FACT.c.member, FACT.c.metric)
    )
    out: dict[str, MetricSums] = {}
    for member, metric, total, newest in session.execute(stmt):
        entry = out.setdefault(member, MetricSums({}, {}))
        entry.sums[metric] = float(total or 0.0)
        entry.newest[metric] = _as_date(newest)  # type: ignore[assignment]
    return out


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
        out.setdefault(_as_date(day), {})[metric] = float(total or 0.0)  # type: ignore[index]
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


def newest_date_by_source(session: Session) -> dict[str, date]:
    return {source: _as_date(newest) for source, newest in session.execute(NEWEST_BY_SOURCE)}  # type: ignore[misc]


def sources_for_metrics(session: Session, metrics: Iterable[str], start: date, end: date) -> list[str]:
    stmt = (
        select(FACT.c.source)
        .where(FACT.c.metric.in_(list(metrics)), FACT.c.date.between(start, end))
        .group_by(FACT.c.source)
    )
    return [row[0] for row in session.execute(stmt)]


def count_facts(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(FACT)).scalar_one())


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])

