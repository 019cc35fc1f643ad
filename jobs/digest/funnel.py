"""The conversion funnel impressions → clicks → add_to_cart → orders, with a threshold per stage.

A stage's rate is its count divided by the previous stage's count (clicks / impressions = CTR,
add_to_cart / clicks = add-to-cart rate, orders / add_to_cart = cart-to-order rate). A rate under its
threshold is flagged. Thresholds default to DEFAULT_THRESHOLDS; a KPI file may override them with

    funnel:
      thresholds: {clicks: 0.012, add_to_cart: 0.15, orders: 0.3}

(read from `registry.sections["funnel"]` once the registry keeps that section).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.kpi.registry import Registry

STAGES = ("impressions", "clicks", "add_to_cart", "orders")
# Rate into each stage from the one before: CTR 1 %, add-to-cart rate 15 %, cart-to-order 30 %.
DEFAULT_THRESHOLDS: dict[str, float] = {"clicks": 0.01, "add_to_cart": 0.15, "orders": 0.30}


@dataclass(frozen=True)
class FunnelStage:
    metric: str
    value: float
    rate: float | None  # from the previous stage; None for the first stage or after a zero
    threshold: float | None

    @property
    def below_threshold(self) -> bool:
        return self.rate is not None and self.threshold is not None and self.rate < self.threshold


def funnel_thresholds(registry: Registry) -> dict[str, float]:
    thresholds = dict(DEFAULT_THRESHOLDS)
    section: Any = registry.sections.get("funnel") or {}
    configured = section.get("thresholds") if isinstance(section, dict) else None
    if isinstance(configured, dict):
        for stage, value in configured.items():
            if stage in STAGES and isinstance(value, int | float) and 0 <= float(value) <= 1:
                thresholds[stage] = float(value)
    return thresholds


def funnel_stages(sums: dict[str, float], thresholds: dict[str, float]) -> list[FunnelStage]:
    """The stages, or [] when the period has no funnel data at all."""
    if not any(sums.get(metric) for metric in STAGES):
        return []
    stages: list[FunnelStage] = []
    previous: float | None = None
    for metric in STAGES:
        value = float(sums.get(metric, 0.0))
        rate = value / previous if previous else None
        stages.append(FunnelStage(metric, value, rate, thresholds.get(metric) if previous is not None else None))
        previous = value
    return stages
