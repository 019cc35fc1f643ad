"""`python -m bench` — run the benchmarks, each in its own process, and write bench/results.json + .md.

    python -m bench                               all, default sizes (SQLite; PostgreSQL too when
                                                  KPIBOT_TEST_DATABASE_URL is set)
    python -m bench --only attainment_query --rows 10000000
    python -m bench --quick                       smaller sizes: a smoke run
    python -m bench --postgres [URL]              PostgreSQL too (URL, else KPIBOT_TEST_DATABASE_URL)

A run of everything replaces results.json; a run with --only replaces just the entries it produced.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    REPO_DIR,
    RESULTS_JSON,
    RESULTS_MD,
    NotAvailable,
    clean_env,
    load_results,
    markdown_table,
    merge_results,
    say,
    write_results,
)
from bench.postgres import configured_url


@dataclass(frozen=True)
class Unit:
    """One measured process: `target` is "module:function" taking the options, returning Results."""

    name: str
    group: str
    target: str
    postgres: bool = False
    prepare: str | None = None  # "module:function" run first in its own process (data generation)


UNITS = (
    Unit("attainment_query", "attainment_query", "bench.attainment:run_sqlite",
         prepare="bench.attainment:prepare_sqlite"),
    Unit("attainment_query_pandas", "attainment_query", "bench.attainment:run_pandas",
         prepare="bench.attainment:prepare_sqlite"),
    Unit("attainment_query_pg", "attainment_query", "bench.attainment:run_postgres", postgres=True),
    Unit("shop_board", "shop_board", "bench.shop_board:run_sqlite", prepare="bench.shop_board:prepare_sqlite"),
    Unit("shop_board_pg", "shop_board", "bench.shop_board:run_postgres", postgres=True),
    Unit("ingest_push", "ingest_push", "bench.ingest:run_push"),
    Unit("ingest_push_pg", "ingest_push", "bench.ingest:run_push_pg", postgres=True),
    Unit("ingest_file", "ingest_file", "bench.ingest:run_file"),
    Unit("ingest_file_pg", "ingest_file", "bench.ingest:run_file_pg", postgres=True),
    Unit("chart_render", "chart_render", "bench.charts:run"),
    Unit("digest_fanout", "digest_fanout", "bench.digest:run"),
    Unit("ack_latency_p99", "ack_latency_p99", "bench.ack:run"),
    Unit("feishu_ack_p99", "feishu_ack_p99", "bench.feishu_ack:run"),
    Unit("unusual_query", "unusual_query", "bench.unusual:run", prepare="bench.unusual:prepare"),
    Unit("unusual_query_pg", "unusual_query", "bench.unusual:run_postgres", postgres=True),
    Unit("why_query", "why_query", "bench.why:run", prepare="bench.why:prepare"),
    Unit("why_query_pg", "why_query", "bench.why:run_postgres", postgres=True),
    Unit("parse_question", "parse_question", "bench.parse:run"),
    Unit("cli_status", "cli_status", "bench.cli:run"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    names = sorted({u.name for u in UNITS} | {u.group for u in UNITS})
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these (repeat or comma-separate): {', '.join(names)}")
    parser.add_argument("--rows", type=int, default=None,
                        help="facts for attainment_query (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--ingest-rows", type=int, default=1_000_000, help="records for ingest_* (default 1,000,000)")
    parser.add_argument("--ack-facts", type=int, default=0,
                        help="ack_latency_p99 against the attainment workspace with this many facts "
                             "(default: a 10-member shop)")
    parser.add_argument("--quick", action="store_true", help="shrink sizes and repetitions for a smoke run")
    parser.add_argument("--postgres", nargs="?", const="", default=None, metavar="URL",
                        help="run the PostgreSQL variants (URL, else KPIBOT_TEST_DATABASE_URL)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = 100_000 if args.quick else 1_000_000
    args.only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in names]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(names)}")
    return args


def call(target: str) -> Callable[[argparse.Namespace], Any]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def child(args: argparse.Namespace) -> None:
    """Inside the benchmark's own process."""
    unit = next(u for u in UNITS if u.name == args.child)
    try:
        payload: dict[str, Any] = {"results": [r.to_dict() for r in call(unit.target)(args)]}
    except NotAvailable as reason:
        payload = {"skipped": f"{unit.name}: not available — {reason}"}
    Path(args.out).write_text(json.dumps(payload), encoding="utf-8")


def passthrough(args: argparse.Namespace, pg_url: str | None) -> list[str]:
    out = ["--rows", str(args.rows), "--ingest-rows", str(args.ingest_rows), "--ack-facts", str(args.ack_facts)]
    if args.quick:
        out.append("--quick")
    if pg_url:
        out += ["--postgres", pg_url]
    return out


def run_unit(unit: Unit, args: argparse.Namespace, pg_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
    common = passthrough(args, pg_url)
    env = clean_env()
    if unit.prepare:
        subprocess.run([sys.executable, "-m", "bench", "--prepare", unit.name, *common], env=env, cwd=REPO_DIR,
                       check=True)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        done = subprocess.run([sys.executable, "-m", "bench", "--child", unit.name, "--out", str(out), *common],
                              env=env, cwd=REPO_DIR, check=False)
        if done.returncode != 0 or not out.exists():
            return [], f"{unit.name}: FAILED (exit {done.returncode}; see the traceback above)"
        payload = json.loads(out.read_text(encoding="utf-8"))
    return payload.get("results", []), payload.get("skipped")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args)
        return 0
    if args.prepare:
        unit = next(u for u in UNITS if u.name == args.prepare)
        call(unit.prepare or "")(args)
        return 0
    pg_url = configured_url(args.postgres) if args.postgres is not None else configured_url()
    if args.postgres is not None and pg_url is None:
        say("--postgres needs a URL or KPIBOT_TEST_DATABASE_URL")
        return 2
    selected = [u for u in UNITS if not args.only or u.name in args.only or u.group in args.only]
    entries: list[dict[str, Any]] = []
    skipped: list[str] = []
    started = time.monotonic()
    for unit in selected:
        if unit.postgres and pg_url is None:
            skipped.append(f"{unit.name}: PostgreSQL not configured (KPIBOT_TEST_DATABASE_URL or --postgres URL)")
            continue
        say(f"== {unit.name}")
        unit_started = time.monotonic()
        results, skip = run_unit(unit, args, pg_url)
        entries.extend(results)
        if skip:
            skipped.append(skip)
            say(f"   {skip}")
        for result in results:
            say(f"   {result['name']}: {result['value']} {result['unit']} vs {result['baseline_name']} "
                f"{result['baseline_value']} → ratio {result['ratio']} (peak RSS {result['peak_rss_mb']} MB)")
        say(f"   ({time.monotonic() - unit_started:.0f} s)")
    if args.only:
        entries = merge_results(load_results(), entries)
    write_results(entries, skipped)
    say(f"\nTotal {time.monotonic() - started:.0f} s. Wrote {RESULTS_JSON.relative_to(REPO_DIR)} and "
        f"{RESULTS_MD.relative_to(REPO_DIR)}:\n")
    print(markdown_table(entries, skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
