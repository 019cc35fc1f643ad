"""One scheduler among replicas.

PostgreSQL: the scheduler runs only while this process holds a session-level advisory lock on a
dedicated connection kept open for that purpose. If the process dies its connection closes and the
server releases the lock; the other replicas retry every `retry_seconds` and one of them takes over.
The key is fixed per deployment: a constant class id plus a hash of the schema in use, so two
kpibot installations sharing one PostgreSQL database in different schemas do not block each other.

SQLite serves one process: a second process on the same database file finds the lock file beside it
taken (`flock`, exclusive, non-blocking) and refuses to run a scheduler, saying why.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.db import Database

log = logging.getLogger(__name__)

LOCK_CLASS_ID = 0x6B706962  # "kpib": the advisory lock's first key, fixed for every kpibot deployment

_ACQUIRE = text("SELECT pg_try_advisory_lock(CAST(:c AS integer), CAST(:o AS integer))")
_RELEASE = text("SELECT pg_advisory_unlock(CAST(:c AS integer), CAST(:o AS integer))")
# Two-key advisory locks show up in pg_locks as classid/objid (unsigned oids) with objsubid 2.
_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
    "AND classid::bigint = :c AND objid::bigint = :o AND objsubid = 2 AND granted"
)


class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...

    def refusal(self) -> str:
        """Why this process is not the leader (logged once)."""
        ...


class PostgresAdvisoryLock:
    def __init__(self, db: Database, *, class_id: int = LOCK_CLASS_ID) -> None:
        # NullPool: closing the connection really ends the session, which is what releases the lock.
        self._engine = create_engine(
            db.engine.url, poolclass=NullPool,
            connect_args={"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 10,
                          "keepalives_interval": 5, "keepalives_count": 3},
        )
        self._class_id = class_id
        self._object_id: int | None = None
        self._conn: Connection | None = None
        self.description = f"PostgreSQL advisory lock ({class_id}, schema hash)"

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        try:
            conn = self._engine.connect()
        except Exception as exc:
            log.warning("scheduler lock: cannot reach PostgreSQL: %s", type(exc).__name__)
            return False
        try:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one() or "public"
            object_id = _signed32(zlib.crc32(str(schema).encode()))
            got = conn.execute(_ACQUIRE, {"c": self._class_id, "o": object_id}).scalar_one()
            conn.commit()  # a session-level lock outlives the transaction; do not sit idle in one
        except Exception:
            conn.close()
            log.exception("scheduler lock: query failed")
            return False
        if not got:
            conn.close()
            return False
        self._conn, self._object_id = conn, object_id
        self.description = f"PostgreSQL advisory lock ({self._class_id}, {object_id}) on schema {schema}"
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            held = self._conn.execute(
                _HELD, {"c": self._class_id & 0xFFFFFFFF, "o": (self._object_id or 0) & 0xFFFFFFFF},
            ).scalar_one()
            self._conn.commit()
            return bool(held)
        except Exception as exc:
            log.error("scheduler lock: connection lost (%s)", type(exc).__name__)
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(_RELEASE, {"c": self._class_id, "o": self._object_id})
            self._conn.commit()
        except Exception:
            pass  # closing the connection below releases it anyway
        self._drop()

    def refusal(self) -> str:
        return "another kpibot replica holds the scheduler lock; this one answers chat and takes over if it stops"

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                conn.invalidate()

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


class FileLock:
    """An exclusive `flock` on `<database file>.scheduler.lock` (POSIX)."""

    def __init__(self, path: Path, database_file: Path) -> None:
        self.path = path
        self.database_file = database_file
        self._file: IO[str] | None = None
        self.description = f"lock file {path}"

    def try_acquire(self) -> bool:
        import fcntl

        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        import fcntl

        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def refusal(self) -> str:
        return (f"another kpibot process already runs the scheduler for the SQLite database {self.database_file} "
                f"(lock file {self.path} is held). SQLite serves one process: this one will not post digests "
                "or alerts. Stop the other process, or use PostgreSQL (DATABASE_URL=postgresql+psycopg://…) "
                "to run several replicas")

    def dispose(self) -> None:
        self.release()


class SoleProcessLock:
    """In-memory SQLite (or no flock on this OS): nothing to share, this process is the leader."""

    description = "single process"

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def refusal(self) -> str:
        return ""

    def dispose(self) -> None:
        pass


def lock_for(db: Database) -> LeaderLock:
    if db.dialect == "postgresql":
        return PostgresAdvisoryLock(db)
    if db.dialect == "sqlite":
        database = make_url(db.url).database or ""
        if database and database != ":memory:" and not database.startswith("file::memory:"):
            try:
                import fcntl  # noqa: F401
            except ImportError:
                log.warning("no flock on this system: cannot stop a second process from running a scheduler")
                return SoleProcessLock()
            path = Path(database).expanduser().resolve()
            return FileLock(path.with_name(path.name + ".scheduler.lock"), path)
        return SoleProcessLock()
    log.warning("no scheduler lock for %s: run a single process", db.dialect)
    return SoleProcessLock()


class LeaderElection:
    """Runs `on_elected` once this process holds the lock and `on_lost` when it no longer does.

    `start()` tries once at once; a background thread then keeps trying (follower) or keeps checking
    that the lock is still held (leader), every `retry_seconds`."""

    def __init__(
        self, lock: LeaderLock, *, on_elected: Callable[[], None], on_lost: Callable[[], None],
        retry_seconds: float = 20.0,
    ) -> None:
        self.lock = lock
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.retry_seconds = retry_seconds
        self._leader = False
        self._refusal_logged = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    @property
    def is_leader(self) -> bool:
        return self._leader

    def start(self) -> bool:
        self._attempt()
        self._thread = threading.Thread(target=self._run, name="kpibot-leader", daemon=True)
        self._thread.start()
        return self._leader

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.retry_seconds))
        with self._mutex:
            if self._leader:
                self._leader = False
                self._safely(self.on_lost)
            self.lock.release()
        dispose = getattr(self.lock, "dispose", None)
        if dispose is not None:
            dispose()

    def resign(self) -> bool:
        """Give leadership up at once (shutdown): stop trying and release the lock now, so another replica
        takes over on its next try. `on_lost` is not called: the caller winds its own work down. Returns
        whether this process was the leader."""
        self._stop.set()
        with self._mutex:
            was_leader, self._leader = self._leader, False
            self.lock.release()
        if was_leader:
            log.info("released the scheduler lock (%s) for another replica", self.lock.description)
        return was_leader

    def _run(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            self._attempt()

    def _attempt(self) -> None:
        with self._mutex:
            if self._stop.is_set():
                return
            if self._leader:
                if not self.lock.still_held():
                    log.error("lost the scheduler lock (%s): stopping the scheduler in this process",
                              self.lock.description)
                    self._leader = False
                    self.lock.release()
                    self._safely(self.on_lost)
                return
            if self.lock.try_acquire():
                log.info("this process runs the scheduler (%s)", self.lock.description)
                self._leader = True
                self._refusal_logged = False
                if not self._safely(self.on_elected):
                    self._leader = False
                    self.lock.release()
                return
            if not self._refusal_logged:
                log.warning("not running the scheduler: %s (retrying every %.0f s)",
                            self.lock.refusal(), self.retry_seconds)
                self._refusal_logged = True

    @staticmethod
    def _safely(callback: Callable[[], None]) -> bool:
        try:
            callback()
            return True
        except Exception:
            log.exception("scheduler start/stop failed")
            return False


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= (1 << 31) else value
