"""Target and threshold values as people type them: 1200000, 1,200,000, 1.2m, 800k, 120万,
1.5亿, $1.2M, ¥80万, 15% (0.15 for percent KPIs)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

VALUE_PATTERN = re.compile(
    r"^(?P<sign>-)?(?P<currency>[$¥￥€£])?(?P<number>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?P<suffix>[kKmMbB]|万|亿|%)?$"
)
MULTIPLIERS = {"k": 1e3, "m": 1e6, "b": 1e9, "万": 1e4, "亿": 1e8}


@dataclass(frozen=True)
class ParsedValue:
    value: float
    is_percent: bool
    has_currency: bool
    text: str


def parse_value(text: str) -> ParsedValue | None:
    """None when `text` is not a value at all."""
    match = VALUE_PATTERN.match(text.strip())
    if not match:
        return None
    number_text = match["number"]
    if "," in number_text and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", number_text):
        return None  # "1,2,3" is not a number
    number = float(number_text.replace(",", ""))
    suffix = (match["suffix"] or "").lower()
    is_percent = suffix == "%"
    if is_percent:
        number /= 100
    elif suffix:
        number *= MULTIPLIERS[suffix]
    if match["sign"]:
        number = -number
    if not math.isfinite(number):
        return None
    return ParsedValue(number, is_percent, bool(match["currency"]), text)


def looks_like_value(text: str) -> bool:
    return bool(re.match(r"^-?[$¥￥€£]?[\d.]", text.strip()))
