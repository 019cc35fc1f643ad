"""Data-through per KPI (SPEC §5): how far the figures can be trusted when sources deliver at different
paces. The rule — each source's newest date, *ongoing* sources (within a week of the newest of them), the
oldest newest-date among ongoing ones capped by today and the period end — is computed by the database
(storage.repositories.figures), for single answers and boards alike; this is what a reply says about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DataThrough:
    day: date | None  # None: no rows at all
    later: tuple[tuple[str, date], ...] = ()  # ongoing sources with data after `day`, with their newest date
    lagging: tuple[tuple[str, date], ...] = ()  # the ongoing sources that hold `day` back (only when `later`)


def through_of(day: date | None, sources: Iterable[tuple[str, bool, date]]) -> DataThrough:
    """The date the database found, with the sources to name: (source, ongoing, its newest date)."""
    ongoing = sorted((source, newest) for source, is_ongoing, newest in sources if is_ongoing)
    if day is None or not ongoing:
        return DataThrough(day)
    later = tuple((s, d) for s, d in ongoing if d > day)
    oldest = min(d for _, d in ongoing)
    lagging = tuple((s, d) for s, d in ongoing if d == oldest) if later else ()
    return DataThrough(day, later, lagging)
