"""`POST /api/v1/fx` — exchange rates into KPIBOT_CURRENCY by day or month, with the push API's token.

Body `{"rates": [{"currency": "CNY", "period": "2026-11", "rate": 0.1385}]}`: `period` is a month
(covers its days) or a day (wins over its month). Any bad rate rejects the request, listed by index;
nothing is written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from bot.http.push_api import answer_authorised, bearer
from storage.repositories.fx import FxProblem, RateSpan, rate_span, set_rates

if TYPE_CHECKING:
    from bot.runtime import Runtime

FX_PATH = "/api/v1/fx"
MAX_RATES = 10_000


def create_fx_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["data"])

    @router.post(FX_PATH, summary="Set exchange rates into KPIBOT_CURRENCY (by day or month)")
    async def push_rates(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> JSONResponse:
        return await answer_authorised(runtime, request, credentials, _handle)

    return router


def _handle(runtime: Runtime, body: bytes) -> JSONResponse:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("rates"), list) or set(payload) != {"rates"}:
        return _errors([{"index": None, "error": 'expected a JSON object {"rates": [{"currency", "period", "rate"}]}'}])
    items = payload["rates"]
    if len(items) > MAX_RATES:
        return JSONResponse({"error": f"at most {MAX_RATES:,} rates per request"}, status_code=413)
    spans: list[RateSpan] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict) or set(item) != {"currency", "period", "rate"}:
                raise FxProblem('expected an object {"currency": "CNY", "period": "2026-11", "rate": 0.1385}')
            spans.append(rate_span(str(item["currency"]), str(item["period"]), item["rate"]))
        except FxProblem as exc:
            errors.append({"index": index, "error": str(exc)})
    if errors:
        return _errors(errors)
    with runtime.db.session() as session:
        set_rates(session, spans, set_by="api")
    return JSONResponse({"accepted": len(spans)})


def _errors(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=400)
