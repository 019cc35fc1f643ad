"""Rows of any table (file, SQL result, Bitable records) → validated facts in the staging table.

One streaming pass: every row is checked, good facts go to staging in chunks, problems are
counted and the first `PROBLEM_LIMIT` kept (a 1 M-row file of bad rows does not fill memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jobs.ingest.currency import MoneyRules
from jobs.ingest.layout import HEADER_SEARCH_ROWS, Layout, RowProblem, build_layout, looks_like_header
from jobs.ingest.mapping import Mapping
from jobs.ingest.names import MetricNames
from jobs.ingest.staging import Diff, Staging, Summary

PROBLEM_LIMIT = 50
PROGRESS_EVERY_ROWS = 2000

ProgressCallback = Callable[[int, int | None], None]


@dataclass
class StageResult:
    rows_read: int = 0  # data rows (blank and summary rows not counted)
    problems: list[RowProblem] = field(default_factory=list)  # the first PROBLEM_LIMIT, in row order
    problem_count: int = 0
    header: list[Any] = field(default_factory=list)
    layout: Layout | None = None

    def add_problems(self, problems: list[RowProblem]) -> None:
        self.problem_count += len(problems)
        room = PROBLEM_LIMIT - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])

    def merge(self, problems: list[RowProblem], count: int) -> None:
        """Add problems found afterwards (duplicates), keeping the first PROBLEM_LIMIT by row."""
        self.problems = sorted([*self.problems, *problems], key=lambda p: p.order)[:PROBLEM_LIMIT]
        self.problem_count += count


def stage_rows(
    staging: Staging,
    rows: Iterable[tuple[int, list[Any] | RowProblem]],
    names: MetricNames,
    mapping: Mapping | None,
    *,
    tz: ZoneInfo | None = None,
    label: str = "line",
    header: tuple[int, list[Any]] | None = None,
    progress: Callable[[], tuple[int, int | None]] | None = None,
    on_progress: ProgressCallback | None = None,
    money: MoneyRules | None = None,
) -> StageResult:
    """Check every row and stage the facts of the good ones. Without `header`, the header is the
    first of the first rows that names a date column (exports often open with a title line)."""
    result = StageResult()
    iterator = iter(rows)
    if header is None:
        header = _find_header(iterator, mapping, label, result)
        if header is None:
            return result
    header_line, header_cells = header
    result.header = header_cells
    layout = build_layout(header_cells, header_line, names, mapping, tz=tz, label=label, money=money)
    if not isinstance(layout, Layout):
        result.add_problems(layout)
        return result
    result.layout = layout
    for count, (line, cells) in enumerate(iterator, start=1):
        if isinstance(cells, RowProblem):  # a row its reader could not even turn into cells
            result.add_problems([cells])
            result.rows_read += 1
            continue
        facts, problems = layout.read(line, cells)
        if problems:
            result.add_problems(problems)
        elif facts:
            staging.add(line, facts)
        if facts or problems:
            result.rows_read += 1
        if on_progress is not None and progress is not None and count % PROGRESS_EVERY_ROWS == 0:
            on_progress(*progress())
    staging.flush()
    if on_progress is not None and progress is not None:
        on_progress(*progress())
    if mapping is None or not mapping.aggregate:
        duplicates, count = staging.duplicates(label, PROBLEM_LIMIT)
        if count:
            result.merge(duplicates, count)
    return result


def _find_header(
    iterator: Iterable[tuple[int, Any]],  # rows as readers yield them
    mapping: Mapping | None, label: str, result: StageResult,
) -> tuple[int, list[Any]] | None:
    first: tuple[int, list[Any]] | None = None
    for seen, (line, cells) in enumerate(iterator, start=1):
        if first is None and any(cell not in (None, "") for cell in cells):
            first = (line, cells)
        if looks_like_header(cells, mapping):
            return line, cells
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        result.add_problems([RowProblem("file", 0, "is empty: no header row and no data")])
        return None
    wanted = f"a {mapping.date!r} column (mapping {mapping.name})" if mapping else "a date (or 日期) column"
    result.add_problems([RowProblem(
        f"{label} {first[0]}", first[0],
        f"no header row with {wanted} in the first {HEADER_SEARCH_ROWS} lines",
    )])
    return None


@dataclass
class IngestReport:
    """What an import or sync found and did (or, in a dry run, would do)."""

    name: str  # the file name or source name
    source: str
    dry_run: bool = False
    rows_read: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    summary: Summary = field(default_factory=Summary)
    diff: Diff = field(default_factory=Diff)
    layout: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem_lines(self) -> list[str]:
        lines = [str(problem) for problem in self.problems]
        if self.problem_count > len(self.problems):
            lines.append(f"… and {self.problem_count - len(self.problems)} more")
        if self.hint:
            lines.append(self.hint)
        return lines

    def error_summary(self) -> str:
        """One paragraph for a sync run's `error` column and log lines."""
        noun = "problem" if self.problem_count == 1 else "problems"
        shown = "; ".join(str(problem) for problem in self.problems[:3])
        more = f"; … and {self.problem_count - 3} more" if self.problem_count > 3 else ""
        return f"{self.problem_count} {noun}, nothing written: {shown}{more}"
