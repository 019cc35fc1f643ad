"""Additive log-mean Divisia index (LMDI-I): split the change of a product V = x₁ · x₂ · … · xₙ exactly
into one contribution per factor.

    contribution(x) = L(V₁, V₀) · ln(x₁ / x₀),   L(a, b) = (a − b) / (ln a − ln b),   L(a, a) = a

The contributions add up to V₁ − V₀ exactly (up to float rounding). Logarithms need every factor to be
positive in both periods: a zero, negative or missing factor is reported, never guessed around.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def log_mean(a: float, b: float) -> float:
    """L(a, b) = (a − b) / (ln a − ln b), with L(a, a) = a; both positive."""
    if math.isclose(a, b, rel_tol=1e-12):
        return a
    return (a - b) / (math.log(a) - math.log(b))


@dataclass(frozen=True)
class Split:
    before: float | None  # V₀
    after: float | None  # V₁
    contributions: list[float] | None  # one per factor; None when the change cannot be split
    blocked_by: list[int]  # indexes of factors that are zero, negative or missing in either period

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def lmdi(before: Sequence[float | None], after: Sequence[float | None]) -> Split:
    """Each factor's contribution to the change of their product from `before` to `after`."""
    if len(before) != len(after):
        raise ValueError("before and after need the same factors")
    blocked = [i for i, (x0, x1) in enumerate(zip(before, after, strict=True))
               if x0 is None or x1 is None or x0 <= 0 or x1 <= 0]
    v0 = _product(before)
    v1 = _product(after)
    if blocked or v0 is None or v1 is None:
        return Split(v0, v1, None, blocked)
    weight = log_mean(v1, v0)
    contributions = [weight * math.log(x1 / x0) for x0, x1 in zip(before, after, strict=True)]  # type: ignore[operator]
    return Split(v0, v1, contributions, [])


def _product(factors: Sequence[float | None]) -> float | None:
    if any(x is None for x in factors):
        return None
    return math.prod(factors)  # type: ignore[arg-type]
