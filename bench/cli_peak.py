"""`python -m bench.cli_peak ARGS…`: the kpibot command line — `bot.cli:main`, what the `kpibot` console
script runs — that also writes its peak RSS (MB) to $BENCH_PEAK_FILE when it exits."""

from __future__ import annotations

import os
import sys

from bench.harness import report_peak_at_exit


def main() -> None:
    report_peak_at_exit(os.environ.get("BENCH_PEAK_FILE"))
    from bot.cli import main as kpibot

    sys.argv = ["kpibot", *sys.argv[1:]]
    kpibot()


if __name__ == "__main__":
    main()
