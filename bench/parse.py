"""parse_question: reading a question, averaged over every phrasing of tests/phrasings.yaml (English and
Chinese, follow-ups included), through the parser every chat message goes through (`Parser.parse`).
No database, no network:
the parser is built once (registry, commands, calendar, the demo's members) as at start-up.

Goal: < 1 ms on average per question. `python -m bench.parse` prints the figures on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bench.harness import Result, median, peak_rss_mb

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "phrasings.yaml"


def _parser_and_requests() -> tuple[Any, list[Any]]:
    from bot.core.request import CommandRequest, UserRef
    from bot.demo import MEMBERS
    from bot.handlers import command_registry
    from bot.language.names import Person
    from bot.language.parser import Parser
    from bot.language.spoken_periods import SpokenCalendar
    from storage.kpi.registry import load_registry

    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    today: date = corpus["today"]
    through: date = corpus["data_through"]
    people = tuple(Person(m.key, m.name, m.key) for m in MEMBERS)
    parser = Parser(load_registry(None), SpokenCalendar(), lambda: today, command_registry(), people=lambda: people,
                    data_through=lambda: through)
    asker = UserRef("bench", "anna", email=corpus["asker"])
    return parser, [CommandRequest(entry["q"], asker) for entry in corpus["phrasings"]]


def _read_all(parser: Any, requests: list[Any]) -> None:
    for request in requests:
        with contextlib.suppress(Exception):  # refusals are answers too: they are timed like the rest
            parser.parse(request)


def measure(repetitions: int = 20) -> tuple[float, float, float, int]:
    """(median CPU ms per question, median wall ms per question, worst single question wall ms, questions).

    CPU time (this process) is the parser's cost; wall time also counts waiting for a core, which on a
    shared box (load 10 on 2 cores) inflates it several times, so both are reported."""
    parser, requests = _parser_and_requests()
    _read_all(parser, requests)  # warm-up: compiled patterns, caches
    cpu, wall = [], []
    for _ in range(repetitions):
        started_cpu, started = time.process_time(), time.perf_counter()
        _read_all(parser, requests)
        cpu.append((time.process_time() - started_cpu) * 1000 / len(requests))
        wall.append((time.perf_counter() - started) * 1000 / len(requests))
    worst = 0.0
    for request in requests:
        started = time.perf_counter()
        _read_all(parser, [request])
        worst = max(worst, (time.perf_counter() - started) * 1000)
    return median(cpu), median(wall), worst, len(requests)


def run(args: argparse.Namespace) -> list[Result]:
    cpu, wall, worst, count = measure(5 if args.quick else 20)
    return [Result("parse_question", round(cpu, 4), "ms", "goal", 1.0, round(cpu / 1.0, 4),
                   params={"questions": count, "wall_ms": round(wall, 4), "worst_wall_ms": round(worst, 3)},
                   peak_rss_mb=peak_rss_mb())]


if __name__ == "__main__":
    cpu_ms, wall_ms, worst_ms, n = measure()
    print(f"parse_question: {cpu_ms:.3f} ms CPU ({wall_ms:.3f} ms wall) on average over {n} phrasings "
          f"(worst single question {worst_ms:.2f} ms wall); goal < 1 ms")
