"""PostgreSQL for benchmarks: the server named by KPIBOT_TEST_DATABASE_URL (or --postgres URL), and a
scratch schema per benchmark that is dropped afterwards, so nothing is left in the shared database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENV_NAME = "KPIBOT_TEST_DATABASE_URL"


def configured_url(explicit: str | None = None) -> str | None:
    url = (explicit or os.environ.get(ENV_NAME, "")).strip()
    return url or None


def with_driver(url: str) -> str:
    """`postgresql://…` → `postgresql+psycopg://…` (psycopg 3 is what the project installs)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@contextmanager
def scratch_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """A fresh schema; yields a URL whose connections use it (search_path); drops it on exit."""
    base_url = with_driver(base_url)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def libpq_dsn(url: str) -> str:
    """A psycopg DSN for a SQLAlchemy URL (raw connections for baselines)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
