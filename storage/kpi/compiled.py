"""A formula turned into nested closures once, for the review's per-day loops (tens of thousands of
evaluations per question): the same arithmetic and the same undefined cases as `Formula.evaluate` — None
when a denominator is 0 or the result is not finite — without walking the tree each time."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

from storage.kpi.formula import BinOp, Formula, Metric, Neg, Node, Num

Evaluate = Callable[[dict[str, float]], float]


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
