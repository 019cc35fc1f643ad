"""Periods (day, week, month, quarter) in the team's timezone, and the tokens that name them.

Week keys follow ISO numbering of the week's Thursday-equivalent (its 4th day), so with the
default Monday start they are exactly ISO weeks (`2026-W53` exists in 2026), and with another
start day every week still has one stable key.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

# "year" and "range" (any span of days) are made by the spoken calendar (bot/language/spoken_periods.py).
PeriodKind = Literal["day", "week", "month", "quarter", "year", "range"]

# Years a period key may name: facts, targets and digests never need more, and outside it date
# arithmetic (year 0, year 10000) fails instead of answering.
FIRST_YEAR, LAST_YEAR = 1970, 2100
_KEY_YEAR = re.compile(r"\s*(\d{4})-")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # inclusive
    key: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlap_days(self, other: Period) -> int:
        first, last = max(self.start, other.start), min(self.end, other.end)
        return max(0, (last - first).days + 1)


class Calendar:
    """Builds periods for one team: its week start day (0 = Monday … 6 = Sunday)."""

    def __init__(self, week_start: int = 0) -> None:
        self.week_start = week_start

    def day(self, d: date) -> Period:
        return Period("day", d, d, d.isoformat())

    def week(self, d: date) -> Period:
        start = d - timedelta(days=(d.weekday() - self.week_start) % 7)
        anchor = start + timedelta(days=3)
        iso_year, iso_week, _ = anchor.isocalendar()
        return Period("week", start, start + timedelta(days=6), f"{iso_year}-W{iso_week:02d}")

    def month(self, d: date) -> Period:
        last = monthrange(d.year, d.month)[1]
        return Period("month", d.replace(day=1), d.replace(day=last), f"{d.year}-{d.month:02d}")

    def quarter(self, d: date) -> Period:
        q = (d.month - 1) // 3
        start = date(d.year, q * 3 + 1, 1)
        end_month = q * 3 + 3
        end = date(d.year, end_month, monthrange(d.year, end_month)[1])
        return Period("quarter", start, end, f"{d.year}-Q{q + 1}")

    def of_kind(self, kind: PeriodKind, d: date) -> Period:
        return {"day": self.day, "week": self.week, "month": self.month, "quarter": self.quarter}[kind](d)

    def previous(self, period: Period) -> Period:
        return self.of_kind(period.kind, period.start - timedelta(days=1))

    def next(self, period: Period) -> Period:
        return self.of_kind(period.kind, period.end + timedelta(days=1))

    def from_key(self, key: str) -> Period | None:
        """Parse `YYYY-MM-DD`, `YYYY-Www`, `YYYY-MM`, `YYYY-Qn`; None when not a valid key (a year
        outside FIRST_YEAR–LAST_YEAR included: `year_out_of_range` tells that case apart)."""
        key = key.strip().upper()
        if year_out_of_range(key):
            return None
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", key):
            try:
                return self.day(date(int(m[1]), int(m[2]), int(m[3])))
            except ValueError:
                return None
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", key):
            try:
                thursday = date.fromisocalendar(int(m[1]), int(m[2]), 4)
            except ValueError:
                return None
            return self.week(thursday)
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", key):
            if 1 <= int(m[2]) <= 12:
                return self.month(date(int(m[1]), int(m[2]), 1))
            return None
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", key):
            return self.quarter(date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
        return None


# Relative period tokens, English and Chinese → (kind, offset in periods from the current one).
RELATIVE_TOKENS: dict[str, tuple[PeriodKind, int]] = {
    "today": ("day", 0), "yesterday": ("day", -1),
    "week": ("week", 0), "this-week": ("week", 0), "last-week": ("week", -1), "next-week": ("week", 1),
    "month": ("month", 0), "this-month": ("month", 0), "last-month": ("month", -1),
    "next-month": ("month", 1), "mtd": ("month", 0),
    "quarter": ("quarter", 0), "this-quarter": ("quarter", 0), "last-quarter": ("quarter", -1),
    "next-quarter": ("quarter", 1), "qtd": ("quarter", 0),
    "今天": ("day", 0), "今日": ("day", 0), "昨天": ("day", -1), "昨日": ("day", -1),
    "本周": ("week", 0), "这周": ("week", 0), "上周": ("week", -1), "下周": ("week", 1),
    "本月": ("month", 0), "这个月": ("month", 0), "上月": ("month", -1), "上个月": ("month", -1),
    "下月": ("month", 1), "下个月": ("month", 1),
    "本季度": ("quarter", 0), "这季度": ("quarter", 0), "上季度": ("quarter", -1), "下季度": ("quarter", 1),
}


def resolve_token(token: str, today: date, calendar: Calendar) -> Period | None:
    """A period token (relative, English or Chinese, or an absolute key) → Period."""
    normal = token.strip().lower().replace("_", "-")
    if normal in RELATIVE_TOKENS:
        kind, offset = RELATIVE_TOKENS[normal]
        period = calendar.of_kind(kind, today)
        step = calendar.next if offset > 0 else calendar.previous
        for _ in range(abs(offset)):
            period = step(period)
        return period
    return calendar.from_key(token)


def year_out_of_range(token: str) -> bool:
    """True for a key-shaped token (`0000-01`, `9999-Q1`) whose year is outside FIRST_YEAR–LAST_YEAR."""
    match = _KEY_YEAR.match(token)
    return match is not None and not FIRST_YEAR <= int(match[1]) <= LAST_YEAR


def looks_like_period_key(token: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-(\d{1,2}|W\d{1,2}|Q\d|\d{2}-\d{2})", token.strip(), re.IGNORECASE))


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(tz)).astimezone(tz).date()
