"""Periods as people say them (issue 13), resolved against Friday 2026-11-20 with data through the 18th."""

from __future__ import annotations

from datetime import date

import pytest

from bot.language.spoken_periods import PeriodError, PeriodReader, SpokenCalendar, chinese_number

TODAY = date(2026, 11, 20)  # a Friday in ISO week 47 (Mon Nov 16 – Sun Nov 22)
THROUGH = date(2026, 11, 18)


def reader(week_start: int = 0, through: date | None = THROUGH) -> PeriodReader:
    return PeriodReader(SpokenCalendar(week_start), lambda: TODAY, lambda: through)


def read(text: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(p.period.kind, p.period.key) for p in reader(**kwargs).find(text)]  # type: ignore[arg-type]  # test helper


@pytest.mark.parametrize(("text", "kind", "key"), [
    # this / last / next-to-last week, month, quarter, year
    ("gmv this week", "week", "2026-W47"), ("GMV last week", "week", "2026-W46"),
    ("next to last week", "week", "2026-W45"), ("the week before last", "week", "2026-W45"),
    ("2 weeks ago", "week", "2026-W45"), ("last-week", "week", "2026-W46"), ("this wk", "week", "2026-W47"),
    ("CPC last month", "month", "2026-10"), ("previous month", "month", "2026-10"), ("month", "month", "2026-11"),
    ("last mnth", "month", "2026-10"), ("the month before last", "month", "2026-09"),
    ("this quarter", "quarter", "2026-Q4"), ("last quarter", "quarter", "2026-Q3"),
    ("last year", "year", "2025"), ("this year", "year", "2026"),
    ("next week", "week", "2026-W48"), ("next month", "month", "2026-12"),
    # named months: the latest one not after today
    ("what was GMV in October", "month", "2026-10"), ("for November", "month", "2026-11"),
    ("in December", "month", "2025-12"), ("Oct 2025", "month", "2025-10"), ("sept", "month", "2026-09"),
    ("10月", "month", "2026-10"), ("十月", "month", "2026-10"), ("十一月份", "month", "2026-11"),
    ("2026年10月", "month", "2026-10"), ("2025年十二月", "month", "2025-12"), ("12月", "month", "2025-12"),
    # week numbers (ISO, this year unless still to come)
    ("GMV for week 47", "week", "2026-W47"), ("W47", "week", "2026-W47"), ("wk 47", "week", "2026-W47"),
    ("第47周GMV", "week", "2026-W47"), ("week 50", "week", "2025-W50"), ("2026年第3周", "week", "2026-W03"),
    ("week 53 2026", "week", "2026-W53"),
    # quarters, years
    ("q3", "quarter", "2026-Q3"), ("Q1 2025", "quarter", "2025-Q1"), ("第三季度", "quarter", "2026-Q3"),
    ("上季度", "quarter", "2026-Q3"), ("本季度", "quarter", "2026-Q4"),
    ("2025年", "year", "2025"), ("in 2025", "year", "2025"), ("今年", "year", "2026"), ("去年", "year", "2025"),
    ("前年", "year", "2024"),
    # Chinese relative
    ("gmv 上周", "week", "2026-W46"), ("上上周", "week", "2026-W45"), ("上星期", "week", "2026-W46"),
    ("这礼拜", "week", "2026-W47"), ("下周", "week", "2026-W48"), ("hosts 本月", "month", "2026-11"),
    ("上个月", "month", "2026-10"), ("上上个月", "month", "2026-09"), ("这个月", "month", "2026-11"),
    # days
    ("today", "day", "2026-11-20"), ("yesterday", "day", "2026-11-19"), ("前天", "day", "2026-11-18"),
    ("the day before yesterday", "day", "2026-11-18"), ("昨天", "day", "2026-11-19"), ("大前天", "day", "2026-11-17"),
    ("2026-11-03", "day", "2026-11-03"),
    # to date: the current period, read to date by the engine
    ("year to date", "year", "2026"), ("ytd", "year", "2026"), ("今年以来", "year", "2026"),
    ("month to date", "month", "2026-11"), ("mtd", "month", "2026-11"), ("本月至今", "month", "2026-11"),
    # keys
    ("2026-W47", "week", "2026-W47"), ("2026-11", "month", "2026-11"), ("2026-Q4", "quarter", "2026-Q4"),
])
def test_a_period_as_people_say_it(text: str, kind: str, key: str) -> None:
    assert read(text) == [(kind, key)]


@pytest.mark.parametrize(("text", "key"), [
    # rolling windows end at the data-through date (Nov 18), not today: 7 days = Nov 12 … 18
    ("last 7 days", "2026-11-12..2026-11-18"), ("past seven days", "2026-11-12..2026-11-18"),
    ("近7天", "2026-11-12..2026-11-18"), ("最近7日", "2026-11-12..2026-11-18"),
    ("最近一周", "2026-11-12..2026-11-18"),
    # 30 days through Nov 18: Oct 20 … Nov 18 (12 days of October + 18 of November)
    ("过去30天", "2026-10-20..2026-11-18"), ("last 30 days", "2026-10-20..2026-11-18"),
    ("last two weeks", "2026-11-05..2026-11-18"),  # 14 days
])
def test_rolling_windows_end_at_the_data_through_date(text: str, key: str) -> None:
    assert read(text) == [("range", key)]


def test_without_a_data_through_date_rolling_windows_end_yesterday() -> None:
    assert read("last 7 days", through=None) == [("range", "2026-11-13..2026-11-19")]


def test_weeks_follow_the_team_week_start() -> None:
    # A Sunday-start team: the week holding Fri Nov 20 runs Sun Nov 15 – Sat Nov 21.
    period = reader(week_start=6).find("this week")[0].period
    assert (period.start, period.end) == (date(2026, 11, 15), date(2026, 11, 21))


def test_two_periods_are_both_found_in_order() -> None:
    assert read("gmv this month vs last month") == [("month", "2026-11"), ("month", "2026-10")]
    assert read("上周 和 上上周") == [("week", "2026-W46"), ("week", "2026-W45")]


def test_spans_point_at_the_phrase() -> None:
    found = reader().find("GMV for week 47 please")[0]
    assert (found.start, found.end, found.text) == (8, 15, "week 47")


@pytest.mark.parametrize("text", ["week 54", "13月", "1899年", "第60周", "2026-13", "Q5 2026", "last few days"])
def test_a_period_that_does_not_exist_is_refused_naming_it(text: str) -> None:
    with pytest.raises(PeriodError) as error:
        reader().find(text)
    assert error.value.text in text


@pytest.mark.parametrize("text", ["gmv", "roas < 2", "target set gmv 1.2m", "lastly", "weekly digest",
                                  "monthly", "order value", "how am I doing"])
def test_words_that_merely_contain_period_words_are_not_periods(text: str) -> None:
    assert read(text) == []


def test_the_previous_of_a_year_and_of_a_window() -> None:
    calendar = SpokenCalendar()
    year = calendar.year(TODAY)
    assert calendar.previous(year).key == "2025"
    window = calendar.span(date(2026, 11, 12), date(2026, 11, 18))
    assert calendar.previous(window).key == "2026-11-05..2026-11-11"  # the 7 days before
    assert calendar.year_before(calendar.month(TODAY)).key == "2025-11"
    assert calendar.year_before(calendar.week(TODAY)).key == "2025-W47"


@pytest.mark.parametrize(("text", "number"), [("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("四十七", 47),
                                              ("两", 2), ("12", 12), ("百", None), ("一一一", None)])
def test_chinese_numbers(text: str, number: int | None) -> None:
    assert chinese_number(text) == number
