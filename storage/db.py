"""One engine per process, a session per unit of work, schema through Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# The session of the unit of work in progress on this thread (Database.shared_session), if any.
_shared: ContextVar[tuple[Database, Session] | None] = ContextVar("kpibot_shared_session", default=None)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = _make_engine(url)

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

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        from alembic import command

        command.upgrade(alembic_config(self.url, self.engine), "head")

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str, engine: Engine | None = None):  # -> alembic.config.Config
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
