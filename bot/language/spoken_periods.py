"""Periods as people say them, in English and Chinese, found anywhere in a message.

`find_periods("gmv last month vs 上上周", ...)` → the periods with where they stand in the text, so
the parser can tell "GMV last month" from "GMV this month vs last month". Built on
`storage.kpi.periods.Calendar`; a year and a rolling window ("last 7 days", "近7天") are periods of
their own kinds (`year`, `range`) that `SpokenCalendar` can step back from like any other.

Rolling windows end at the data-through date (the newest day with data), not today: on a Monday
with T+1 data "last 7 days" is the 7 days through Sunday, not 6 days and an empty today.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from storage.kpi.periods import FIRST_YEAR, LAST_YEAR, Calendar, Period, PeriodKind

MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
NUMBERS_EN = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "sixty": 60, "ninety": 90, "a": 1,
}
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNIT_DAYS = {"day": 1, "week": 7}
YEAR_MIN, YEAR_MAX = FIRST_YEAR, LAST_YEAR  # the years storage.kpi.periods keeps


class SpokenCalendar(Calendar):
    """A `Calendar` that also knows years and rolling windows (`range`: any span of days)."""

    def year(self, d: date) -> Period:
        return Period("year", date(d.year, 1, 1), date(d.year, 12, 31), str(d.year))

    def span(self, start: date, end: date) -> Period:
        return Period("range", start, end, f"{start.isoformat()}..{end.isoformat()}")

    def of_kind(self, kind: PeriodKind, d: date) -> Period:
        return self.year(d) if kind == "year" else super().of_kind(kind, d)

    def previous(self, period: Period) -> Period:
        if period.kind == "range":
            return self.span(period.start - timedelta(days=period.days), period.start - timedelta(days=1))
        return super().previous(period)

    def next(self, period: Period) -> Period:
        if period.kind == "range":
            return self.span(period.end + timedelta(days=1), period.end + timedelta(days=period.days))
        return super().next(period)

    def year_before(self, period: Period) -> Period:
        """The same period a year earlier (同比): same kind, same position in the year."""
        if period.kind in ("week",):
            iso_year, week, _ = (period.start + timedelta(days=3)).isocalendar()
            thursday = _iso_thursday(iso_year - 1, min(week, 52))
            return self.week(thursday)
        if period.kind == "range":
            return self.span(_minus_year(period.start), _minus_year(period.end))
        return self.of_kind(period.kind, _minus_year(period.start))


@dataclass(frozen=True)
class SpokenPeriod:
    period: Period
    start: int  # character span in the text searched
    end: int
    text: str


class PeriodError(ValueError):
    """A phrase that names a period that does not exist (`week 54`, `13月`, `1899年`)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class PeriodReader:
    calendar: SpokenCalendar
    today: Callable[[], date]
    # The newest day with data; rolling windows end there. None → yesterday (T+1 data).
    data_through: Callable[[], date | None] = lambda: None

    def find(self, text: str) -> list[SpokenPeriod]:
        """Every period phrase in `text`, left to right, not overlapping. Raises PeriodError for a
        phrase that has the shape of a period but names none."""
        today = self.today()
        taken: list[tuple[int, int]] = []
        found: list[SpokenPeriod] = []
        rules = (_CJK_RULES if _HAS_CJK.search(text) else []) + (_LATIN_RULES if _HAS_LATIN.search(text) else [])
        for pattern, build in rules:
            for match in pattern.finditer(text):
                if any(match.start() < end and start < match.end() for start, end in taken):
                    continue
                period = build(self, match, today)
                if period is None:
                    raise PeriodError(match.group(0).strip())
                taken.append((match.start(), match.end()))
                found.append(SpokenPeriod(period, match.start(), match.end(), match.group(0).strip()))
        return sorted(found, key=lambda p: p.start)

    # --- building blocks the rules use ---------------------------------------------------------

    def relative(self, kind: str, offset: int, today: date) -> Period:
        period = self.calendar.of_kind(cast(PeriodKind, kind), today)  # rule tables hold kinds as plain strings
        step = self.calendar.next if offset > 0 else self.calendar.previous
        for _ in range(abs(offset)):
            period = step(period)
        return period

    def rolling(self, days: int, today: date) -> Period | None:
        if not 1 <= days <= 366:
            return None
        end = self.data_through() or today - timedelta(days=1)
        return self.calendar.span(end - timedelta(days=days - 1), end)

    def month_named(self, month: int, year: int | None, today: date) -> Period | None:
        if not 1 <= month <= 12:
            return None
        if year is None:  # the latest such month not after this one: "in October" said in March
            year = today.year if month <= today.month else today.year - 1
        if not YEAR_MIN <= year <= YEAR_MAX:
            return None
        return self.calendar.month(date(year, month, 1))

    def week_numbered(self, week: int, year: int | None, today: date) -> Period | None:
        if year is None:
            this = self.calendar.week(today)
            year = int(this.key[:4])
            if week > int(this.key[-2:]):  # week 50 said in week 3 → last year's
                year -= 1
        if not YEAR_MIN <= year <= YEAR_MAX:
            return None
        try:
            return self.calendar.week(_iso_thursday(year, week))
        except ValueError:
            return None

    def quarter_numbered(self, quarter: int, year: int | None, today: date) -> Period | None:
        if not 1 <= quarter <= 4:
            return None
        if year is None:
            year = today.year if (quarter - 1) * 3 + 1 <= today.month else today.year - 1
        if not YEAR_MIN <= year <= YEAR_MAX:
            return None
        return self.calendar.quarter(date(year, (quarter - 1) * 3 + 1, 1))

    def year_numbered(self, year: int) -> Period | None:
        return self.calendar.year(date(year, 1, 1)) if YEAR_MIN <= year <= YEAR_MAX else None


def chinese_number(text: str) -> int | None:
    """一 … 九十九, 两, or digits → int."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (CN_DIGITS[tens] if tens else 1) * 10 + (CN_DIGITS[ones] if ones else 0)


def _iso_thursday(year: int, week: int) -> date:
    return date.fromisocalendar(year, week, 4)


def _minus_year(d: date) -> date:
    return d.replace(year=d.year - 1, day=min(d.day, 28)) if (d.month, d.day) == (2, 29) else d.replace(
        year=d.year - 1)


def _number(text: str) -> int | None:
    text = text.lower()
    return int(text) if text.isdigit() else NUMBERS_EN.get(text) or chinese_number(text)


def _year(text: str | None) -> int | None:
    return int(text) if text else None


# --- the phrases --------------------------------------------------------------------------------

Rule = tuple[re.Pattern[str], Callable[[PeriodReader, re.Match[str], date], Period | None]]

_B = r"(?<![A-Za-z0-9_\-])"  # a latin word starts here
_E = r"(?![A-Za-z0-9_])"      # … and ends here
_CN_NUM = r"[0-9一二两三四五六七八九十]{1,3}"
_KIND_EN = {"day": "day", "days": "day", "week": "week", "weeks": "week", "wk": "week", "wks": "week",
            "month": "month", "months": "month", "mo": "month", "mth": "month", "mnth": "month",
            "quarter": "quarter", "quarters": "quarter", "qtr": "quarter", "q": "quarter",
            "year": "year", "years": "year", "yr": "year"}
_KIND_WORD = r"(?P<kind>weeks?|wks?|months?|mo|mth|mnth|quarters?|qtr|years?|yr)"
_KIND_CN = {"周": "week", "星期": "week", "礼拜": "week", "月": "month", "个月": "month", "季度": "quarter",
            "季": "quarter", "年": "year"}
_MONTH_WORD = r"(?P<month>" + "|".join(sorted(MONTHS_EN, key=len, reverse=True)) + r")\.?"
_OFFSET_EN = {"this": 0, "current": 0, "last": -1, "previous": -1, "prev": -1, "prior": -1, "past": -1,
              "next": 1, "coming": 1}
_OFFSET_CN = {"本": 0, "这": 0, "这个": 0, "这一": 0, "当": 0, "今": 0, "上": -1, "上个": -1, "上一": -1,
              "上一个": -1, "上上": -2, "上上个": -2, "下": 1, "下个": 1, "下一": 1, "下一个": 1, "去": -1, "前": -2}


def _rolling_en(r: PeriodReader, m: re.Match[str], today: date) -> Period | None:
    count = _number(m["count"])
    return r.rolling(count * UNIT_DAYS[_KIND_EN.get(m["unit"].lower(), m["unit"].lower()).rstrip("s")], today) \
        if count else None


def _rolling_cn(r: PeriodReader, m: re.Match[str], today: date) -> Period | None:
    count = chinese_number(m["count"])
    return r.rolling(count * (7 if m["unit"] in ("周", "星期") else 1), today) if count else None


def _relative_en(r: PeriodReader, m: re.Match[str], today: date) -> Period:
    offset = _OFFSET_EN[m["which"].lower()] if m["which"] else 0
    if m["before"]:
        offset = -2
    return r.relative(_KIND_EN[m["kind"].lower()], offset, today)


def _relative_cn(r: PeriodReader, m: re.Match[str], today: date) -> Period:
    kind = _KIND_CN[m["kind"]]
    if kind == "year":
        offset = {"今": 0, "本": 0, "去": -1, "前": -2, "上": -1, "上一": -1}.get(m["which"], 0)
    else:
        offset = _OFFSET_CN[m["which"]]
    return r.relative(kind, offset, today)


def _ago(r: PeriodReader, m: re.Match[str], today: date) -> Period | None:
    count = _number(m["count"])
    return r.relative(_KIND_EN[m["kind"].lower()], -count, today) if count else None


_RULES: list[Rule] = [
    # rolling windows: last 7 days, past 30 days, the last two weeks, 近7天, 最近30天, 过去一周
    (re.compile(_B + r"(?:the\s+)?(?:last|past|previous|trailing|rolling)\s+(?P<count>\d{1,3}|[a-z]+)[\s\-]*"
                r"(?P<unit>days?|weeks?|wks?)" + _E, re.I), _rolling_en),
    (re.compile(r"(?:近|最近|过去|前)(?P<count>" + _CN_NUM + r")(?:个)?(?P<unit>天|日|周|星期)(?:内|以来)?"),
     _rolling_cn),
    # to date: year to date, ytd, 今年以来; month/quarter to date are the current period (read to date)
    (re.compile(_B + r"(?:year[\s\-]+to[\s\-]+date|ytd)" + _E, re.I), lambda r, m, t: r.relative("year", 0, t)),
    (re.compile(r"(?:今年|本年|年初)(?:以来|至今|到现在|到今天)"), lambda r, m, t: r.relative("year", 0, t)),
    (re.compile(_B + r"(?:month[\s\-]+to[\s\-]+date|mtd)" + _E, re.I), lambda r, m, t: r.relative("month", 0, t)),
    (re.compile(r"(?:本月|这个月|月初)(?:以来|至今|到现在|到今天)"), lambda r, m, t: r.relative("month", 0, t)),
    (re.compile(_B + r"(?:quarter[\s\-]+to[\s\-]+date|qtd)" + _E, re.I),
     lambda r, m, t: r.relative("quarter", 0, t)),
    (re.compile(r"(?:本季度?|本季|季初)(?:以来|至今)"), lambda r, m, t: r.relative("quarter", 0, t)),
    # days
    (re.compile(_B + r"(?:the\s+)?day\s+before\s+yesterday" + _E, re.I), lambda r, m, t: r.relative("day", -2, t)),
    (re.compile(_B + r"(?:today|tdy)" + _E, re.I), lambda r, m, t: r.relative("day", 0, t)),
    (re.compile(_B + r"(?:yesterday|yday)" + _E, re.I), lambda r, m, t: r.relative("day", -1, t)),
    (re.compile(r"大前天"), lambda r, m, t: r.relative("day", -3, t)),
    (re.compile(r"前天|前日"), lambda r, m, t: r.relative("day", -2, t)),
    (re.compile(r"今天|今日"), lambda r, m, t: r.relative("day", 0, t)),
    (re.compile(r"昨天|昨日"), lambda r, m, t: r.relative("day", -1, t)),
    # absolute keys: 2026-11, 2026-W47, 2026-Q4, 2026-11-03
    (re.compile(_B + r"\d{4}-(?:[Ww]\d{1,2}|[Qq]\d|\d{1,2}(?:-\d{1,2})?)" + _E),
     lambda r, m, t: _key(r, m.group(0))),
    # 上上周, 上周, 本月, 上个月, 这季度, 今年, 去年, 前年, 上星期, 这礼拜
    (re.compile(r"(?P<which>上上个|上上|上一个|上一|上个|上|下一个|下一|下个|下|本|这一|这个|这|当)(?P<kind>周|星期|礼拜|个月|月|季度|季)"),
     _relative_cn),
    (re.compile(r"(?P<which>今|去|前|本|上一)(?P<kind>年)(?:度)?"), _relative_cn),
    # 2026年10月, 2026年十月, 26年10月
    (re.compile(r"(?P<year>\d{4})年(?P<month>" + _CN_NUM + r")月份?"),
     lambda r, m, t: _cn_month(r, m["month"], int(m["year"]), t)),
    # 2026年第47周, 第47周, 47周
    (re.compile(r"(?:(?P<year>\d{4})年)?第(?P<week>" + _CN_NUM + r")周"),
     lambda r, m, t: _cn_week(r, m["week"], _year(m["year"]), t)),
    # 2026年第三季度, 第三季度, 三季度, Q3
    (re.compile(r"(?:(?P<year>\d{4})年)?第?(?P<q>[1-4一二三四])季度"),
     lambda r, m, t: r.quarter_numbered(chinese_number(m["q"]) or 0, _year(m["year"]), t)),
    (re.compile(_B + r"(?:(?P<y1>\d{4})\s*)?[Qq](?P<q>\d)(?:\s*(?P<y2>\d{4}))?" + _E),
     lambda r, m, t: r.quarter_numbered(int(m["q"]), _year(m["y1"] or m["y2"]), t)),
    # week 47, wk 47, W47, week 47 2025, the 47th week
    (re.compile(_B + r"(?:week|wk|w)\s*#?(?P<week>\d{1,2})(?:\s*(?:of\s+)?(?P<year>\d{4}))?" + _E, re.I),
     lambda r, m, t: r.week_numbered(int(m["week"]), _year(m["year"]), t)),
    # October, in Oct 2025, Oct. 2025
    (re.compile(_B + _MONTH_WORD + r"(?:\s*,?\s*(?P<year>\d{4}))?" + _E, re.I),
     lambda r, m, t: r.month_named(MONTHS_EN[m["month"].lower()], _year(m["year"]), t)),
    # 10月, 十月, 10月份 (not 10月1日: a day, not a month; days are written 2026-10-01)
    (re.compile(r"(?P<month>" + _CN_NUM + r")月份?(?![0-9一二三四五六七八九十]+[日号])"),
     lambda r, m, t: _cn_month(r, m["month"], None, t)),
    # 2026年, in 2025, year 2025
    (re.compile(r"(?P<year>\d{4})年(?:度|全年)?"), lambda r, m, t: r.year_numbered(int(m["year"]))),
    (re.compile(_B + r"(?:in|for|during|year)\s+(?P<year>[12]\d{3})" + _E, re.I),
     lambda r, m, t: _in_year(r, m)),
    # the week before last, 2 weeks ago, a month ago
    (re.compile(_B + r"(?:the\s+)?(?P<kind>week|month|quarter|year)\s+before\s+last" + _E, re.I),
     lambda r, m, t: r.relative(m["kind"].lower(), -2, t)),
    (re.compile(_B + r"(?P<count>\d{1,2}|[a-z]+)\s+" + _KIND_WORD + r"\s+ago" + _E, re.I), _ago),
    # next to last week, last week, this month, previous quarter, last year
    (re.compile(_B + r"(?:(?P<before>next[\s\-]+to[\s\-]+last|second[\s\-]+to[\s\-]+last)|(?P<which>this|current|"
                r"last|previous|prev|prior|past|next|coming))?[\s\-]*" + _KIND_WORD + _E, re.I), _relative_en),
]


# A rule with Chinese characters in it can only match Chinese text, the others only text with latin
# letters or digits: a message is tried against the rules of the scripts it contains, in order.
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_HAS_LATIN = re.compile(r"[A-Za-z0-9]")
_CJK_RULES = [rule for rule in _RULES if _HAS_CJK.search(rule[0].pattern)]
_LATIN_RULES = [rule for rule in _RULES if not _HAS_CJK.search(rule[0].pattern)]


def _key(r: PeriodReader, key: str) -> Period | None:
    year = int(key[:4])
    if not YEAR_MIN <= year <= YEAR_MAX:
        return None
    return r.calendar.from_key(key)


def _cn_month(r: PeriodReader, month_text: str, year: int | None, today: date) -> Period | None:
    month = chinese_number(month_text)
    return r.month_named(month, year, today) if month is not None else None


def _cn_week(r: PeriodReader, week_text: str, year: int | None, today: date) -> Period | None:
    week = chinese_number(week_text)
    return r.week_numbered(week, year, today) if week is not None else None


def _in_year(r: PeriodReader, m: re.Match[str]) -> Period | None:
    return r.year_numbered(int(m["year"]))
