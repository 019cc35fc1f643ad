"""The HTTP app: health, platform endpoints (mounted from adapters), the push API.

Platform handlers are blocking (Bolt's `App.dispatch`, lark's `EventDispatcherHandler.do`), so
their routes are plain `def` functions that Starlette runs in its thread pool: the event loop
never stalls while one request waits on the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot import __version__
from bot.adapters import HttpEndpoint, HttpResponse
from jobs.observability import log_context, observe_ack

log = logging.getLogger(__name__)


def create_http_app(
    *,
    ping: Callable[[], bool],
    endpoints: list[HttpEndpoint],
    extra_routers: list | None = None,  # FastAPI APIRouters (push API …)
) -> FastAPI:
    app = FastAPI(title="kpibot", version=__version__, docs_url=None, redoc_url=None)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> Response:
        if ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    for endpoint in endpoints:
        app.add_api_route(
            endpoint.path,
            _route_for(endpoint),
            methods=[endpoint.method],
            include_in_schema=False,
        )
    for router in extra_routers or []:
        app.include_router(router)
    return app


def _route_for(endpoint: HttpEndpoint) -> Callable[..., Awaitable[Response]]:
    platform = endpoint.path.strip("/").split("/")[0] or "http"  # /slack/events → slack

    # Starlette reads the body asynchronously; the handler itself runs in the thread pool. The time to
    # the handler's response is the platform's ack latency (Bolt returns as soon as a listener acks).
    async def route(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers.items())
        query = request.url.query
        started = time.perf_counter()
        try:
            result: HttpResponse = await run_in_threadpool(_observed, endpoint, platform, body, headers, query)
        except Exception:
            log.exception("handler for %s failed", endpoint.path)
            return Response(status_code=500)
        finally:
            observe_ack(platform, time.perf_counter() - started)
        return Response(content=result.body, status_code=result.status, headers=result.headers)

    route.__name__ = f"route_{endpoint.path.strip('/').replace('/', '_')}"
    return route


def _observed(endpoint: HttpEndpoint, platform: str, body: bytes, headers: dict[str, str], query: str) -> HttpResponse:
    """The handler, with log lines carrying the platform and a request id (X-Request-Id when a proxy set one)."""
    request_id = "".join(ch for ch in headers.get("x-request-id", "")[:64] if ch.isalnum() or ch in "-_.")
    with log_context(platform=platform, request_id=request_id):
        return endpoint.handler(body, headers, query)
