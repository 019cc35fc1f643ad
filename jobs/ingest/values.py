"""Cell values as exported by shop back-ends and spreadsheets → dates, numbers, member keys.

Each parser returns the value or raises `ValueProblem` with a reason a user can act on
(never a stack trace). `EMPTY` marks a cell with no value ("", "-", "--", "N/A").
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo


class ValueProblem(ValueError):
    """A cell that cannot be read; `str()` is the reason, written for the person who made the file."""


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()

PLACEHOLDERS = frozenset({"", "-", "--", "—", "——", "n/a", "na", "null", "none", "/"})
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MEMBER_KEY_MAX = 200
# Largest magnitude a value may have: sums of millions of such values stay exact to the cent in a
# double and far from overflow on both databases (two pushed 1e308 overflowed PostgreSQL's sum).
MAX_MAGNITUDE = 1e15

# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); serials in this range are 1954–2119.
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIALS = range(20000, 80000)

_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CURRENCY_WORDS = re.compile(r"^(?:US\$|S\$|RM|Rp|USD|CNY|RMB|EUR|GBP|SGD|MYR|THB|PHP|IDR|VND|JPY)|"
                             r"(?:USD|CNY|RMB|EUR|GBP|SGD|MYR|THB|PHP|IDR|VND|JPY|元)$", re.IGNORECASE)
_CURRENCY_SIGNS = "$¥￥€£₱฿₫₩"
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+|\d+(?:\.\d+)?[eE][-+]?\d+")
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_CHINESE_UNITS = {"万": 1e4, "亿": 1e8}
_SIMPLE_NUMBER = re.compile(r"-?\d{1,15}(?:\.\d{1,15})?")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A file repeats the same few hundred dates and members a million times: their parses are
# remembered per distinct text (bounded, so memory stays flat whatever the file holds).
MEMO_SIZE = 4096


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().lower() in PLACEHOLDERS)


def shown(raw: Any, limit: int = 60) -> str:
    """A cell as a user would recognise it in an error message."""
    text = raw.isoformat() if isinstance(raw, date) else str(raw)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_number(raw: Any) -> float | _Empty:
    """12345.6, "12,345.60", "$1,234", "¥99", "15%" (→ 0.15), "1.2万", "(120)" (→ −120)."""
    if isinstance(raw, str) and _SIMPLE_NUMBER.fullmatch(raw):  # the common case, kept fast for big files
        return float(raw)
    if is_empty(raw):
        return EMPTY
    if isinstance(raw, bool):
        raise ValueProblem(f"{raw} is not a number")
    if isinstance(raw, int | float | Decimal):
        return _finite(float(raw), raw)
    if not isinstance(raw, str):
        raise ValueProblem(f"{shown(raw)!r} is not a number")
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "").replace("\u00a0", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text[:1] in "-−+":
        negative, text = text[0] != "+", text[1:]
    text = _CURRENCY_WORDS.sub("", text).strip(_CURRENCY_SIGNS)
    if text[:1] in "-−" and not negative:  # "$-12" writes the sign after the symbol
        negative, text = True, text[1:]
    factor = 1.0
    if text.endswith("%"):
        factor, text = 0.01, text[:-1]
    elif text[-1:] in _CHINESE_UNITS:
        factor, text = _CHINESE_UNITS[text[-1]], text[:-1]
    text = text.replace("，", ",")
    if _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ValueProblem(f"{shown(raw)!r} is not a number")
    number = float(text) * factor
    return _finite(-number if negative else number, raw)


# A currency written in a money cell: a prefix or suffix symbol or code ("¥1.2万", "1,000元", "S$ 20").
_STATED_CURRENCY = re.compile(r"^\s*[-−(+]?\s*(US\$|S\$|RM|Rp|[A-Za-z]{3}|[$¥￥€£฿₫])|"
                              r"([A-Za-z]{3}|元|[$¥￥€£฿₫])\s*\)?\s*$")


def stated_currency(raw: Any) -> str | None:
    """The currency sign or code a cell's text carries (as written), or None for a plain number."""
    if not isinstance(raw, str) or _SIMPLE_NUMBER.fullmatch(raw):
        return None
    found = _STATED_CURRENCY.search(unicodedata.normalize("NFKC", raw) if raw.isascii() is False else raw)
    if found is None:
        return None
    return found.group(1) or found.group(2)


def _finite(number: float, raw: Any) -> float:
    if not math.isfinite(number):
        raise ValueProblem(f"{shown(raw)!r} is not a finite number")
    if abs(number) > MAX_MAGNITUDE:
        raise ValueProblem(magnitude_problem(raw))
    return number


def magnitude_problem(raw: Any) -> str:
    return f"{shown(raw)!r} is too large: values must lie between -1e15 and 1e15 to be added up safely"


def unicode_problem(field: str, text: str) -> str | None:
    """Why `text` cannot be stored as `field`: a lone surrogate (JSON's "\\ud800") is not Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"{field} is not valid Unicode text (lone surrogate at character {exc.start + 1})"
    return None


def parse_date(raw: Any, fmt: str | None = None, tz: ZoneInfo | None = None) -> date | _Empty:
    """2026-10-01, 2026/10/01, 2026/1/5, 2026年10月1日, 20261001, "2026-10-01 08:00:00", an Excel
    date cell or serial number, or whatever `fmt` (strptime) describes."""
    if isinstance(raw, str):
        return _date_text(raw, fmt)
    if raw is None:
        return EMPTY
    if isinstance(raw, datetime):
        if raw.tzinfo is not None and tz is not None:
            raw = raw.astimezone(tz)
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise ValueProblem(f"{raw} is not a date")
    if isinstance(raw, int | float | Decimal):
        return _date_from_number(raw)
    raise ValueProblem(f"{shown(raw)!r} is not a date")


@lru_cache(maxsize=MEMO_SIZE)
def _date_text(raw: str, fmt: str | None) -> date | _Empty:
    """parse_date of a text cell (the time zone only matters for datetime cells)."""
    if is_empty(raw):
        return EMPTY
    if not fmt and _ISO_DAY.fullmatch(raw):  # the common case, kept fast
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueProblem(f"{shown(raw)!r} is not a real date") from None
    text = unicodedata.normalize("NFKC", raw).strip()
    if fmt:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            raise ValueProblem(f"{shown(raw)!r} does not match the date format {fmt}") from None
    match = _YMD.fullmatch(text) or _COMPACT.fullmatch(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueProblem(f"{shown(raw)!r} is not a real date") from None
    raise ValueProblem(
        f"{shown(raw)!r} is not a date (write 2026-10-01, 2026/10/01 or 20261001; "
        "a mapping can set date_format for other forms)"
    )


def _date_from_number(raw: int | float | Decimal) -> date:
    number = float(raw)
    if number.is_integer() and 19000101 <= number <= 29991231:
        return parse_date(str(int(number)))  # type: ignore[return-value]
    if int(number) in EXCEL_SERIALS:
        return EXCEL_EPOCH + timedelta(days=int(number))
    raise ValueProblem(f"{shown(raw)!r} is not a date")


def iso_date(raw: Any) -> date:
    """Strict YYYY-MM-DD, for the push API."""
    if not isinstance(raw, str):
        raise ValueProblem(f"date must be a string YYYY-MM-DD, got {shown(raw)!r}")
    return _iso_date_text(raw)


@lru_cache(maxsize=MEMO_SIZE)
def _iso_date_text(raw: str) -> date:
    if not _ISO_DAY.fullmatch(raw):
        raise ValueProblem(f"date must be a string YYYY-MM-DD, got {shown(raw)!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueProblem(f"{raw!r} is not a real date") from None


def member_key_problem(key: str) -> str | None:
    """Why `key` cannot name a member, or None. '' is fine: a team-level row."""
    if len(key) > MEMBER_KEY_MAX:
        return f"member is longer than {MEMBER_KEY_MAX} characters"
    if not key.isprintable() and (problem := unicode_problem("member", key)):
        return problem
    # Cc, Cf, Zl and Zp are all unprintable: a printable key (the usual case) needs no per-character look.
    if not key.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in key):
        return "member contains control characters"
    if key != key.strip():
        return "member has leading or trailing spaces"
    return None


def parse_member(raw: Any) -> str:
    """A cell naming a member (trimmed); empty → '' (team-level)."""
    if isinstance(raw, str):
        return _member_text(raw)
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # an id typed into a spreadsheet comes back as 1234.0
    return _member_key(str(raw), raw)


@lru_cache(maxsize=MEMO_SIZE)
def _member_text(raw: str) -> str:
    return "" if is_empty(raw) else _member_key(raw, raw)


def _member_key(text: str, raw: Any) -> str:
    key = unicodedata.normalize("NFC", text).strip()
    problem = member_key_problem(key)
    if problem:
        raise ValueProblem(f"{shown(raw)!r}: {problem}")
    return key


def source_name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
        return (f"source must be 1–64 characters of a-z 0-9 . _ - starting with a letter or digit, "
                f"got {shown(name)!r}")
    return None
