"""A formula turned into nested closures once, for the review's per-day loops (tens of thousands of
evaluations per question): the same arithmetic and the same undefined cases as `Formula.evaluate` — None
when a denominator is 0 or the result is not finite — without walking the tree each time."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TypeVar

from storage.kpi.formula import BinOp, Formula, Metric, Neg, Node, Num

Evaluate = Callable[[dict[str, float]], float]
Day = TypeVar("Day")


class _Undefined(Exception):
    pass


@cache
def compiled(formula: Formula) -> Callable[[dict[str, float]], float | None]:
    root = formula.root
    if isinstance(root, Metric):  # most KPIs are one metric or a ratio of two: one call each, no closures
        return _metric(root.name)
    if isinstance(root, BinOp) and root.op == "/" and isinstance(root.left, Metric) and isinstance(root.right, Metric):
        return _ratio(root.left.name, root.right.name)
    inner = _compile(root)

    def evaluate(sums: dict[str, float]) -> float | None:
        try:
            value = inner(sums)
        except _Undefined:
            return None
        return value if math.isfinite(value) else None

    return evaluate


def _metric(name: str) -> Callable[[dict[str, float]], float | None]:
    def evaluate(sums: dict[str, float]) -> float | None:
        value = float(sums.get(name, 0.0))
        return value if math.isfinite(value) else None

    return evaluate


def _ratio(numerator: str, denominator: str) -> Callable[[dict[str, float]], float | None]:
    def evaluate(sums: dict[str, float]) -> float | None:
        below = float(sums.get(denominator, 0.0))
        if below == 0:
            return None
        value = float(sums.get(numerator, 0.0)) / below
        return value if math.isfinite(value) else None

    return evaluate


def _compile(node: Node) -> Evaluate:
    if isinstance(node, Num):
        constant = node.value
        return lambda _sums: constant
    if isinstance(node, Metric):
        name = node.name
        return lambda sums: float(sums.get(name, 0.0))
    if isinstance(node, Neg):
        operand = _compile(node.operand)
        return lambda sums: -operand(sums)
    assert isinstance(node, BinOp)
    left, right = _compile(node.left), _compile(node.right)
    if node.op == "+":
        return lambda sums: left(sums) + right(sums)
    if node.op == "-":
        return lambda sums: left(sums) - right(sums)
    if node.op == "*":
        return lambda sums: left(sums) * right(sums)

    def divide(sums: dict[str, float]) -> float:
        denominator = right(sums)
        if denominator == 0:
            raise _Undefined
        return left(sums) / denominator

    return divide


def evaluate_days(formula: Formula, series: Mapping[Day, dict[str, float]], guard: Sequence[str] = (),
                  floor: float = 0.0) -> dict[Day, float]:
    """`compiled(formula)` on each day of a series whose sums hold every metric of the formula (a metric
    without rows is missing, not zero) and whose `guard` metrics sum to at least `floor`: day → value, the
    undefined days left out. One metric and a ratio of two, most KPIs, are worked out inline: over a
    review's thousands of days a call per day costs more than the arithmetic."""
    root, isfinite = formula.root, math.isfinite
    if isinstance(root, Metric) and not guard:
        name = root.name
        return {day: value for day, sums in series.items()
                if (found := sums.get(name)) is not None and isfinite(value := float(found))}
    if (isinstance(root, BinOp) and root.op == "/" and isinstance(root.left, Metric) and isinstance(root.right, Metric)
            and list(guard) in ([], [root.right.name])):
        numerator, denominator, guarded = root.left.name, root.right.name, bool(guard)
        return {day: ratio for day, sums in series.items()  # a 0 or missing denominator is falsy: undefined
                if (below := sums.get(denominator)) and (above := sums.get(numerator)) is not None
                and not (guarded and below < floor) and isfinite(ratio := above / below)}  # a float, as _ratio's
    out: dict[Day, float] = {}
    metrics, evaluate = frozenset(formula.metrics), compiled(formula)
    for day, sums in series.items():
        if not sums.keys() >= metrics or (guard and sum(sums[m] for m in guard) < floor):
            continue
        if (result := evaluate(sums)) is not None:
            out[day] = result
    return out
