"""A safe formula language for KPIs: numbers, metric names, + - * / and parentheses. No eval.

A KPI value is the formula applied to the period sums of its metrics (ratio of sums, never an
average of daily ratios). A formula is *additive* when it is a plain sum of metrics (no division,
no product of metrics): only then do pacing, projection and run-rate apply.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


class FormulaError(ValueError):
    pass


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Metric:
    name: str


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


Node = Num | Metric | BinOp | Neg


@dataclass(frozen=True)
class Formula:
    text: str
    root: Node

    @property
    def metrics(self) -> list[str]:
        return list(self._metric_names)

    @cached_property
    def _metric_names(self) -> tuple[str, ...]:  # asked for per member and KPI on every board
        seen: dict[str, None] = {}
        _collect(self.root, seen)
        return tuple(seen)

    @property
    def additive(self) -> bool:
        return _is_sum(self.root)

    def evaluate(self, sums: dict[str, float]) -> float | None:
        """The formula over metric sums; None when a denominator is 0 (undefined)."""
        try:
            value = _eval(self.root, sums)
        except ZeroDivisionError:
            return None
        return value if math.isfinite(value) else None

    def denominator_metrics(self) -> list[str]:
        seen: dict[str, None] = {}
        _collect_denominators(self.root, seen)
        return list(seen)


def parse_formula(text: str) -> Formula:
    tokens = _tokenize(text)
    parser = _Parser(tokens)
    root = parser.expression()
    if parser.peek() is not None:
        raise FormulaError(f"unexpected {parser.peek()!r} in formula {text!r}")
    _check_constant_division(root, text)
    return Formula(text=text.strip(), root=root)


def _tokenize(text: str) -> list[str | float]:
    tokens: list[str | float] = []
    for number, name, other in _TOKEN.findall(text):
        if number:
            tokens.append(float(number))
        elif name:
            tokens.append(name)
        elif other.strip():
            if other not in "+-*/()":
                raise FormulaError(f"unexpected character {other!r} in formula {text!r}")
            tokens.append(other)
    if not tokens:
        raise FormulaError("empty formula")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str | float]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | float | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | float:
        token = self.peek()
        if token is None:
            raise FormulaError("formula ends too early")
        self.pos += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = str(self.take())
            node = BinOp(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek() in ("*", "/"):
            op = str(self.take())
            node = BinOp(op, node, self.factor())
        return node

    def factor(self) -> Node:
        token = self.take()
        if isinstance(token, float):
            return Num(token)
        if token == "-":
            return Neg(self.factor())
        if token == "(":
            node = self.expression()
            if self.take() != ")":
                raise FormulaError("missing closing parenthesis")
            return node
        if token in "+*/)":
            raise FormulaError(f"unexpected {token!r}")
        return Metric(str(token))


def _collect(node: Node, seen: dict[str, None]) -> None:
    if isinstance(node, Metric):
        seen[node.name] = None
    elif isinstance(node, BinOp):
        _collect(node.left, seen)
        _collect(node.right, seen)
    elif isinstance(node, Neg):
        _collect(node.operand, seen)


def _collect_denominators(node: Node, seen: dict[str, None]) -> None:
    if isinstance(node, BinOp):
        if node.op == "/":
            _collect(node.right, seen)
        _collect_denominators(node.left, seen)
        _collect_denominators(node.right, seen)
    elif isinstance(node, Neg):
        _collect_denominators(node.operand, seen)


def _is_sum(node: Node) -> bool:
    if isinstance(node, Metric):
        return True
    if isinstance(node, BinOp) and node.op in "+-":
        return _is_sum(node.left) and _is_sum(node.right)
    return False


def _eval(node: Node, sums: dict[str, float]) -> float:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Metric):
        return float(sums.get(node.name, 0.0))
    if isinstance(node, Neg):
        return -_eval(node.operand, sums)
    left, right = _eval(node.left, sums), _eval(node.right, sums)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        raise ZeroDivisionError
    return left / right


def _constant(node: Node) -> float | None:
    """The value of a metric-free subtree, else None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    if isinstance(node, BinOp):
        left, right = _constant(node.left), _constant(node.right)
        if left is None or right is None:
            return None
        try:
            return _eval(node, {})
        except ZeroDivisionError:
            return None
    return None


def _check_constant_division(node: Node, text: str) -> None:
    if isinstance(node, BinOp):
        if node.op == "/" and _constant(node.right) == 0:
            raise FormulaError(f"division by a constant zero in formula {text!r}")
        _check_constant_division(node.left, text)
        _check_constant_division(node.right, text)
    elif isinstance(node, Neg):
        _check_constant_division(node.operand, text)
