"""Unusual days without hand-set thresholds: each day's KPI value against the same weekday of the 8 weeks
before it, by a robust z-score.

    z = 0.6745 · (x − median) / MAD                 MAD = median |hᵢ − median|
    z = (x − median) / (1.2533 · MeanAD)            when MAD = 0 (over half the history is one value)

0.6745 and 1.2533 (√(π/2)) scale MAD and the mean absolute deviation to a standard deviation for normal
data, so both read alike. |z| ≥ 3.5 is unusual; the expected range is where |z| < 3.5.

History days are left out when they are promo days, have no data, or fall short of the KPI's
`min_volume` (the day's denominator, e.g. ≥ 200 live viewers before a conversion rate counts). At least
MIN_HISTORY such days are needed; a history with no spread at all cannot judge anything.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from storage.kpi.compiled import evaluate_days
from storage.kpi.problems import Problem

if TYPE_CHECKING:
    from storage.kpi.registry import KpiDef, Registry

THRESHOLD = 3.5
WEEKS = 8
MIN_HISTORY = 4
MAD_SCALE = 0.6745
MEAN_AD_SCALE = 1.2533
# Built-in noise guards: the smallest daily denominator that makes a ratio worth judging.
BUILTIN_MIN_VOLUME = {"live_cvr": 200.0, "ctr": 1000.0, "add_to_cart_rate": 200.0, "return_rate": 30.0,
                      "hook_rate_3s": 1000.0, "completion_rate": 1000.0}


@dataclass(frozen=True)
class Judgement:
    value: float
    median: float
    spread: float  # the MAD, or the mean absolute deviation when the MAD is 0
    z: float
    low: float  # expected range: values with |z| < THRESHOLD
    high: float
    history: int  # how many past days it was judged against
    mean_ad: bool = False  # True when the MAD was 0

    @property
    def unusual(self) -> bool:
        return abs(self.z) >= THRESHOLD


def robust_z(value: float, history: list[float]) -> Judgement | None:
    """`value` against `history`; None with fewer than MIN_HISTORY days or no spread at all."""
    return _judged(value, history, True)


def _judged(value: float, history: list[float], usual_too: bool) -> Judgement | None:
    """`robust_z`; without `usual_too`, None for a usual value as well (a scan keeps only the unusual ones,
    and building hundreds of Judgements it drops costs more than judging)."""
    if (count := len(history)) < MIN_HISTORY:
        return None
    half, odd = divmod(count, 2)  # the medians as statistics.median takes them, without its checks
    ordered = sorted(history)
    median = ordered[half] if odd else (ordered[half - 1] + ordered[half]) / 2
    deviations = [abs(h - median) for h in history]
    ordered = sorted(deviations)
    mad = ordered[half] if odd else (ordered[half - 1] + ordered[half]) / 2
    if mad > 0:
        scale, mean_ad = mad / MAD_SCALE, False
        spread = mad
    else:
        spread = math.fsum(deviations) / count  # statistics.fmean
        scale, mean_ad = MEAN_AD_SCALE * spread, True
    if scale <= 0:
        return None
    z = (value - median) / scale
    if not usual_too and abs(z) < THRESHOLD:
        return None
    return Judgement(value, median, spread, z, median - THRESHOLD * scale, median + THRESHOLD * scale,
                     count, mean_ad)


@dataclass(frozen=True)
class Finding:
    kpi: KpiDef
    scope: tuple[str, str]  # (team | role | member, key)
    day: date
    judgement: Judgement
    promo: bool  # the day itself is a promo day (expected to stand out)


def min_volume_of(registry: Registry, kpi: KpiDef) -> float | None:
    value = registry.sections.get("min_volume", {}).get(kpi.id, BUILTIN_MIN_VOLUME.get(kpi.id))
    return float(value) if value is not None else None


def day_value(kpi: KpiDef, sums: dict[str, float] | None, min_volume: float | None) -> float | None:
    """The KPI on one day: None when a metric has no rows (missing is not zero), a denominator is 0, or
    the day's denominator is below `min_volume`."""
    return day_values(kpi, {None: sums} if sums else {}, min_volume).get(None)


def day_values(kpi: KpiDef, series: dict[Any, dict[str, float]], min_volume: float | None) -> dict[Any, float]:
    """`day_value` for every day of a series (the formula's metric and denominator lists read once)."""
    if min_volume is None:
        return evaluate_days(kpi.formula, series)
    return evaluate_days(kpi.formula, series, kpi.formula.denominator_metrics(), min_volume)


def judge_days(
    kpi: KpiDef, series: dict[date, dict[str, float]], days: Iterable[date], *,
    promo_days: Collection[date] = (), min_volume: float | None = None,
) -> list[tuple[date, Judgement]]:
    """Each of `days` with a value, judged against the same weekday of the WEEKS weeks before it."""
    return judge_values(day_values(kpi, series, min_volume), history_days(days, promo_days))


def judge_values(values: dict[date, float], history: list[tuple[date, list[date]]], *, unusual_only: bool = False,
                 ) -> list[tuple[date, Judgement]]:
    """`judge_days` on a KPI's day values, with each day's history days (`history_days`) worked out once for
    every KPI of a scope; only the unusual days with `unusual_only`."""
    out = []
    for day, past_days in history:
        value = values.get(day)
        if value is None:
            continue
        past = [past for d in past_days if (past := values.get(d)) is not None]
        if (judgement := _judged(value, past, not unusual_only)) is not None:
            out.append((day, judgement))
    return out


def history_days(days: Iterable[date], promo_days: Collection[date] = ()) -> list[tuple[date, list[date]]]:
    """Each day with the same weekdays of the WEEKS weeks before it, promo days left out."""
    out = []
    for day in days:
        past = [day - timedelta(weeks=week) for week in range(1, WEEKS + 1)]
        out.append((day, [d for d in past if d not in promo_days]))
    return out


def history_start(first_day: date) -> date:
    """The first day a judgement of `first_day` onwards may read."""
    return first_day - timedelta(weeks=WEEKS)


def strongest_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-abs(f.judgement.z), f.day, f.scope, f.kpi.id))


def check_min_volume(registry: Registry, file: str) -> list[Problem]:
    problems = []
    for kpi_id, value in registry.sections.get("min_volume", {}).items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            problems.append(Problem(file, f"kpis.{kpi_id}.min_volume",
                                    "expected a number ≥ 0: the smallest daily denominator worth judging, e.g. 200"))
        elif not registry.kpis[kpi_id].formula.denominator_metrics():
            problems.append(Problem(file, f"kpis.{kpi_id}.min_volume",
                                    "only a ratio KPI (with a denominator) has a volume"))
    return problems
