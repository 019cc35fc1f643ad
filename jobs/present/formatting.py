"""Numbers, money, percentages, periods and dates for people, in English or Chinese.

Choices (kept the same on every surface, charts included: `number`): money is the currency symbol then a
compact number —
English `$1.23M`, `$45.6K`, `$980`; Chinese `$123.45万`, `$1.5亿`. Percentages have one decimal
(`75.0%`). Dates are ISO (`2026-11-22`), unambiguous in both languages.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from datetime import date

from storage.kpi.periods import Period

CURRENCY_SYMBOLS = {"USD": "$", "CNY": "¥", "RMB": "¥", "EUR": "€", "GBP": "£", "JPY": "JP¥", "HKD": "HK$",
                    "SGD": "S$", "MYR": "RM", "THB": "฿", "IDR": "Rp", "PHP": "₱", "VND": "₫"}


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(value: float | None, lang: str, *, like: float | None = None) -> str:
    """The one compact number of chat text, cards and charts: `12.35万`, `1.5亿`, `45.6K`, `1.2M`, `980`.
    `like`: write the value in the unit `like` would get (a chart axis: 0, 5K, 10K, 15K — not 5,000 next to 10K)."""
    if value is None or not math.isfinite(value):
        return "—"
    return compact(value, lang, like=like)


def axis_numbers(values: Sequence[float], lang: str) -> list[str]:
    """Tick labels of one axis: every value in the unit of the largest (`number(..., like=largest)`)."""
    largest = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    return [number(v, lang, like=largest) for v in values]


def compact(value: float, lang: str, *, like: float | None = None) -> str:
    sign = "-" if value < 0 else ""
    v, scale = abs(value), abs(value if like is None else like)
    if v == 0:
        return "0"
    if lang == "zh":
        if scale >= 1e8:
            return f"{sign}{_strip(f'{v / 1e8:.2f}')}亿"
        if scale >= 1e4:
            return f"{sign}{_strip(f'{v / 1e4:.2f}')}万"
    else:
        if scale >= 1e9:
            return f"{sign}{_strip(f'{v / 1e9:.2f}')}B"
        if scale >= 1e6:
            return f"{sign}{_strip(f'{v / 1e6:.2f}')}M"
        if scale >= 1e4:
            return f"{sign}{_strip(f'{v / 1e3:.1f}')}K"
    return f"{sign}{_strip(f'{v:,.2f}')}"


def money(value: float, currency: str, lang: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    number = compact(value, lang)
    if symbol is None:
        return f"{number} {currency.upper()}"
    if number.startswith("-"):
        return f"-{symbol}{number[1:]}"
    return f"{symbol}{number}"


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def signed_percent(value: float) -> str:
    return f"{value * 100:+.1f}%"


def kpi_value(value: float | None, unit: str, currency: str, lang: str, *, none: str = "—") -> str:
    """A KPI value in its unit: currency, count, percent, ratio, seconds, hours."""
    if value is None:
        return none
    if unit == "currency":
        return money(value, currency, lang)
    if unit == "percent":
        return percent(value)
    if unit == "ratio":
        return f"{value:,.2f}"
    if unit == "seconds":
        return f"{value:,.1f}秒" if lang == "zh" else f"{value:,.1f} s"
    if unit == "hours":
        return f"{value:,.1f}小时" if lang == "zh" else f"{value:,.1f} h"
    return number(value, lang)


def signed_kpi_value(value: float, unit: str, currency: str, lang: str) -> str:
    """`kpi_value` with a `+` on a gain: a change or a contribution (`+$3,573.01`, `-4.2%`)."""
    text = kpi_value(value, unit, currency, lang)
    return text if text.startswith("-") or value == 0 else f"+{text}"


_ZH_QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}
_EN_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]


def period_label(period: Period, lang: str) -> str:
    start, end = period.start, period.end
    if period.kind == "day":
        return start.isoformat()
    if period.kind == "week":
        year, week = period.key.split("-W")
        if lang == "zh":
            return f"{year}年第{int(week)}周（{start:%m/%d}–{end:%m/%d}）"
        return f"week {int(week)}, {year} ({start:%b %d}–{end:%b %d})"
    if period.kind == "month":
        return f"{start.year}年{start.month}月" if lang == "zh" else f"{_EN_MONTHS[start.month - 1]} {start.year}"
    if period.kind == "year":
        return f"{start.year}年" if lang == "zh" else str(start.year)
    if period.kind == "range":  # a rolling window: last 7 days, 近30天
        days = period.days
        if lang == "zh":
            return f"近{days}天（{start:%m/%d}–{end:%m/%d}）"
        return f"{days} days ({start:%b %d}–{end:%b %d})"
    quarter = (start.month - 1) // 3 + 1
    return f"{start.year}年第{_ZH_QUARTERS[quarter]}季度" if lang == "zh" else f"Q{quarter} {start.year}"


def day_label(day: date | None) -> str:
    return day.isoformat() if day else "—"


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))

