"""Cell parsers: numbers and dates as shop back-ends and spreadsheets write them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.ingest.values import EMPTY, ValueProblem, parse_date, parse_member, parse_number


@pytest.mark.parametrize(("raw", "expected"), [
    ("1234.5", 1234.5), ("1,234.50", 1234.5), ("$1,234.50", 1234.5), ("US$99", 99.0), ("¥99", 99.0),
    ("￥1,000", 1000.0), ("1000元", 1000.0), ("RM 12.30", 12.3), ("12%", 0.12), ("-5", -5.0), ("$-12", -12.0),
    ("(1,200)", -1200.0), ("1.2万", 12000.0), ("1.5亿", 150000000.0), ("１２３", 123.0),  # full-width digits
    (7, 7.0), (2.5, 2.5), (Decimal("3.10"), 3.1), (" 42 ", 42.0), ("1e3", 1000.0),
])
def test_numbers(raw: object, expected: float) -> None:
    assert parse_number(raw) == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["", None, "-", "--", "N/A", "—"])
def test_empty_cells(raw: object) -> None:
    assert parse_number(raw) is EMPTY


@pytest.mark.parametrize("raw", ["12x", "1,23", "1.234,56", "true", True, "nan", "inf", float("nan"), "$", "1 2 3 x"])
def test_not_numbers(raw: object) -> None:
    with pytest.raises(ValueProblem):
        parse_number(raw)


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2))
def test_thousands_separated_amounts_read_back(amount: Decimal) -> None:
    assert parse_number(f"${amount:,.2f}") == pytest.approx(float(amount))


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-10-01", date(2026, 10, 1)), ("2026/10/01", date(2026, 10, 1)), ("2026/1/5", date(2026, 1, 5)),
    ("20261001", date(2026, 10, 1)), ("2026年10月1日", date(2026, 10, 1)), ("2026-10-01 13:45:00", date(2026, 10, 1)),
    (20261001, date(2026, 10, 1)), (46296, date(2026, 10, 1)),  # Excel serial: 1899-12-30 + 46,296 days
    (datetime(2026, 10, 1, 23, 0), date(2026, 10, 1)), (date(2026, 10, 1), date(2026, 10, 1)),
])
def test_dates(raw: object, expected: date) -> None:
    assert parse_date(raw) == expected


def test_aware_datetimes_are_read_in_the_team_timezone() -> None:
    late_utc = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 01:00 on 10-01 in Shanghai
    assert parse_date(late_utc, tz=ZoneInfo("Asia/Shanghai")) == date(2026, 10, 1)


def test_date_format_for_other_forms() -> None:
    assert parse_date("10/01/2026", "%m/%d/%Y") == date(2026, 10, 1)
    with pytest.raises(ValueProblem, match="does not match the date format"):
        parse_date("2026-10-01", "%m/%d/%Y")


@pytest.mark.parametrize("raw", ["2026-02-30", "10/01/2026", "yesterday", True, 12])
def test_not_dates(raw: object) -> None:
    with pytest.raises(ValueProblem):
        parse_date(raw)


def test_members() -> None:
    assert parse_member("  alice@example.com ") == "alice@example.com"
    assert parse_member(None) == "" and parse_member("--") == ""
    assert parse_member(1234.0) == "1234"  # an id typed into a spreadsheet
    with pytest.raises(ValueProblem, match="control characters"):
        parse_member("bob\x07")
