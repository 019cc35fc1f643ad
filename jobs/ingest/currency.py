"""Money in another currency, converted into the reporting currency on the way in (SPEC §6).

A record's currency is the one it states (a code or a symbol), else its shop's (KPI file), else the
reporting currency. A money value in another currency is converted at the rate for its date (the day's
own, else its month's); without one it is refused, naming the currency and the date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from storage.kpi.registry import Registry
from storage.repositories.fx import RateBook, rate_book

# Symbols and codes people write in cells and records. `$` is the US dollar; S$ and RM say otherwise.
CURRENCY_SIGNS = {
    "¥": "CNY", "￥": "CNY", "元": "CNY", "RMB": "CNY", "CNY": "CNY", "$": "USD", "USD": "USD", "US$": "USD",
    "€": "EUR", "EUR": "EUR", "S$": "SGD", "SGD": "SGD", "RM": "MYR", "MYR": "MYR", "฿": "THB", "THB": "THB",
    "₫": "VND", "VND": "VND", "Rp": "IDR", "IDR": "IDR", "£": "GBP", "GBP": "GBP",
}


def currency_code(text: str) -> str | None:
    """The ISO code a symbol or code stands for; any other three letters are taken as a code."""
    cleaned = text.strip()
    found = CURRENCY_SIGNS.get(cleaned) or CURRENCY_SIGNS.get(cleaned.upper())
    if found:
        return found
    return cleaned.upper() if len(cleaned) == 3 and cleaned.isascii() and cleaned.isalpha() else None


@dataclass(frozen=True)
class Money:
    where: int  # the record index or the file line, for the refusal
    metric: str
    day: date
    value: float
    currency: str  # '' = as the shop / reporting currency says
    shop: str = ""


@dataclass(frozen=True)
class Converted:
    value: float
    original_value: float | None = None
    original_currency: str | None = None


def convert_all(
    session: Session, items: Sequence[Money], registry: Registry, reporting: str,
) -> tuple[list[Converted], list[tuple[int, str]]]:
    """Each item in the reporting currency (non-money metrics as they are), or the problems: one per
    item whose currency has no rate for its date. Rates are read in one query."""
    currencies = [_currency_of(item, registry, reporting) for item in items]
    foreign = [(item, cur) for item, cur in zip(items, currencies, strict=True)
               if cur != reporting and registry.is_money(item.metric)]
    book = rate_book(session, {cur for _, cur in foreign}, min((i.day for i, _ in foreign), default=date.min),
                     max((i.day for i, _ in foreign), default=date.min)) if foreign else None
    out: list[Converted] = []
    problems: list[tuple[int, str]] = []
    for item, currency in zip(items, currencies, strict=True):
        if currency == reporting or not registry.is_money(item.metric) or book is None:
            out.append(Converted(item.value))
            continue
        rate = book.rate(currency, item.day)
        if rate is None:
            problems.append((item.where, f"no {currency} → {reporting} rate for {item.day.isoformat()}; add one "
                                         f"(kpibot fx import, POST /api/v1/fx or fx set {currency} RATE "
                                         f"{item.day:%Y-%m})"))
            out.append(Converted(item.value))
            continue
        out.append(Converted(item.value * rate, item.value, currency))
    return out, problems


def _currency_of(item: Money, registry: Registry, reporting: str) -> str:
    if item.currency:
        return item.currency
    shop = registry.shops.get(item.shop) if item.shop else None
    return shop.currency if shop and shop.currency else reporting


@dataclass(frozen=True)
class MoneyRules:
    """What a file's money cells mean: the reporting currency, each shop's, and the stored rates."""

    registry: Registry
    reporting: str
    rates: RateBook

    def shop_key(self, text: str) -> str:
        """A shop cell as a key: a declared shop's key or name, else the text made key-like."""
        cleaned = text.strip()
        for key, shop in self.registry.shops.items():
            if cleaned.lower() in (key.lower(), shop.name.lower()):
                return key
        return "-".join(cleaned.lower().split())

    def convert(self, metric: str, day: date, value: float, currency: str | None,
                shop: str) -> Converted | str:
        """The value in the reporting currency, or why not (no rate, unknown currency)."""
        if not self.registry.is_money(metric):
            return Converted(value)
        code = currency_code(currency) if currency else None
        if currency and code is None:
            return f"unknown currency {currency!r}; expected a code such as CNY or a symbol such as ¥"
        code = code or _currency_of(Money(0, metric, day, value, "", shop), self.registry, self.reporting)
        if code == self.reporting:
            return Converted(value)
        rate = self.rates.rate(code, day)
        if rate is None:
            return (f"no {code} → {self.reporting} rate for {day.isoformat()}; add one (kpibot fx import, "
                    f"POST /api/v1/fx or fx set {code} RATE {day:%Y-%m})")
        return Converted(value * rate, value, code)
