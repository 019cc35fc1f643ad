"""Operations endpoints: `GET /readyz` (may this replica take traffic?) and `GET /metrics` (Prometheus).

`/healthz` (in app.py) stays a liveness check: the process answers and reaches its database. `/readyz`
also wants the schema at the newest migration and every configured platform connection up (Socket
Mode, Feishu long connection, DingTalk stream); otherwise 503 with the reasons.

The gauges describing shared state are read at scrape time: ledger rows still `claimed` (a send begun
and never finished), whether this replica leads the scheduler, and each platform connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from bot import __version__
from storage.db import Database
from storage.repositories.ledger import claimed_count


@dataclass
class OpsView:
    """What the endpoints read, without holding the whole runtime."""

    db: Database
    adapters: Mapping[str, Any]
    is_leader: Callable[[], bool | None]  # None: this process runs no scheduler

    @classmethod
    def of(cls, runtime: Any) -> OpsView:  # a bot.runtime.Runtime
        return cls(db=runtime.db, adapters=runtime.adapters,
                   is_leader=lambda: None if runtime.jobs is None else bool(runtime.jobs.is_leader))


def connection_states(adapters: Mapping[str, Any]) -> dict[str, bool]:
    """platform → connection up, for adapters that keep one open (an adapter answering only over HTTP
    has `connection_up()` return None, or no such method, and is left out)."""
    states = {}
    for name, adapter in adapters.items():
        probe = getattr(adapter, "connection_up", None)
        state = probe() if probe is not None else None
        if state is not None:
            states[name] = bool(state)
    return states


def readiness_problems(view: OpsView) -> list[str]:
    if not view.db.ping():
        return ["database unavailable"]
    problems = []
    try:
        if not view.db.migrations_current():
            problems.append("database schema is not at the newest migration: run `kpibot db upgrade`")
    except Exception as exc:  # a broken alembic_version table is not ready either
        problems.append(f"cannot read the schema version ({type(exc).__name__})")
    problems.extend(f"{name} connection down" for name, up in connection_states(view.adapters).items() if not up)
    return problems


class StateCollector(Collector):
    def __init__(self, view: OpsView) -> None:
        self.view = view

    def collect(self) -> Iterator[Any]:
        info = InfoMetricFamily("kpibot_build", "kpibot version")
        info.add_metric([], {"version": __version__})
        yield info
        claimed = GaugeMetricFamily("kpibot_ledger_claimed_rows",
                                    "Scheduled sends claimed but not recorded as sent or failed")
        try:
            with self.view.db.session() as session:
                claimed.add_metric([], float(claimed_count(session)))
        except Exception:
            pass  # no sample: the database is down, which /readyz reports
        yield claimed
        leader = self.view.is_leader()
        if leader is not None:
            yield GaugeMetricFamily("kpibot_leader", "1 while this replica runs the scheduler", value=int(leader))
        up = GaugeMetricFamily("kpibot_platform_connection_up", "1 while a platform connection is up",
                               labels=["platform"])
        for name, state in connection_states(self.view.adapters).items():
            up.add_metric([name], int(state))
        yield up


def create_ops_router(view: OpsView) -> APIRouter:
    router = APIRouter(tags=["ops"])
    registry = CollectorRegistry()
    registry.register(StateCollector(view))

    @router.get("/readyz")
    def readyz() -> Response:
        problems = readiness_problems(view)
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics")
    def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
