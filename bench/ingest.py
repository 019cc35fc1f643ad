"""ingest_push and ingest_file: N facts into an empty database through our paths, against the raw
driver writing the same rows into the same (migrated, indexed) table.

* ingest_push: `POST /api/v1/metrics` in batches of 10,000 to a running server (its own process,
  build_runtime + build_http_app + ServerThread), one request after another, bodies encoded beforehand.
* ingest_file: `kpibot import FILE --source bench-import` as a subprocess (the real CLI) on a long CSV.
* baseline: sqlite3 executemany (WAL, synchronous=NORMAL, as the app's connections) / PostgreSQL COPY,
  committing per 10,000-row batch for the push (each request is a transaction) and once for the file
  (an import is one transaction).

Every repetition starts from a freshly migrated database. ratio = our rows/s ÷ baseline rows/s.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.dataset import SOURCES, UPDATED_AT, DatasetSpec, cells, copy_facts, fact_rows, team
from bench.harness import (
    DATA_DIR,
    NotAvailable,
    Result,
    clean_env,
    interleaved,
    median,
    peak_rss_mb,
    read_peak,
    say,
    spread,
)
from bench.postgres import configured_url, libpq_dsn, scratch_schema
from bench.server import ServerProcess
from storage.db import Database

BATCH = 10_000
BUDGET_S = 120.0  # no further repetition starts after this (a slow path must not stretch `make bench`)
TOKEN = "bench-push-token"
PUSH_SOURCE = "tiktok-shop"
IMPORT_SOURCE = "bench-import"
CLI = [sys.executable, "-m", "bench.cli_peak"]  # bot.cli:main, reporting its peak RSS
INSERT = "INSERT INTO fact (metric, date, member, source, value, updated_at) VALUES (?, ?, ?, ?, ?, ?)"

Row = tuple[str, str, str, str, float]


def records(rows: int) -> list[Row]:
    """`rows` distinct facts (metric, date, member, source, value) shaped like the attainment data."""
    spec = DatasetSpec(rows=rows)
    return list(fact_rows(spec, team(spec)))


class Store:
    """A fresh, migrated database per repetition: a SQLite file under bench/.data/scratch, or a
    PostgreSQL scratch schema."""

    def __init__(self, postgres: str | None) -> None:
        self.postgres = postgres
        self.url = ""
        self._stack = ExitStack()
        self._dir = DATA_DIR / "scratch" / uuid.uuid4().hex[:8]

    @property
    def dialect(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def fresh(self) -> str:
        self.drop()
        if self.postgres:
            self.url = self._stack.enter_context(scratch_schema(self.postgres, prefix="bench_ingest"))
        else:
            self._dir.mkdir(parents=True, exist_ok=True)
            self.url = f"sqlite:///{self._dir / (uuid.uuid4().hex[:8] + '.db')}"
        db = Database(self.url)
        db.upgrade()
        db.dispose()
        return self.url

    def drop(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        shutil.rmtree(self._dir, ignore_errors=True)

    def count(self) -> int:
        from storage.repositories.facts import count_facts

        db = Database(self.url)
        try:
            with db.session() as session:
                return count_facts(session)
        finally:
            db.dispose()

    def raw_insert(self, batches: list[list[Row]], *, commit_each: bool) -> None:
        """The baseline: the driver writing the rows, nothing else."""
        if self.postgres:
            import psycopg

            with psycopg.connect(libpq_dsn(self.url)) as conn:
                for batch in batches:
                    with conn.cursor() as cursor:
                        copy_facts(cursor, batch, chunk=BATCH)
                    if commit_each:
                        conn.commit()
                conn.commit()
            return
        path = self.url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            for batch in batches:
                conn.executemany(INSERT, [(*row, UPDATED_AT) for row in batch])
                if commit_each:
                    conn.commit()
            conn.commit()
        finally:
            conn.close()


def _sizes(options: Any) -> int:
    return 50_000 if options.quick else options.ingest_rows


def _reps(options: Any) -> int:
    return 2 if options.quick else 3


def _postgres(options: Any, pg: bool) -> str | None:
    if not pg:
        return None
    url = configured_url(options.postgres)
    if url is None:
        raise NotAvailable("PostgreSQL: set KPIBOT_TEST_DATABASE_URL or pass --postgres URL")
    return url


# ---------------------------------------------------------------- push API


def run_push(options: Any, *, pg: bool = False) -> list[Result]:
    try:
        import bot.http.push_api  # noqa: F401
    except ImportError:
        raise NotAvailable("the push API (bot/http/push_api.py) has not landed") from None
    import httpx

    store = Store(_postgres(options, pg))
    n = _sizes(options)
    rows = records(n)
    batches = [rows[i : i + BATCH] for i in range(0, n, BATCH)]
    bodies = [_push_body(batch) for batch in batches]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    server_rss: list[float] = []
    stack = ExitStack()
    state: dict[str, Any] = {}

    def before(name: str) -> None:
        url = store.fresh()
        if name == "ours":
            server = stack.enter_context(ServerProcess("kpibot", "--database", url, "--api-token", TOKEN))
            state["server"] = server
            state["client"] = stack.enter_context(httpx.Client(base_url=server.url, timeout=120, trust_env=False))

    def ours() -> None:
        client = state["client"]
        for body in bodies:
            response = client.post("/api/v1/metrics", content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"push API answered {response.status_code}: {response.text[:300]}")

    def after(name: str) -> None:
        if name == "ours":
            stack.close()
            server_rss.append(state["server"].peak_rss_mb)
        stored = store.count()
        if stored != n:
            raise RuntimeError(f"{name}: {stored:,} facts stored, expected {n:,}")
        store.drop()

    say(f"  {n:,} records in {len(bodies)} requests of {BATCH:,}; up to {_reps(options)} repetitions "
        f"(none started after {BUDGET_S:.0f} s), fresh database each")
    try:
        times = interleaved({"ours": ours, "raw": lambda: store.raw_insert(batches, commit_each=True)},
                            reps=_reps(options), warmup=0, before_each=before, after_each=after, budget_s=BUDGET_S)
    finally:
        stack.close()
        store.drop()
    name = "ingest_push_pg" if pg else "ingest_push"
    baseline = "raw_copy" if pg else "raw_executemany"
    return [_throughput_result(name, baseline, n, times, max(server_rss, default=0.0), {
        "database": store.dialect, "rows": n, "batch": BATCH, "requests": len(bodies), "reps": len(times["ours"]),
        "body_mb": round(sum(len(b) for b in bodies) / len(bodies) / 1e6, 2),
        "peak_rss_is": "the server process", "client_peak_rss_mb": peak_rss_mb(),
    })]


def _push_body(batch: list[Row]) -> bytes:
    return json.dumps({"records": [
        {"metric": metric, "date": day, "value": value, "member": member, "source": source}
        for metric, day, member, source, value in batch
    ]}).encode()


# ---------------------------------------------------------------- file import


def csv_file(n: int) -> Path:
    """A long-form CSV of `n` facts (date,metric,value,member), cached under bench/.data/."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"import-{n}-g1.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["date", "metric", "value", "member"])
            writer.writerows((day, metric, value, member) for metric, day, member, _, value in _import_rows(n))
        partial.rename(path)
    return path


def _import_rows(n: int) -> Iterator[Row]:
    """A file names no source, so its rows must differ in (metric, date, member): the first source's
    cells hold 2.6 M such facts over 2 years, plenty for the default 1 M."""
    spec = DatasetSpec(rows=n)
    members = team(spec)
    per_source = len(cells(spec, members)) // len(SOURCES) * spec.days
    if n > per_source:
        raise ValueError(f"ingest_file makes at most {per_source:,} distinct rows; asked for {n:,}")
    for metric, day, member, _, value in fact_rows(spec, members):
        yield metric, day, member, IMPORT_SOURCE, value


def run_file(options: Any, *, pg: bool = False) -> list[Result]:
    try:
        import jobs.ingest  # noqa: F401
        from bot.cli import data  # noqa: F401
    except ImportError:
        raise NotAvailable("`kpibot import` (bot/cli/data.py, jobs/ingest/) has not landed") from None
    store = Store(_postgres(options, pg))
    requested = _sizes(options)
    path = csv_file(requested)
    rows = list(_import_rows(requested))
    n = len(rows)
    workdir = DATA_DIR / "scratch" / f"cwd-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)  # no developer .env is read from here
    peaks: list[float] = []

    def ours() -> None:
        peak_file = workdir / f"peak-{len(peaks)}"
        done = subprocess.run(
            [*CLI, "import", str(path), "--source", IMPORT_SOURCE],
            env=clean_env(DATABASE_URL=store.url, BENCH_PEAK_FILE=str(peak_file)), cwd=workdir,
            capture_output=True, text=True, check=False,
        )
        peaks.append(read_peak(peak_file))
        if done.returncode != 0:
            raise RuntimeError(f"kpibot import failed ({done.returncode}): {done.stderr[-500:]}")

    def after(name: str) -> None:
        stored = store.count()
        if stored != n:
            raise RuntimeError(f"{name}: {stored:,} facts stored, expected {n:,}")
        store.drop()

    say(f"  {n:,} CSV rows ({path.stat().st_size / 1e6:.0f} MB); up to {_reps(options)} repetitions "
        f"(none started after {BUDGET_S:.0f} s), fresh database each")
    try:
        times = interleaved({"ours": ours, "raw": lambda: store.raw_insert([rows], commit_each=False)},
                            reps=_reps(options), warmup=0, before_each=lambda _: store.fresh(), after_each=after,
                            budget_s=BUDGET_S)
    finally:
        store.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    name = "ingest_file_pg" if pg else "ingest_file"
    baseline = "raw_copy" if pg else "raw_executemany"
    return [_throughput_result(name, baseline, n, times, max(peaks, default=0.0), {
        "database": store.dialect, "rows": n, "reps": len(times["ours"]), "form": "long CSV",
        "cli": "kpibot import FILE --source bench-import (bot.cli:main in a subprocess; schema already migrated)",
        "peak_rss_is": "the kpibot import process", "harness_peak_rss_mb": peak_rss_mb(),
    })]


def _throughput_result(name: str, baseline: str, n: int, times: dict[str, list[float]], peak_mb: float,
                       params: dict[str, Any]) -> Result:
    ours_s, raw_s = median(times["ours"]), median(times["raw"])
    ours_rate, raw_rate = n / ours_s, n / raw_s
    return Result(
        name=name, value=round(ours_rate), unit="rows/s", baseline_name=baseline, baseline_value=round(raw_rate),
        ratio=round(ours_rate / raw_rate, 2),
        params={**params, "ours_s": round(ours_s, 2), "baseline_s": round(raw_s, 2),
                "ours_range_s": spread(times["ours"]), "baseline_range_s": spread(times["raw"])},
        peak_rss_mb=peak_mb,
    )



def run_push_pg(options: Any) -> list[Result]:
    return run_push(options, pg=True)


def run_file_pg(options: Any) -> list[Result]:
    return run_file(options, pg=True)
