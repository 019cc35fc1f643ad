"""A per-transaction staging table: incoming facts land here in chunks, then set-based SQL finds
duplicates, compares with the stored facts (new / changed / unchanged / removed) and writes them
with one INSERT … SELECT … ON CONFLICT. Nothing touches `fact` until `apply`, so a rejected or
dry-run import leaves the database as it was, and no Python loop ever walks the stored facts.

The table is TEMPORARY: private to the connection, dropped at the end (PostgreSQL: ON COMMIT DROP).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import TracebackType

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from jobs.ingest.layout import RowProblem, StagedFact
from storage.models import Fact, UtcDateTime, utcnow
from storage.repositories.upsert import insert_for

FACT = Fact.__table__  # type: ignore[attr-defined]
STAGING_NAME = "kpibot_staging"
CHUNK_ROWS = 5000
TOLERANCE = 1e-9  # floats that differ less than this are the same value

STAGING = Table(
    STAGING_NAME,
    MetaData(),
    Column("line", Integer, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("member", String(200), nullable=False),
    Column("shop", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Column("original_value", Float, nullable=True),
    Column("original_currency", String(3), nullable=True),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


@dataclass(frozen=True)
class DeleteScope:
    """Stored facts of the source in [start, end] (None: unbounded) that the new data no longer has
    are deleted by `apply` — a sync's re-sync window. Imports pass no scope: a file only adds."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Diff:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0

    @property
    def written(self) -> int:
        return self.new + self.changed + self.removed


@dataclass(frozen=True)
class Summary:
    values: int = 0  # distinct (metric, date, member) after adding up duplicates
    first_date: date | None = None
    newest_date: date | None = None
    metrics: tuple[str, ...] = ()
    members: int = 0


# line, metric, date, member, shop, value, original value, original currency
StagedRow = tuple[int, str, date, str, str, float, float | None, str | None]
_COLUMNS = "line, metric, date, member, shop, value, original_value, original_currency"


class Staging:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._buffer: list[StagedRow] = []
        self.rows = 0
        self._keys_unique = False  # no two staged rows share (metric, date, member); known once checked
        self._drop()
        STAGING.create(session.connection())

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()

    def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        schema = "temp" if self.session.get_bind().dialect.name == "sqlite" else "pg_temp"
        self.session.execute(text(f"DROP TABLE IF EXISTS {schema}.{STAGING_NAME}"))

    def add(self, line: int, facts: list[StagedFact]) -> None:
        for fact in facts:
            if len(fact) == 4:
                metric, day, member, value = fact
                self._buffer.append((line, metric, day, member, "", value, None, None))
            else:
                metric, day, member, value, shop, original, currency = fact
                self._buffer.append((line, metric, day, member, shop, value, original, currency))
        if len(self._buffer) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            write_staged(self.session.connection(), self._buffer)
            self.rows += len(self._buffer)
            self._buffer = []
            self._keys_unique = False

    # -- questions, all answered in SQL ------------------------------------------------------

    def duplicates(self, label: str, limit: int) -> tuple[list[RowProblem], int]:
        """Rows that repeat an earlier row's date, member and metric: (the first `limit`, how many)."""
        self.flush()
        keys = (STAGING.c.metric, STAGING.c.date, STAGING.c.member, STAGING.c.shop)
        groups = (
            select(func.min(STAGING.c.line).label("first"), func.max(STAGING.c.line).label("again"),
                   func.min(STAGING.c.metric).label("metric"))
            .group_by(*keys)
            .having(func.count() > 1)
            .subquery()
        )
        pairs = select(groups.c.first, groups.c.again, func.min(groups.c.metric)).group_by(
            groups.c.first, groups.c.again
        )
        total = self.session.execute(select(func.count()).select_from(pairs.subquery())).scalar_one()
        self._keys_unique = total == 0
        if self._keys_unique:
            return [], 0
        rows = self.session.execute(pairs.order_by(groups.c.again, groups.c.first).limit(limit)).all()
        problems = [
            RowProblem(f"{label} {again}", again,
                       f"same date, member and metric ({metric}) as {label} {first}; "
                       "a mapping with `aggregate: sum` adds such rows up")
            for first, again, metric in rows
        ]
        return problems, int(total)

    def _aggregated(self):
        """The staged facts with duplicates added up; the staging table itself once its keys are
        known to be unique (no GROUP BY, and rows reach `fact` in file order, which PostgreSQL's
        indexes take far better than a hash aggregate's order)."""
        if self._keys_unique:
            return select(STAGING.c.metric, STAGING.c.date, STAGING.c.member, STAGING.c.shop, STAGING.c.value,
                          STAGING.c.original_value, STAGING.c.original_currency).subquery("incoming")
        return (
            select(STAGING.c.metric, STAGING.c.date, STAGING.c.member, STAGING.c.shop,
                   func.sum(STAGING.c.value).label("value"), func.sum(STAGING.c.original_value).label("original_value"),
                   func.max(STAGING.c.original_currency).label("original_currency"))
            .group_by(STAGING.c.metric, STAGING.c.date, STAGING.c.member, STAGING.c.shop)
            .subquery("incoming")
        )

    def summary(self) -> Summary:
        self.flush()
        incoming = self._aggregated()
        count, first, newest, members = self.session.execute(
            select(func.count(), func.min(incoming.c.date), func.max(incoming.c.date),
                   func.count(func.distinct(case((incoming.c.member != "", incoming.c.member)))))
        ).one()
        metrics = self.session.execute(select(STAGING.c.metric).distinct().order_by(STAGING.c.metric)).scalars()
        return Summary(int(count), _as_date(first), _as_date(newest), tuple(metrics), int(members))

    def diff(self, source: str, scope: DeleteScope | None = None) -> Diff:
        self.flush()
        incoming = self._aggregated()
        join = and_(FACT.c.metric == incoming.c.metric, FACT.c.date == incoming.c.date,
                    FACT.c.member == incoming.c.member, FACT.c.shop == incoming.c.shop, FACT.c.source == source)
        differs = func.abs(FACT.c.value - incoming.c.value) > TOLERANCE
        new, changed, unchanged = self.session.execute(
            select(
                func.coalesce(func.sum(case((FACT.c.id.is_(None), 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(FACT.c.id.is_not(None), differs), 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(FACT.c.id.is_not(None), ~differs), 1), else_=0)), 0),
            ).select_from(incoming.outerjoin(FACT, join))
        ).one()
        removed = 0
        if scope is not None:
            removed = self.session.execute(
                select(func.count()).select_from(FACT).where(*self._vanished(source, scope))
            ).scalar_one()
        return Diff(int(new), int(changed), int(unchanged), int(removed))

    def _vanished(self, source: str, scope: DeleteScope) -> list:
        conditions = [FACT.c.source == source]
        if scope.start is not None:
            conditions.append(FACT.c.date >= scope.start)
        if scope.end is not None:
            conditions.append(FACT.c.date <= scope.end)
        still_there = exists().where(
            STAGING.c.metric == FACT.c.metric, STAGING.c.date == FACT.c.date, STAGING.c.member == FACT.c.member,
            STAGING.c.shop == FACT.c.shop,
        )
        conditions.append(~still_there)
        return conditions

    def apply(self, source: str, scope: DeleteScope | None = None) -> Diff:
        """Write the staged facts under `source`: new ones inserted, changed ones replaced,
        unchanged ones left alone (their `updated_at` too); with a scope, vanished ones deleted."""
        diff = self.diff(source, scope)
        if scope is not None and diff.removed:
            self.session.execute(delete(FACT).where(*self._vanished(source, scope)))
        incoming = self._aggregated()
        rows = select(
            incoming.c.metric, incoming.c.date, incoming.c.member, incoming.c.shop, literal(source, String(64)),
            incoming.c.value, incoming.c.original_value, incoming.c.original_currency,
            bindparam("now", utcnow(), type_=UtcDateTime()),
        ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        stmt = insert_for(self.session, FACT).from_select(
            ["metric", "date", "member", "shop", "source", "value", "original_value", "original_currency",
             "updated_at"], rows
        )
        if diff.changed == diff.unchanged == 0 and self._insert_only(stmt):
            return diff
        stmt = stmt.on_conflict_do_update(
            index_elements=["metric", "date", "member", "shop", "source"],
            set_={"value": stmt.excluded.value, "original_value": stmt.excluded.original_value,
                  "original_currency": stmt.excluded.original_currency, "updated_at": stmt.excluded.updated_at},
            where=func.abs(FACT.c.value - stmt.excluded.value) > TOLERANCE,
        )
        self.session.execute(stmt)
        return diff

    def _insert_only(self, insert: Insert) -> bool:
        """None of the facts is stored yet: on PostgreSQL a plain INSERT, which runs markedly faster
        than INSERT … ON CONFLICT. In a savepoint: should a concurrent writer have stored one of them
        since `diff`, it fails (False) and the caller's upsert settles it as always."""
        if self.session.get_bind().dialect.name != "postgresql":
            return False
        try:
            with self.session.begin_nested():
                self.session.execute(insert)
        except IntegrityError:
            return False
        return True


def write_staged(connection: Connection, rows: list[StagedRow]) -> None:
    """Rows into the staging table by the driver's fastest path (COPY on PostgreSQL, a plain
    executemany of tuples on SQLite): a million-row file spends no time in per-row SQLAlchemy work."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY pg_temp.{STAGING_NAME} ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif dialect == "sqlite":  # dates as the Date column stores them on SQLite: ISO text
        connection.exec_driver_sql(
            f"INSERT INTO temp.{STAGING_NAME} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(line, metric, day.isoformat(), *rest) for line, metric, day, *rest in rows],
        )
    else:
        keys = _COLUMNS.split(", ")
        connection.execute(STAGING.insert(), [dict(zip(keys, row, strict=True)) for row in rows])


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
