"""A total split top-down into shares that add up to it exactly, to the cent (SPEC §5 targets)."""

from __future__ import annotations

from collections.abc import Mapping


def split_to_cents(total: float, weights: Mapping[str, float]) -> dict[str, float]:
    """Each key's share of `total` by its weight, rounded to cents; what rounding leaves over (or takes
    away) goes to the largest share (the first of equal ones), so the shares sum to the total exactly."""
    positive = {key: w for key, w in weights.items() if w > 0}
    if not positive:
        raise ValueError("no positive weights to split by")
    whole = sum(positive.values())
    total_cents = round(total * 100)
    cents = {key: round(total_cents * w / whole) for key, w in positive.items()}
    largest = max(positive, key=lambda key: (positive[key], -list(positive).index(key)))
    cents[largest] += total_cents - sum(cents.values())
    return {key: cents.get(key, 0) / 100 for key in weights}
