"""The conversion funnel impressions → clicks → add_to_cart → orders → paid_orders, scored stage by stage.

A stage's rate is its count divided by the previous stage's count (clicks / impressions = CTR,
add_to_cart / clicks = add-to-cart rate, orders / add_to_cart, paid_orders / orders = payment rate).
Each rate is judged against its threshold — score = rate ÷ threshold × 100, capped at SCORE_CAP — and
against the same stage's rate in the previous period. The biggest leak is the stage furthest below its
threshold (lowest score); when every stage meets its threshold, the stage whose rate fell most against
the previous period (relative fall, so a 1 % CTR and a 90 % payment rate compare fairly).

Stages and thresholds come from DEFAULT_STAGES / DEFAULT_THRESHOLDS; a KPI file may override them:

    funnel:
      stages: [impressions, clicks, add_to_cart, orders, paid_orders]
      thresholds: {clicks: 0.012, add_to_cart: 0.15, orders: 0.3, paid_orders: 0.9}
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from storage.kpi.registry import Registry

DEFAULT_STAGES = ("impressions", "clicks", "add_to_cart", "orders", "paid_orders")
STAGES = DEFAULT_STAGES  # the built-in stages (stale-source checks name their sources)
# Rate into each stage from the one before: CTR 1 %, add-to-cart rate 15 %, cart-to-order 30 %, paid 90 %.
DEFAULT_THRESHOLDS: dict[str, float] = {"clicks": 0.01, "add_to_cart": 0.15, "orders": 0.30, "paid_orders": 0.90}
SCORE_CAP = 120.0


@dataclass(frozen=True)
class FunnelStage:
    metric: str
    value: float | None  # None: no rows for this stage in the period (missing, not zero)
    rate: float | None  # from the previous stage; None for the first stage or after a zero
    threshold: float | None
    previous_rate: float | None = None  # the same stage's rate in the previous period

    @property
    def below_threshold(self) -> bool:
        return self.rate is not None and self.threshold is not None and self.rate < self.threshold

    @property
    def score(self) -> float | None:
        """rate ÷ threshold × 100, capped at SCORE_CAP; None without a rate or a threshold."""
        if self.rate is None or not self.threshold:
            return None
        return min(self.rate / self.threshold * 100, SCORE_CAP)

    @property
    def change(self) -> float | None:
        """Relative change of the rate against the previous period (−0.25 = a quarter lower)."""
        if self.rate is None or not self.previous_rate:
            return None
        return self.rate / self.previous_rate - 1


@dataclass(frozen=True)
class FunnelConfig:
    stages: tuple[str, ...]
    thresholds: dict[str, float]


def funnel_config(registry: Registry) -> FunnelConfig:
    section: Any = registry.sections.get("funnel") or {}
    section = section if isinstance(section, dict) else {}
    configured_stages = section.get("stages")
    stages = DEFAULT_STAGES
    if isinstance(configured_stages, list) and len(configured_stages) >= 2 and all(
        isinstance(s, str) and s.isidentifier() for s in configured_stages
    ):
        stages = tuple(configured_stages)
    thresholds = {s: t for s, t in DEFAULT_THRESHOLDS.items() if s in stages}
    configured = section.get("thresholds")
    if isinstance(configured, dict):
        for stage, value in configured.items():
            if stage in stages and isinstance(value, int | float) and 0 <= float(value) <= 1:
                thresholds[stage] = float(value)
    return FunnelConfig(stages, thresholds)


def funnel_thresholds(registry: Registry) -> dict[str, float]:
    return funnel_config(registry).thresholds


def funnel_stages(
    sums: dict[str, float], thresholds: dict[str, float], *, stages: tuple[str, ...] = DEFAULT_STAGES,
    previous: dict[str, float] | None = None,
) -> list[FunnelStage]:
    """The stages, or [] when the period has no funnel data at all. A stage with no rows is missing
    (value None, no rate into or out of it), never a 0 % conversion."""
    if not any(sums.get(metric) for metric in stages):
        return []
    before = _rates(previous or {}, stages)
    out: list[FunnelStage] = []
    for index, (metric, rate) in enumerate(zip(stages, _rates(sums, stages), strict=True)):
        value = float(sums[metric]) if metric in sums else None
        out.append(FunnelStage(metric, value, rate,
                               thresholds.get(metric) if index else None, before[index]))
    return out


def _rates(sums: dict[str, float], stages: tuple[str, ...]) -> list[float | None]:
    rates: list[float | None] = [None]
    for earlier, later in pairwise(stages):
        if earlier in sums and later in sums and sums[earlier]:
            rates.append(sums[later] / sums[earlier])
        else:
            rates.append(None)
    return rates


def biggest_leak(stages: list[FunnelStage]) -> FunnelStage | None:
    """The stage furthest below its threshold; if none is below, the largest fall; None if neither."""
    below = [s for s in stages if s.below_threshold and s.score is not None]
    if below:
        return min(below, key=lambda s: (s.score, s.change if s.change is not None else 0.0))
    falling = [s for s in stages if s.change is not None and s.change < 0]
    return min(falling, key=lambda s: s.change or 0.0) if falling else None
