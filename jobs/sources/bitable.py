"""A Feishu Bitable table as rows: every page of records, each field converted to a plain value.

jobs/ never talks to Feishu itself: the caller passes `fetch(app_token, table_id, view_id,
page_token) -> (items, has_more, next_page_token)` (bot/feishu/bitable.py builds one with lark-oapi).

Field values as the Open API gives them: numbers plain; dates as ms timestamps (read in the team
timezone); text as [{"text": …}]; people as [{"id", "name", "email"}] (→ the email, the member
key); formula / lookup fields as {"type": …, "value": [...]}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jobs.ingest.layout import RowProblem
from jobs.ingest.mapping import Mapping
from jobs.ingest.names import normal

BitableFetch = Callable[[str, str, str | None, str | None], tuple[list[dict[str, Any]], bool, str | None]]
MAX_PAGES = 1000  # 500 000 records: far past any Bitable table's limit


class BitableError(RuntimeError):
    pass


def records(fetch: BitableFetch, app_token: str, table_id: str, view_id: str | None) -> Iterator[dict[str, Any]]:
    page_token: str | None = None
    for _ in range(MAX_PAGES):
        items, has_more, next_token = fetch(app_token, table_id, view_id, page_token)
        yield from items
        if not has_more:
            return
        if not next_token or next_token == page_token:
            raise BitableError("Bitable said there are more records but gave no new page_token")
        page_token = next_token
    raise BitableError(f"Bitable table has more than {MAX_PAGES} pages; stopped")


def bitable_rows(
    items: Iterator[dict[str, Any]], mapping: Mapping, tz: ZoneInfo
) -> tuple[tuple[int, list[Any]], Iterator[tuple[int, list[Any] | RowProblem]]]:
    """(header, rows) for the ingest pipeline: the header is the mapping's field names."""
    columns = [mapping.date, *([mapping.member] if mapping.member else []), *mapping.columns]
    header = (0, list(columns))

    def rows() -> Iterator[tuple[int, list[Any] | RowProblem]]:
        for number, item in enumerate(items, start=1):
            fields = {normal(name): value for name, value in (item.get("fields") or {}).items()}
            where = f"record {number} ({item.get('record_id', '?')})"
            try:
                cells = [_date_cell(fields.get(normal(mapping.date)), tz)]
                if mapping.member:
                    cells.append(_member_cell(fields.get(normal(mapping.member))))
                cells += [plain_value(fields.get(normal(column))) for column in mapping.columns]
            except ValueError as exc:
                yield number, RowProblem(where, number, str(exc))
                continue
            yield number, cells

    return header, rows()


def plain_value(value: Any) -> Any:
    """A field value as a plain number or string (None when empty)."""
    if isinstance(value, dict):
        if "value" in value:  # formula / lookup
            return plain_value(value["value"])
        if "text" in value:
            return value["text"]
        return value.get("link") or value.get("name")
    if isinstance(value, list):
        if not value:
            return None
        if all(isinstance(part, dict) and "text" in part for part in value):
            return "".join(str(part["text"]) for part in value)
        if len(value) == 1:
            return plain_value(value[0])
        return " ".join(str(plain_value(part)) for part in value)
    return value


def _date_cell(value: Any, tz: ZoneInfo) -> Any:
    value = plain_value(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > 10**11:
        return datetime.fromtimestamp(value / 1000, tz).date()
    return value


def _member_cell(value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(p, dict) and ("email" in p or "id" in p) for p in value):
        if len(value) > 1:
            names = ", ".join(str(p.get("name") or p.get("id")) for p in value)
            raise ValueError(f"several people ({names}) in the member field; one expected")
        person = value[0]
        email = person.get("email")
        if not email:
            raise ValueError(
                f"{person.get('name') or person.get('id')!s} has no email in Feishu (give the app the "
                "contact email permission, or use a text field for the member)"
            )
        return email
    return plain_value(value)
