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
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import Database
from storage.settings import Settings, load_settings

pytest_plugins = ["tests.slack_fixtures", "tests.feishu_fixtures", "tests.dingtalk_fixtures"]

PG_URL = os.environ.get("KPIBOT_TEST_DATABASE_URL", "").strip()
DATABASES = ["sqlite", *(["postgresql"] if PG_URL else [])]

# Platform SDK clients read proxy variables (and ignore NO_PROXY): tests talk to 127.0.0.1 only.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: not a test of SQL; run once, on SQLite (see conftest)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        once = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("database_url", ["sqlite"] if once else DATABASES, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kpibot.db'}"
        return
    yield from _postgres_schema_url()


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema per test, so tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
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


@pytest.fixture
def report_figure(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print a measured figure in the test run's output (CI's log), past pytest's capture."""

    def report(line: str) -> None:
        with capsys.disabled():
            print(line)

    return report
