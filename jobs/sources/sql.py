"""A SQL source: a query against any SQLAlchemy URL, aggregated in that database.

The query gets `:start` and `:end` (the re-sync window, team dates) when it names them, and
returns `date, [member,] <metric columns>` (or long form `date, metric, value[, member]`).
Rows stream from a server-side cursor where the driver has one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import URL, Date, bindparam, create_engine, text
from sqlalchemy.pool import NullPool

FETCH_ROWS = 5000


@contextmanager
def query_rows(
    url: URL, query: str, start: date, end: date
) -> Iterator[tuple[tuple[int, list[Any]], Iterator[tuple[int, list[Any]]]]]:
    """(header, rows) of the query's answer; `url` has its ${ENV_VAR} references expanded."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            statement = text(query)
            wanted = {"start": start, "end": end}
            params = {name: value for name, value in wanted.items() if name in statement._bindparams}
            # Typed, so every driver gets a date it understands (SQLite: 'YYYY-MM-DD' text).
            statement = statement.bindparams(*(bindparam(name, type_=Date) for name in params))
            result = connection.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(
                statement, params
            )
            header = (0, list(result.keys()))
            yield header, _numbered(result)
    finally:
        engine.dispose()


def _numbered(result: Any) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(result, start=1):
        yield number, list(row)
