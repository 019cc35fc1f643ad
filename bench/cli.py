"""cli_status: `kpibot status gmv month` as a whole process — interpreter start, imports, settings,
the schema check, the answer — on the small shop (10 members, 70 days; bench.dataset.small_shop),
against the floor `python -c "import sqlalchemy"`: the one library any answer must load.

Both run with the same interpreter and environment, bytecode cached (PYTHONPYCACHEPREFIX under
bench/.data/, written by untimed warm-up runs, as an installed package would have it), alternating,
medians of wall time. The answer is checked (the team's GMV line) before timing. Peak RSS is that of
one extra `kpibot status` run through bench.cli_peak.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.dataset import small_shop
from bench.harness import DATA_DIR, Result, clean_env, interleaved, median, read_peak, say, spread

WORDS = ("status", "gmv", "month")


def kpibot_command() -> list[str]:
    """The `kpibot` console script beside this interpreter (what a user runs), else `python -m bot.cli`."""
    script = Path(sys.executable).with_name("kpibot")
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli"]


def run(options: Any) -> list[Result]:
    folder = DATA_DIR / "scratch" / "cli"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    small_shop(folder / "cli.db").dispose()
    env = clean_env(DATABASE_URL=f"sqlite:///{folder / 'cli.db'}", PYTHONPYCACHEPREFIX=str(DATA_DIR / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ours_cmd = [*kpibot_command(), *WORDS]
    floor_cmd = [sys.executable, "-c", "import sqlalchemy"]

    def call(command: list[str], **extra: str) -> str:
        done = subprocess.run(command, env={**env, **extra}, cwd=folder, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[-4:])} failed ({done.returncode}): {done.stderr[-500:]}")
        return done.stdout

    answer = call(ours_cmd)
    if "GMV" not in answer or "Team" not in answer:
        raise RuntimeError(f"kpibot status gave no team GMV answer: {answer[:300]}")
    reps = 5 if options.quick else 15
    say(f"  {reps} runs each of `kpibot {' '.join(WORDS)}` and `python -c 'import sqlalchemy'`, alternating")
    times = interleaved({"ours": lambda: call(ours_cmd), "floor": lambda: call(floor_cmd)}, reps=reps, warmup=2)
    peak_file = folder / "peak"
    call([sys.executable, "-m", "bench.cli_peak", *WORDS], BENCH_PEAK_FILE=str(peak_file))
    peak = read_peak(peak_file)
    shutil.rmtree(folder, ignore_errors=True)
    ours, floor = median(times["ours"]) * 1000, median(times["floor"]) * 1000
    return [Result(
        name="cli_status", value=round(ours, 1), unit="ms", baseline_name="import_sqlalchemy",
        baseline_value=round(floor, 1), ratio=round(ours / floor, 2),
        params={"command": f"kpibot {' '.join(WORDS)}", "workspace": "10 members, 70 days (5.5k facts), SQLite",
                "reps": reps, "ours_range_ms": spread([t * 1000 for t in times["ours"]]),
                "floor_range_ms": spread([t * 1000 for t in times["floor"]]), "bytecode": "cached",
                "peak_rss_is": "the kpibot status process"},
        peak_rss_mb=peak,
    )]
