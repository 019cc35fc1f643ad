"""Start-up migrations run under a database lock: two processes upgrading an empty database at once
both succeed and the schema is upgraded exactly once.

The test holds the migration lock itself while both `kpibot db upgrade` processes start, waits until
both are blocked on it, then lets go: they are then guaranteed to race for the same empty database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database, head_revision

ROOT = Path(__file__).resolve().parent.parent


def _upgrade_process(database_url: str, workdir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def waiting_on_lock(db: Database, lock_file: Path | None) -> int:
    """How many other sessions/processes are blocked on the migration lock."""
    if lock_file is None:
        with db.engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid::bigint = :c"
            ), {"c": 0x6B70696D}).scalar_one())
    inode = os.stat(lock_file).st_ino
    # /proc/locks lists a blocked flock request as "N: -> FLOCK ADVISORY WRITE pid maj:min:inode 0 EOF"
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "->" in line and line.split()[-3].endswith(f":{inode}"))


def test_two_processes_upgrading_together_upgrade_once(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    sqlite_file = make_url(database_url).database if db.dialect == "sqlite" else None
    lock_file = Path(sqlite_file + ".migrate.lock") if sqlite_file else None
    try:
        assert db.current_revision() is None  # empty database
        with db.schema_lock():
            processes = [_upgrade_process(database_url, tmp_path) for _ in range(2)]
            deadline = time.monotonic() + 60
            while waiting_on_lock(db, lock_file) < 2:
                assert time.monotonic() < deadline, "the two upgrades never both waited on the lock"
                assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
                time.sleep(0.05)
        outputs = [p.communicate(timeout=120) for p in processes]
        assert [p.returncode for p in processes] == [0, 0], outputs
        said = sorted(out.strip() for out, _ in outputs)
        assert said == [f"database is up to date ({head_revision()})", f"database upgraded to {head_revision()}"]
        assert db.current_revision() == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        db.dispose()


def test_upgrade_reports_whether_it_migrated(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert not db.migrations_current()
        assert db.upgrade() is True
        assert db.migrations_current()
        assert db.upgrade() is False
    finally:
        db.dispose()
