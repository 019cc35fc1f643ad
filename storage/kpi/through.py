"""Data-through per KPI (SPEC §5): how far the figures can be trusted when sources deliver at different
paces. Each source that delivered rows for a KPI's metrics has its own newest date. A source is
*ongoing* when its newest date falls within ONGOING_DAYS before the newest date of any of them; a one-off
(a single correction file weeks ago) holds nothing back. The KPI's date is the oldest newest-date among
ongoing sources, capped by today and the period end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

ONGOING_DAYS = 7


@dataclass(frozen=True)
class DataThrough:
    day: date | None  # None: no rows at all
    later: tuple[tuple[str, date], ...] = ()  # ongoing sources with data after `day`, with their newest date
    lagging: tuple[tuple[str, date], ...] = ()  # the ongoing sources that hold `day` back (only when `later`)


def newest_by_source(spans: Iterable[Mapping[str, object]]) -> dict[str, date]:
    """The newest date of each source over several metrics' spans ({source: SourceSpan})."""
    out: dict[str, date] = {}
    for per_source in spans:
        for source, span in per_source.items():
            newest = span.newest  # type: ignore[attr-defined]
            if source not in out or newest > out[source]:
                out[source] = newest
    return out


def data_through(newest: Mapping[str, date], today: date, period_end: date) -> DataThrough:
    if not newest:
        return DataThrough(None)
    top = max(newest.values())
    ongoing = {source: day for source, day in newest.items() if day >= top - timedelta(days=ONGOING_DAYS)}
    oldest = min(ongoing.values())
    day = min(oldest, today, period_end)
    later = tuple(sorted((s, d) for s, d in ongoing.items() if d > day))
    lagging = tuple(sorted((s, d) for s, d in ongoing.items() if d == oldest)) if later else ()
    return DataThrough(day, later, lagging)


def like_for_like_end(start: date, through: date, previous_start: date, previous_end: date, finished: bool) -> date:
    """The previous period cut to as many days as the current one has data for (all of it when finished)."""
    if finished:
        return previous_end
    return min(previous_end, previous_start + (through - start))
