"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when
KPIBOT_TEST_DATABASE_URL is set (then an unreachable server fails the run instead of skipping).

Which tests run on both databases: a test module whose subject is SQL (storage, repositories, KPI
engine, migrations, imports and syncs, delivery ledger, leader election, jobs) runs on both. A module
whose subject is not SQL (a platform adapter over its fake server, the parser, rendering, signing,
escaping, the CLI's wiring) declares `pytestmark = pytest.mark.sqlite_only` and runs once, on SQLite:
it reaches the database only through code whose SQL the first kind already proves on both. When in
doubt, leave the mark off."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import Database, head_revision
from storage.settings import Settings, load_settings

pytest_plugins = ["tests.slack_fixtures", "tests.feishu_fixtures", "tests.dingtalk_fixtures"]

PG_URL = os.environ.get("KPIBOT_TEST_DATABASE_URL", "").strip()
DATABASES = ["sqlite", *(["postgresql"] if PG_URL else [])]

# Platform SDK clients read proxy variables (and ignore NO_PROXY): tests talk to 127.0.0.1 only.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: not a test of SQL; run once, on SQLite (see conftest)")


# Modules whose tests wait on processes of their own (`kpibot serve` replicas, workers, the CLI) or on
# advertised delays, 5-40 s each. They run first, so that with pytest-xdist (`make test`) no process is
# left with one of them while the others have finished.
SLOW_FIRST = ("test_replica_kill.py", "test_serve_shutdown.py", "test_leader_election.py", "test_cli.py",
              "test_demo_meetings.py", "test_delivery_storm.py", "test_migration_lock.py", "test_registry.py",
              "test_slack_socket_mode.py", "test_doctor.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the usual order within each module and among the rest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        once = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("database_url", ["sqlite"] if once else DATABASES, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kpibot.db'}"
        return
    if "db" in request.fixturenames:  # the test wants a migrated database: lend it this process's schema
        yield request.getfixturevalue("migrated_postgres").lend()
        return
    yield from _postgres_schema_url()


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema per test, so tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _schema_url(schema: str) -> str:
    return make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


class MigratedPostgres:
    """One PostgreSQL schema per test process, migrated to head once and lent to one test at a time.

    Before each loan every row is deleted and every id sequence restarted, so a test sees what a fresh
    migration leaves: the same tables, columns and indexes, no rows, ids from 1. If a test changed the
    schema's shape, or its rows stay locked, the schema is dropped and a new one migrated instead. Migrating
    a schema costs ~0.3 s of Alembic and DDL (over 1 s on a busy machine); emptying one, a few ms."""

    _SHAPE = text(
        "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
        "FROM information_schema.columns WHERE table_schema = :schema "
        "UNION ALL SELECT tablename, indexname, indexdef, '', '' FROM pg_indexes WHERE schemaname = :schema "
        "ORDER BY 1, 2")

    def __init__(self) -> None:
        self.admin = create_engine(PG_URL)
        self.schema: str | None = None
        self.shape: list[tuple[object, ...]] = []
        self.delete_order: list[str] = []
        self.sequences: list[str] = []

    def lend(self) -> str:
        if self.schema is None or not self._emptied(self.schema):
            self._replace()
        assert self.schema is not None
        return _schema_url(self.schema)

    def _replace(self) -> None:
        from sqlalchemy import MetaData

        if self.schema is not None:
            self._drop(self.schema)
        schema = f"m_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schema = schema
        database = Database(_schema_url(schema))
        database.upgrade()
        database.dispose()
        tables = MetaData()
        tables.reflect(self.admin, schema=schema)
        self.delete_order = [table.name for table in reversed(tables.sorted_tables) if table.name != "alembic_version"]
        with self.admin.connect() as conn:
            self.shape = [tuple(row) for row in conn.execute(self._SHAPE, {"schema": schema})]
            self.sequences = list(conn.execute(text(
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = :schema"),
                {"schema": schema}).scalars())

    def _emptied(self, schema: str) -> bool:
        from sqlalchemy.exc import DBAPIError

        try:
            with self.admin.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                if [tuple(row) for row in conn.execute(self._SHAPE, {"schema": schema})] != self.shape:
                    return False
                version = conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalars().all()
                if version != [head_revision()]:
                    return False
                for table in self.delete_order:
                    conn.execute(text(f'DELETE FROM "{schema}"."{table}"'))
                for sequence in self.sequences:
                    conn.execute(text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART'))
            return True
        except DBAPIError:
            return False

    def _drop(self, schema: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    def close(self) -> None:
        if self.schema is not None:
            self._drop(self.schema)
        self.admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[MigratedPostgres]:
    schemas = MigratedPostgres()
    yield schemas
    schemas.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per test process; `db` starts each SQLite test from a copy."""
    path = tmp_path_factory.mktemp("migrated") / "kpibot.db"
    template = Database(f"sqlite:///{path}")
    template.upgrade()
    template.dispose()  # the last connection closing checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def db(database_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database migrated to head: the tables the migrations build, no rows."""
    target = make_url(database_url)
    if target.get_backend_name() == "sqlite" and target.database and not Path(target.database).exists():
        # a byte copy of a file the same migrations built: 1 ms instead of ~100 ms of Alembic per test
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), target.database)
    database = Database(database_url)
    database.upgrade()  # the copy is at head already: this only checks (and runs them if the file was there)
    yield database
    database.dispose()


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: never reads a developer's .env; overrides by SPEC §2 names."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {"DATABASE_URL": database_url}
        values.update(overrides)
        return load_settings(_env_file=None, **values)

    return build


FIGURE = "figure"  # the user_properties key of a line a test reports with `report_figure`


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Show a measured figure in the test run's output (CI's log), past pytest's capture: the lines are
    kept on the test's report, which pytest-xdist's workers send to the main process, and printed there
    in a "figures" section at the end of the run."""

    def report(line: str) -> None:
        request.node.user_properties.append((FIGURE, line))

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for key, value in getattr(report, "user_properties", ()) if key == FIGURE]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(str(line).strip("\n"))
