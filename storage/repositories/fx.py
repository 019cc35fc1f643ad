"""Exchange rates into the reporting currency, by day or by month (a month rate covers its days;
a day rate wins over its month's)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, bindparam, text
from sqlmodel import Session, select

from storage.models import FxRate, utcnow

_MONTH = re.compile(r"\d{4}-\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class FxProblem(ValueError):
    def __init__(self, message: str, field: str = "", given: object = None) -> None:
        super().__init__(message)
        self.field, self.given = field, given  # which part was wrong (currency | period | rate) and as given


@dataclass(frozen=True)
class RateSpan:
    currency: str
    period_key: str  # YYYY-MM or YYYY-MM-DD
    start: date
    end: date
    rate: float


def rate_span(currency: str, period: str, rate: float) -> RateSpan:
    """A rate as entered, checked: a three-letter code, a month or a day, a positive finite number."""
    code = currency.strip().upper()
    if not (len(code) == 3 and code.isalpha() and code.isascii()):
        raise FxProblem(f"currency must be a three-letter code such as CNY, got {currency!r}", "currency", currency)
    if not (isinstance(rate, int | float) and not isinstance(rate, bool)) or not 0 < float(rate) < 1e9:
        raise FxProblem(f"rate must be a positive number, got {rate!r}", "rate", rate)
    key = period.strip()
    try:
        if _MONTH.fullmatch(key):
            year, month = int(key[:4]), int(key[5:7])
            start, end = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        elif _DAY.fullmatch(key):
            start = end = date.fromisoformat(key)
        else:
            raise ValueError
    except ValueError:
        raise FxProblem(f"period must be a month YYYY-MM or a day YYYY-MM-DD, got {period!r}", "period",
                        period) from None
    return RateSpan(code, key, start, end, float(rate))


def set_rates(session: Session, spans: Iterable[RateSpan], set_by: str) -> int:
    """Create or replace each (currency, period) rate; returns how many."""
    count = 0
    for span in spans:
        row = session.exec(select(FxRate).where(FxRate.currency == span.currency,
                                                FxRate.period_key == span.period_key)).first()
        if row is None:
            row = FxRate(currency=span.currency, period_key=span.period_key, start=span.start, end=span.end,
                         rate=span.rate, set_by=set_by)
        else:
            row.rate, row.set_by, row.updated_at = span.rate, set_by, utcnow()
        session.add(row)
        count += 1
    return count


_RATES_BETWEEN = text(
    "SELECT currency, period_key, start, \"end\", rate FROM fx_rate WHERE currency IN :currencies"
    " AND start <= :last AND \"end\" >= :first"
).bindparams(bindparam("currencies", expanding=True), bindparam("first", type_=Date()),
             bindparam("last", type_=Date()))


class RateBook:
    """The rates of some currencies over a date range, loaded in one query; `rate` answers per day."""

    def __init__(self, rows: Iterable[RateSpan]) -> None:
        self._day: dict[tuple[str, date], float] = {}
        self._month: dict[tuple[str, int, int], float] = {}
        for span in rows:
            if span.start == span.end and len(span.period_key) == 10:
                self._day[(span.currency, span.start)] = span.rate
            else:
                self._month[(span.currency, span.start.year, span.start.month)] = span.rate

    def rate(self, currency: str, day: date) -> float | None:
        found = self._day.get((currency, day))
        return found if found is not None else self._month.get((currency, day.year, day.month))


def rate_book(session: Session, currencies: Iterable[str], first: date, last: date) -> RateBook:
    wanted = sorted(set(currencies))
    if not wanted:
        return RateBook([])
    rows = session.connection().execute(_RATES_BETWEEN, {"currencies": wanted, "first": first, "last": last})
    return RateBook(RateSpan(c, k, _as_date(s), _as_date(e), float(r)) for c, k, s, e, r in rows)


def rates_in_force(session: Session, day: date) -> list[RateSpan]:
    """Per currency, the rate that applies on `day` (the day's own, else its month's)."""
    rows = session.exec(select(FxRate).where(FxRate.start <= day, FxRate.end >= day)
                        .order_by(FxRate.currency, FxRate.start.desc())).all()  # type: ignore[attr-defined]
    out: dict[str, RateSpan] = {}
    for row in rows:
        span = RateSpan(row.currency, row.period_key, row.start, row.end, row.rate)
        if row.currency not in out or len(row.period_key) == 10:
            out[row.currency] = span
    return list(out.values())


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def all_rates(session: Session) -> RateBook:
    """Every stored rate (a few per currency and month: small), for a file whose currencies are not
    known before it is read."""
    rows = session.exec(select(FxRate)).all()
    return RateBook(RateSpan(r.currency, r.period_key, r.start, r.end, r.rate) for r in rows)
