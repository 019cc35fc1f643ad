"""One engine per process, a session per unit of work, schema through Alembic.

Upgrades run under a database-wide lock (PostgreSQL: a session advisory lock; SQLite: an exclusive
`flock` on a file beside the database), so replicas starting together against an empty database
upgrade it once: the first takes the lock and migrates, the others wait, then find it current.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_ID = 0x6B70696D  # "kpim": the advisory lock's first key; the second is the schema's hash

# The session of the unit of work in progress on this thread (Database.shared_session), if any.
_shared: ContextVar[tuple[Database, Session] | None] = ContextVar("kpibot_shared_session", default=None)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = _make_engine(url)
        # Read-only questions outside a unit of work (reading()): PostgreSQL connections in autocommit, the same
        # pool. SQLite's driver opens no transaction for reads anyway (and switching it costs a PRAGMA).
        self._reader: Engine = (self.engine if self.dialect == "sqlite"
                                else self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error. Inside `shared_session()` it is
        that session (the outermost block commits)."""
        shared = _shared.get()
        if shared is not None and shared[0] is self:
            yield shared[1]
            return
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (the engine's questions): inside `shared_session()` that session; else a
        session on a connection in autocommit mode with nothing to commit. On PostgreSQL that saves the
        BEGIN and COMMIT round trips around a question answered in one statement; each statement reads its
        own snapshot, as it does under READ COMMITTED inside a transaction. Do not write through it."""
        shared = _shared.get()
        if shared is not None and shared[0] is self:
            yield shared[1]
            return
        with self._reader.connect() as connection, Session(bind=connection) as session:
            yield session

    @contextmanager
    def shared_session(self) -> Iterator[Session]:
        """One session for everything opened inside on this thread (a chat question: identity, engine,
        freshness, writes), committed once at the end, instead of one per repository call."""
        shared = _shared.get()
        if shared is not None and shared[0] is self:
            yield shared[1]
            return
        with self.session() as session:
            token = _shared.set((self, session))
            try:
                yield session
            finally:
                _shared.reset(token)

    def upgrade(self) -> bool:
        """Bring the schema to the newest migration, under the migration lock. True when this call
        applied migrations, False when the schema was already current."""
        with self.schema_lock():
            before = self.current_revision()
            if before == head_revision():
                return False
            from alembic import command  # only when there is something to apply

            command.upgrade(alembic_config(self.url, self.engine), "head")
        log.info("database schema upgraded from %s to %s", before or "empty", head_revision())
        return True

    def current_revision(self) -> str | None:
        """The schema's Alembic revision; None for an empty database."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def migrations_current(self) -> bool:
        return self.current_revision() == head_revision()

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Held while migrating and while mirroring definitions at start-up: one process at a time.
        Not re-entrant: do not take it again inside (`upgrade()` takes it itself)."""
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                schema = conn.execute(text("SELECT current_schema()")).scalar_one() or "public"
                keys = {"c": MIGRATION_LOCK_ID, "o": _signed32(zlib.crc32(str(schema).encode()))}
                conn.execute(text("SELECT pg_advisory_lock(CAST(:c AS integer), CAST(:o AS integer))"), keys)
                conn.commit()  # the session lock outlives the transaction; do not sit idle in one
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(CAST(:c AS integer), CAST(:o AS integer))"), keys)
                    conn.commit()
            return
        database = make_url(self.url).database or ""
        if self.dialect != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
            yield
            return
        import fcntl

        path = Path(database).expanduser().resolve()
        with path.with_name(path.name + ".migrate.lock").open("a+") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # blocks while another process migrates
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration, read from the revision scripts' `revision` / `down_revision` lines (a
    millisecond; loading Alembic's script directory costs a CLI answer ~0.2 s). Anything unusual
    (branches, merge revisions, lines in another form) is left to Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return _alembic_head()
        revisions.add(found["revision"])
        if found["down_revision"] != "None":
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else _alembic_head()


_REVISION_LINE = re.compile(r"""^(revision|down_revision)(?:: [^=]+)? = ['"]?([\w]+)['"]?\s*$""", re.MULTILINE)


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= (1 << 31) else value


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
