"""What the columns of a table mean, and each row turned into (metric, date, member, value) facts.

Three layouts, decided by the header row:
- **long**   `date, metric, value[, member]` — one value per row;
- **wide**   `date[, member], gmv, orders, …` — one column per metric (ids, labels or aliases);
- **mapped** a mapping from the KPI file names the date, member and metric columns of an export;
  any other column is ignored.
Without a mapping every column must mean something: a typo in a metric column is an error, not
silently dropped data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from jobs.ingest.currency import Converted, MoneyRules
from jobs.ingest.mapping import Mapping
from jobs.ingest.names import (
    CURRENCY_HEADERS,
    DATE_HEADERS,
    MEMBER_HEADERS,
    METRIC_HEADERS,
    SHOP_HEADERS,
    SUMMARY_LABELS,
    VALUE_HEADERS,
    MetricNames,
    header_role,
    normal,
)
from jobs.ingest.values import (
    EMPTY,
    ValueProblem,
    is_empty,
    parse_date,
    parse_member,
    parse_number,
    shown,
    source_name_problem,
    stated_currency,
)

# metric, date, member ('' = team), value — and, when the file names shops or converts money:
# shop, original value, original currency (staging pads the short form)
StagedFact = tuple[str, date, str, float] | tuple[str, date, str, float, str, float | None, str | None]
_Problems = list[tuple[str, str | None]]  # a row's (reason, column) pairs
HEADER_SEARCH_ROWS = 20  # exports often start with a title or a date-range line


@dataclass(frozen=True)
class RowProblem:
    where: str  # "line 7", "row 7", "record 7"
    order: int
    reason: str
    column: str | None = None

    def __str__(self) -> str:
        column = f', column "{self.column}"' if self.column else ""
        return f"{self.where}{column}: {self.reason}"


@dataclass(frozen=True)
class MetricColumn:
    index: int
    header: str
    metric: str
    multiply: float = 1.0


@dataclass
class Layout:
    kind: str  # long | wide | mapped
    date_index: int
    date_header: str
    member_index: int | None = None
    member_header: str | None = None
    metric_index: int | None = None  # long form
    value_index: int | None = None  # long form
    metric_header: str = "metric"
    value_header: str = "value"
    metric_columns: tuple[MetricColumn, ...] = ()
    names: MetricNames | None = None
    mapping: Mapping | None = None
    tz: ZoneInfo | None = None
    label: str = "line"
    shop_index: int | None = None
    shop_header: str | None = None
    currency_index: int | None = None
    currency_header: str | None = None
    money: MoneyRules | None = None  # None: cells are read as plain numbers (no conversion)
    _width: int = field(init=False, repr=False, default=0)  # cells a row needs: the last used index + 1

    def __post_init__(self) -> None:
        used = (self.date_index, self.member_index, self.metric_index, self.value_index, self.shop_index,
                self.currency_index,
                *(column.index for column in self.metric_columns))
        self._width = max(index for index in used if index is not None) + 1

    def read(self, line: int, cells: list[Any]) -> tuple[list[StagedFact], list[RowProblem]]:
        """The facts of one data row, or every problem it has."""
        first = _first_filled(cells)
        if first is None or _is_summary_label(first):  # a blank or a totals row
            return [], []
        if len(cells) < self._width:  # a short row: the missing cells are empty
            cells = [*cells, *[None] * (self._width - len(cells))]
        problems: list[tuple[str, str | None]] = []  # (reason, column), turned into RowProblems if any
        day = self._date(cells, problems)
        member = self._member(cells, problems) if self.member_index is not None else ""
        values = self._long_values(cells, problems) if self.kind == "long" else self._wide_values(cells, problems)
        if problems or day is None:
            where = f"{self.label} {line}"
            return [], [RowProblem(where, line, reason, column) for reason, column in problems]
        if self.money is None:
            return [(metric, day, member, value) for metric, value, _ in values], []
        return self._in_reporting_currency(line, cells, day, member, values)

    def _in_reporting_currency(
        self, line: int, cells: list[Any], day: date, member: str, values: list[tuple[str, float, Any]],
    ) -> tuple[list[StagedFact], list[RowProblem]]:
        """Money converted at the rate for the row's date; the shop and the original amount kept."""
        assert self.money is not None
        problems: _Problems = []
        shop = self._shop(cells, problems)
        row_currency = self._text(cells, self.currency_index)
        out: list[StagedFact] = []
        for metric, value, raw in values:
            currency = stated_currency(raw) or row_currency
            converted = self.money.convert(metric, day, value, currency, shop)
            if isinstance(converted, Converted):
                out.append((metric, day, member, converted.value, shop, converted.original_value,
                            converted.original_currency))
            else:
                problems.append((converted, self.currency_header if not stated_currency(raw) else None))
        if problems:
            return [], [RowProblem(f"{self.label} {line}", line, reason, column) for reason, column in problems]
        return out, []

    def _shop(self, cells: list[Any], problems: _Problems) -> str:
        assert self.money is not None
        text = self._text(cells, self.shop_index)
        if not text:
            return ""
        key = self.money.shop_key(text)
        if reason := source_name_problem(key):
            problems.append((reason.replace("source", "shop"), self.shop_header))
        return key

    @staticmethod
    def _text(cells: list[Any], index: int | None) -> str | None:
        if index is None or is_empty(cells[index]):
            return None
        return str(cells[index]).strip()

    def _date(self, cells: list[Any], problems: _Problems) -> date | None:
        try:
            parsed = parse_date(cells[self.date_index], self.mapping.date_format if self.mapping else None,
                                self.tz)
        except ValueProblem as exc:
            problems.append((str(exc), self.date_header))
            return None
        if parsed is EMPTY:
            problems.append(("no date", self.date_header))
            return None
        return parsed  # type: ignore[return-value]

    def _member(self, cells: list[Any], problems: _Problems) -> str:
        assert self.member_index is not None
        try:
            member = parse_member(cells[self.member_index])
        except ValueProblem as exc:
            problems.append((str(exc), self.member_header))
            return ""
        if self.mapping and self.mapping.members:
            member = self.mapping.members.get(normal(member), member)
        return member

    def _long_values(self, cells: list[Any], problems: _Problems) -> list[tuple[str, float, Any]]:
        assert self.metric_index is not None and self.value_index is not None and self.names is not None
        raw_metric = cells[self.metric_index]
        metric = None
        if is_empty(raw_metric):
            problems.append(("no metric", self.metric_header))
        elif (metric := self.names.resolve(raw_metric)) is None:
            problems.append((f"unknown metric {shown(raw_metric)!r}", self.metric_header))
        try:
            value = parse_number(cells[self.value_index])
        except ValueProblem as exc:
            problems.append((str(exc), self.value_header))
            return []
        if value is EMPTY:
            problems.append(("no value", self.value_header))
            return []
        return [(metric, value, cells[self.value_index])] if metric else []  # type: ignore[list-item]

    def _wide_values(self, cells: list[Any], problems: _Problems) -> list[tuple[str, float, Any]]:
        out = []
        for column in self.metric_columns:
            try:
                value = parse_number(cells[column.index])
            except ValueProblem as exc:
                problems.append((str(exc), column.header))
                continue
            if value is not EMPTY:
                out.append((column.metric, value * column.multiply, cells[column.index]))  # type: ignore[operator]
        return out


def _first_filled(cells: list[Any]) -> Any:
    for cell in cells:
        if not is_empty(cell):
            return cell
    return None


def _is_summary_label(first: Any) -> bool:
    """The first filled cell of a totals row reads "Total", "合计" …"""
    return isinstance(first, str) and normal(first) in SUMMARY_LABELS


def looks_like_header(cells: list[Any], mapping: Mapping | None) -> bool:
    wanted = {normal(mapping.date)} if mapping else {normal(alias) for alias in DATE_HEADERS}
    return any(normal(cell) in wanted for cell in cells if isinstance(cell, str))


def build_layout(
    cells: list[Any], line: int, names: MetricNames, mapping: Mapping | None, *, tz: ZoneInfo | None = None,
    label: str = "line", money: MoneyRules | None = None,
) -> Layout | list[RowProblem]:
    """The layout the header row describes, or every problem with it."""
    headers = [str(cell).replace("\ufeff", "").strip() if cell is not None else "" for cell in cells]
    where = f"{label} {line} (header)" if line > 0 else "columns"  # line 0: a query's or a table's own columns
    if mapping is not None:
        layout = _mapped_layout(headers, where, line, names, mapping, tz, label)
    else:
        layout = _auto_layout(headers, where, line, names, tz, label)
    if isinstance(layout, Layout) and money is not None:
        layout.money = money
        for role, aliases in (("shop", SHOP_HEADERS), ("currency", CURRENCY_HEADERS)):
            position = next((i for i, h in enumerate(headers) if h and header_role(h, aliases)), None)
            if position is not None:
                setattr(layout, f"{role}_index", position)
                setattr(layout, f"{role}_header", headers[position])
        layout.__post_init__()
    return layout


def _mapped_layout(
    headers: list[str], where: str, line: int, names: MetricNames, mapping: Mapping, tz: ZoneInfo | None,
    label: str,
) -> Layout | list[RowProblem]:
    index: dict[str, int] = {}
    for position, header in enumerate(headers):
        index.setdefault(normal(header), position)
    problems = []

    def find(column: str) -> int | None:
        position = index.get(normal(column))
        if position is None:
            problems.append(RowProblem(where, line, f"column {column!r} (mapping {mapping.name}) is not in the file"))
        return position

    date_index = find(mapping.date)
    member_index = find(mapping.member) if mapping.member else None
    columns = []
    for column, spec in mapping.columns.items():
        found_at = find(column)
        if found_at is not None:
            columns.append(MetricColumn(found_at, headers[found_at], spec.metric, spec.multiply))
    if problems or date_index is None:
        return problems
    return Layout(
        kind="mapped", date_index=date_index, date_header=headers[date_index], member_index=member_index,
        member_header=headers[member_index] if member_index is not None else None,
        metric_columns=tuple(columns), names=names, mapping=mapping, tz=tz, label=label,
    )


def _auto_layout(
    headers: list[str], where: str, line: int, names: MetricNames, tz: ZoneInfo | None, label: str
) -> Layout | list[RowProblem]:
    problems: list[RowProblem] = []
    roles: dict[str, int] = {}
    metric_columns: list[MetricColumn] = []
    metric_seen: dict[str, str] = {}

    def problem(reason: str, column: str | None = None) -> None:
        problems.append(RowProblem(where, line, reason, column))

    for position, header in enumerate(headers):
        if not header:
            continue
        role = next(
            (name for name, aliases in (("date", DATE_HEADERS), ("member", MEMBER_HEADERS),
                                        ("metric", METRIC_HEADERS), ("value", VALUE_HEADERS),
                                        ("shop", SHOP_HEADERS), ("currency", CURRENCY_HEADERS))
             if header_role(header, aliases)),
            None,
        )
        if role is not None:
            if role in roles:
                problem(f"a second {role} column (the first is {headers[roles[role]]!r})", header)
            roles.setdefault(role, position)
            continue
        metric = names.resolve(header)
        if metric is None:
            problem("not a known metric, date or member column (a mapping in the KPI file can pick "
                    "the columns of any export)", header)
        elif metric in metric_seen:
            problem(f"metric {metric} again (already in column {metric_seen[metric]!r})", header)
        else:
            metric_seen[metric] = header
            metric_columns.append(MetricColumn(position, header, metric))
    if "date" not in roles:
        problem("no date column (name it date or 日期)")
    long_form = "metric" in roles or "value" in roles
    if long_form and not ("metric" in roles and "value" in roles):
        problem("a long-form file needs both a metric and a value column (date, metric, value[, member])")
    if long_form and metric_columns:
        names_ = ", ".join(column.header for column in metric_columns)
        problem(f"mixes long form (metric, value) with metric columns ({names_})")
    if not long_form and not metric_columns and "date" in roles:
        problem("no metric columns (e.g. gmv, orders, 订单数) and no metric/value pair")
    if problems:
        return problems
    member_index = roles.get("member")
    return Layout(
        kind="long" if long_form else "wide", date_index=roles["date"], date_header=headers[roles["date"]],
        member_index=member_index, member_header=headers[member_index] if member_index is not None else None,
        metric_index=roles.get("metric"), value_index=roles.get("value"),
        metric_header=headers[roles["metric"]] if long_form else "metric",
        value_header=headers[roles["value"]] if long_form else "value",
        metric_columns=tuple(metric_columns), names=names, tz=tz, label=label,
    )
