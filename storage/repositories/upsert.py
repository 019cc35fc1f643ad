"""Write helpers shared by repositories: dialect-specific `INSERT … ON CONFLICT`, soft delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

UPSERT_DIALECTS = ("postgresql", "sqlite")


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's own INSERT (with ON CONFLICT). Its module is imported here, by name: the PostgreSQL
    dialect alone is a tenth of a second of a `kpibot status` start on SQLite, which never uses it."""
    dialect = session.get_bind().dialect.name
    if dialect not in UPSERT_DIALECTS:
        raise NotImplementedError(f"upsert is not implemented for {dialect}")
    return __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"]).insert(table)  # as jobs/lazy.py does


def deactivate(session: Session, model: type[Any], row_id: int) -> Any | None:
    """Soft-delete a row with an `active` flag; None when it is unknown or already inactive."""
    row = session.get(model, row_id)
    if row is None or not row.active:
        return None
    row.active = False
    session.add(row)
    session.flush()
    return row


def insert_ignore(session: Session, table: Table, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING; True when this call inserted the row.

    Decided by RETURNING, not rowcount: drivers disagree on rowcount for a skipped insert."""
    key_column = table.c[keys[0]]
    stmt = insert_for(session, table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return session.execute(stmt.returning(key_column)).first() is not None
