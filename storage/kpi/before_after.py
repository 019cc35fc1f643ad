"""Before and after a change (a note): the N days before the note's day against the N days from it, and
whether the difference is larger than the week-to-week variation of the 8 blocks of N days before.

After = [d, d + N − 1] (the change is live from its day); before = [d − N, d − 1]; block j (j = 1 … 9) =
[d − N·j, d − N·(j − 1) − 1], so block 1 is `before`. The variation is the 8 changes from block j + 1 to
block j; the difference is "larger than usual" when it is larger, in absolute size, than every one of them.
Blocks holding a promo day are left out of that variation (a sale week is not the usual week), and so are
blocks that start before the scope's first data in these windows (a half-empty block is not a week).
While the after window is still running, both windows shrink to the days it has data for.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.repositories.series import window_sums

BLOCKS = 9
MIN_CHANGES = 4


@dataclass(frozen=True)
class BeforeAfter:
    kpi: KpiDef
    day: date
    days: int  # days per window actually compared
    asked_days: int
    before: float | None
    after: float | None
    usual_changes: list[float]  # relative week-to-week changes of the previous blocks, newest first

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None or self.before == 0:
            return None
        return (self.after - self.before) / abs(self.before)

    @property
    def largest_usual(self) -> float | None:
        return max((abs(c) for c in self.usual_changes), default=None) if len(self.usual_changes) >= MIN_CHANGES \
            else None

    @property
    def larger_than_usual(self) -> bool | None:
        """None when there is too little history (or no change) to say."""
        if self.change is None or self.largest_usual is None:
            return None
        return abs(self.change) > self.largest_usual


def compare_around(
    engine: KpiEngine, kpi: KpiDef, scope: Scope, day: date, days: int = 7, promo_days: Collection[date] = (),
) -> BeforeAfter:
    today = engine.today()
    with engine.db.session() as session:
        after_window = (day, min(day + timedelta(days=days - 1), today))
        first = window_sums(session, kpi.metrics, scope, [after_window])[0]
        n = days
        if first.newest is not None and day + timedelta(days=days - 1) >= today:  # the after window still runs
            n = (first.newest - day).days + 1
        windows = [(day, day + timedelta(days=n - 1))]
        windows += [(day - timedelta(days=n * j), day - timedelta(days=n * (j - 1) + 1)) for j in range(1, BLOCKS + 1)]
        found = window_sums(session, kpi.metrics, scope, windows)
    values = [kpi.formula.evaluate(w.sums) if w.newest is not None else None for w in found]
    after, blocks = values[0] if first.newest is not None else None, values[1:]
    first_data = min((w.oldest for w in found if w.oldest is not None), default=None)
    usual = [None if any(start <= promo <= end for promo in promo_days) or first_data is None or start < first_data
             else value for (start, end), value in zip(windows[1:], blocks, strict=True)]
    changes = [(newer - older) / abs(older) for newer, older in ((usual[j], usual[j + 1]) for j in range(BLOCKS - 1))
               if newer is not None and older]
    return BeforeAfter(kpi, day, n, days, blocks[0], after, changes)
