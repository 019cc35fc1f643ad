"""`POST /api/v1/metrics` — the push API for actuals (SPEC §6).

Order of checks: API enabled (503 when KPIBOT_API_TOKEN is empty) → bearer token (401, constant
time) → body size (413 past 5 MB, by Content-Length and by what actually arrives) → JSON shape
(400) → record count (413 past 10,000) → every record (400 listing each bad one; nothing written)
→ one upsert per batch (200 {"accepted": N}). Validation and the database run in the thread pool.
"""

from __future__ import annotations

import difflib
import hmac
import json
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from jobs import observability
from jobs.ingest.currency import Money, convert_all, currency_code
from jobs.ingest.values import (
    MAX_MAGNITUDE,
    ValueProblem,
    iso_date,
    magnitude_problem,
    member_key_problem,
    source_name_problem,
    unicode_problem,
)
from storage.db import Database
from storage.kpi.registry import Registry
from storage.models import utcnow
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.sync_runs import record_run
from storage.settings import Settings

log = logging.getLogger(__name__)

PATH = "/api/v1/metrics"
MAX_RECORDS = 10_000
MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_SOURCE = "api"
RECORD_FIELDS = ("metric", "date", "value", "member", "source", "shop", "currency")
_KNOWN_FIELDS = frozenset(RECORD_FIELDS)


class AcceptedAnswer(BaseModel):
    accepted: int


class RecordError(BaseModel):
    index: int | None  # None: the body as a whole
    error: str


class ErrorsAnswer(BaseModel):
    errors: list[RecordError]


class MessageAnswer(BaseModel):
    error: str


REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["records"],
    "additionalProperties": False,
    "properties": {
        "records": {
            "type": "array",
            "maxItems": MAX_RECORDS,
            "items": {
                "type": "object",
                "required": ["metric", "date", "value"],
                "additionalProperties": False,
                "properties": {
                    "metric": {"type": "string", "description": "a raw metric name: gmv, orders, ad_spend …",
                               "example": "gmv"},
                    "date": {"type": "string", "format": "date", "example": "2026-10-01"},
                    "value": {"type": "number", "description": "a finite number (not a string)",
                              "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE,
                              "example": 12345.6},
                    "member": {"type": "string", "maxLength": 200,
                               "description": "member key (often the email); omit or '' for team-level",
                               "example": "alice@example.com"},
                    "source": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$", "default": "api",
                               "example": "tiktok-shop"},
                    "shop": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$",
                             "description": "shop key; omit for rows not tied to a shop", "example": "tiktok-us"},
                    "currency": {"type": "string", "example": "CNY",
                                 "description": "of a money value: a code (CNY) or symbol (¥); default the shop's "
                                                "currency, else KPIBOT_CURRENCY. Converted at the rate for the date"},
                },
            },
        }
    },
}

DESCRIPTION = f"""Push daily actuals. Records are upserted on (metric, date, member, source): pushing the
same record twice counts once; a corrected value replaces the earlier one.

Any invalid record rejects the whole batch (400, every bad record listed by index); nothing is
written. At most {MAX_RECORDS:,} records and 5 MB per request (413).

    curl -X POST $KPIBOT_URL/api/v1/metrics -H "Authorization: Bearer $KPIBOT_API_TOKEN" \\
      -H "Content-Type: application/json" \\
      -d '{{"records":[{{"metric":"gmv","date":"2026-10-01","value":12345.6,"member":"alice@example.com"}}]}}'
"""

class PushServices(Protocol):
    """What the push API needs from the process (the runtime has these)."""

    settings: Settings
    registry: Registry
    db: Database


bearer = HTTPBearer(auto_error=False, description="KPIBOT_API_TOKEN")


class _NonFinite(float):
    """NaN / Infinity in the JSON text: Python's json accepts them, the API does not."""


def create_push_router(runtime: PushServices) -> APIRouter:
    router = APIRouter(tags=["data"])

    @router.post(
        PATH,
        summary="Push metric actuals",
        description=DESCRIPTION,
        response_model=AcceptedAnswer,
        responses={
            400: {"model": ErrorsAnswer, "description": "invalid records (every one listed); nothing written"},
            401: {"model": MessageAnswer, "description": "missing or wrong bearer token"},
            413: {"model": MessageAnswer, "description": f"more than {MAX_RECORDS:,} records or 5 MB"},
            503: {"model": MessageAnswer, "description": "the push API is disabled (KPIBOT_API_TOKEN empty)"},
        },
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": REQUEST_SCHEMA}}}},
    )
    async def push_metrics(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> JSONResponse:
        return await answer_authorised(runtime, request, credentials, _handle)

    return router


Services = TypeVar("Services", bound=PushServices)


async def answer_authorised(
    runtime: Services, request: Request, credentials: HTTPAuthorizationCredentials | None,
    handle: Callable[[Services, bytes], JSONResponse],
) -> JSONResponse:
    """Token checked, body read within MAX_BODY_BYTES, then `handle` in the thread pool (metrics, fx)."""
    if refusal := auth_refusal(runtime, credentials):
        return refusal
    body = await read_body(request)
    if body is None:
        return _message(413, f"request body larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    return await run_in_threadpool(handle, runtime, body)


def auth_refusal(runtime: PushServices, credentials: HTTPAuthorizationCredentials | None) -> JSONResponse | None:
    """503 when the API is off, 401 for a missing or wrong token (constant-time), else None."""
    token = runtime.settings.api_token.get_secret_value()
    if not token:
        return _message(503, "The push API is disabled: set KPIBOT_API_TOKEN to enable it.")
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
        return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return None


async def read_body(request: Request) -> bytes | None:
    """The body, or None once it is known to pass MAX_BODY_BYTES (stops reading there)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _message(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


def _body_error(text: str) -> JSONResponse:
    return JSONResponse({"errors": [{"index": None, "error": text}]}, status_code=400)


def _handle(runtime: PushServices, body: bytes) -> JSONResponse:
    try:
        payload = json.loads(body, parse_constant=_NonFinite)
    except (ValueError, RecursionError):
        return _body_error('body is not valid JSON; expected {"records": [...]}')
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        return _body_error('expected a JSON object {"records": [...]}')
    if extra := sorted(set(payload) - {"records"}):
        return _body_error(f"unknown field(s) {', '.join(map(repr, extra))}; expected only records")
    items = payload["records"]
    if len(items) > MAX_RECORDS:
        return _message(413, f"{len(items):,} records; at most {MAX_RECORDS:,} per request — split the batch")
    records, errors = validate_records(items, runtime.registry.metrics)
    if errors:
        return JSONResponse({"errors": errors}, status_code=400)
    if records:
        try:
            records, refused = _in_reporting_currency(runtime, records)
            if refused:
                return JSONResponse({"errors": [{"index": i, "error": e} for i, e in refused]}, status_code=400)
            _store(runtime.db, records)
        except Exception:
            log.exception("push API: storing %d records failed", len(records))
            return _message(500, "the records could not be stored; nothing was written — try again")
    return JSONResponse({"accepted": len(records)})


def validate_records(items: list[Any], metrics: dict[str, Any]) -> tuple[list[FactRecord], list[dict[str, Any]]]:
    """The records, or every bad one by index. A batch repeats a handful of dates, members and sources
    thousands of times: a record whose every field is of a kind already seen valid in this batch (the
    usual one) is built at once; any other goes through `validate_record`, which names each problem."""
    records: list[FactRecord] = []
    errors: list[dict[str, Any]] = []
    days: dict[str, date] = {}
    members: set[str] = {""}
    names: set[str] = set()  # sources and shops, one rule for both
    for index, item in enumerate(items):
        if type(item) is dict and _KNOWN_FIELDS.issuperset(item) and "currency" not in item:
            metric, raw_day, value = item.get("metric"), item.get("date"), item.get("value")
            member, source, shop = item.get("member", ""), item.get("source", DEFAULT_SOURCE), item.get("shop", "")
            if (type(metric) is str and metric in metrics and type(raw_day) is str and raw_day in days
                    and (type(value) is float or type(value) is int) and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE
                    and type(member) is str and member in members and type(source) is str and source in names
                    and type(shop) is str and (shop == "" or shop in names)):
                records.append(FactRecord(metric, days[raw_day], float(value), member, source, shop))
                continue
        record, problems = validate_record(item, metrics)
        if problems:
            errors.append({"index": index, "error": "; ".join(problems)})
        elif record is not None:
            records.append(record)
            days[item["date"]] = record.date
            members.add(record.member)
            names.add(record.source)
            if record.shop:
                names.add(record.shop)
    return records, errors


def validate_record(item: Any, metrics: dict[str, Any]) -> tuple[FactRecord | None, list[str]]:
    """The record, or every reason it is invalid."""
    if not isinstance(item, dict):
        return None, ['expected an object {"metric", "date", "value", "member"?, "source"?}']
    problems = [] if _KNOWN_FIELDS.issuperset(item) else _unknown_fields(item)
    metric = item.get("metric")
    if metric is None:
        problems.append("metric is missing")
    elif isinstance(metric, str) and (reason := unicode_problem("metric", metric)):
        problems.append(reason)
    elif not isinstance(metric, str) or metric not in metrics:
        close = difflib.get_close_matches(str(metric).lower(), list(metrics), n=1) if isinstance(metric, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unknown metric {metric!r}{hint}")
    day: date | None = None
    if "date" not in item:
        problems.append("date is missing")
    else:
        try:
            day = iso_date(item["date"])
        except ValueProblem as exc:
            problems.append(str(exc))
    value = item.get("value")
    if type(value) is float and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        pass  # the common case, decided without the checks below
    elif "value" not in item:
        problems.append("value is missing")
    elif isinstance(value, _NonFinite) or (isinstance(value, int | float) and not _finite(value)):
        problems.append("value must be a finite number (not NaN or Infinity)")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"value must be a number, got {_json_kind(value)} {json.dumps(value)[:40]}")
    elif abs(value) > MAX_MAGNITUDE:
        problems.append(f"value {magnitude_problem(value)}")
    member = item.get("member")
    if member is None:
        member = ""
    elif not isinstance(member, str):
        problems.append("member must be a string (or omitted for team-level)")
    elif reason := member_key_problem(member):
        problems.append(reason)
    source = item.get("source")
    if source is None:
        source = DEFAULT_SOURCE
    elif reason := source_name_problem(source):
        problems.append(reason)
    shop = item.get("shop")
    if shop is None:
        shop = ""
    elif reason := source_name_problem(shop):
        problems.append(reason.replace("source", "shop"))
    currency = item.get("currency")
    if currency is not None and (not isinstance(currency, str) or currency_code(currency) is None):
        problems.append(f"currency must be a code such as CNY or a symbol such as ¥, got {shown_json(currency)}")
    if problems:
        return None, problems
    # original_currency holds the stated currency until _in_reporting_currency converts the value
    return FactRecord(metric=metric, date=day, value=float(value), member=member, source=source,  # type: ignore[arg-type]
                      shop=shop, original_currency=currency_code(currency) if currency else None), problems


def shown_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:40]


def _in_reporting_currency(
    runtime: PushServices, records: list[FactRecord],
) -> tuple[list[FactRecord], list[tuple[int, str]]]:
    """Money in another currency converted at its date's rate, or the records without a rate."""
    if not any(r.original_currency or r.shop for r in records):
        return records, []
    items = [Money(i, r.metric, r.date, r.value, r.original_currency or "", r.shop) for i, r in enumerate(records)]
    reporting = runtime.settings.currency
    with runtime.db.session() as session:
        converted, refused = convert_all(session, items, runtime.registry, reporting)
    if refused:
        return records, refused
    return [replace(r, value=c.value, original_value=c.original_value, original_currency=c.original_currency)
            for r, c in zip(records, converted, strict=True)], []


def _unknown_fields(item: dict[str, Any]) -> list[str]:
    return [f"unknown field {key!r}" for key in item if key not in RECORD_FIELDS]


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "an array" if isinstance(value, list) else "an object"


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _store(db: Database, records: list[FactRecord]) -> None:
    started = utcnow()
    with db.session() as session:
        upsert_facts(session, records)
        for source, batch in _by_source(records).items():
            written = len({(r.metric, r.date, r.member, r.shop) for r in batch})
            record_run(session, source=source, kind="api", started_at=started, ok=True, rows_read=len(batch),
                       rows_written=written, newest_date=max(r.date for r in batch))
            observability.record_run(source, ok=True, rows_written=written)


def _by_source(records: list[FactRecord]) -> dict[str, list[FactRecord]]:
    """The records of each source, in order of first appearance (a batch usually has just one)."""
    first = records[0].source
    if all(record.source == first for record in records):
        return {first: records}
    groups: dict[str, list[FactRecord]] = {}
    for record in records:
        groups.setdefault(record.source, []).append(record)
    return groups
