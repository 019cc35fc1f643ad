"""Builds the process: settings → database → registry → core → platform adapters → HTTP app.

The platforms come from the platform table (`bot.platforms`); an adapter is created (and its SDK
imported: `import lark_oapi` alone costs seconds) only when its platform is configured, so
`kpibot --help` and the console stay fast. Adapters get the settings and the core, never the runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.adapters import Platform, PlatformAdapter
from bot.core.bot import KpiBot
from bot.platforms import enabled_platforms
from jobs.outbox import FileOutbox, Outbox
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.repositories.definitions import sync_definitions
from storage.settings import Settings

if TYPE_CHECKING:  # the HTTP stack loads with `build_http_app`, not for the CLI's one-shot answers
    from fastapi import FastAPI

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    registry: Registry
    core: KpiBot
    adapters: dict[str, PlatformAdapter] = field(default_factory=dict)
    platforms: dict[str, Platform] = field(default_factory=dict)  # the table's entries of `adapters`
    outboxes: dict[str, Outbox] = field(default_factory=dict)
    jobs: Any = None  # jobs.service.JobService when this process may run scheduled work

    def outbox_for(self, platform: str) -> Outbox | None:
        return self.outboxes.get(platform)


def build_runtime(
    settings: Settings,
    *,
    upgrade: bool = True,
    with_platforms: bool = True,
    with_jobs: bool = False,
    file_outbox_dir: Path | None = None,
) -> Runtime:
    db = Database(settings.database_url)
    if upgrade:
        db.upgrade()
    registry = load_registry(settings.kpis_file or None)
    if upgrade:  # replicas starting together would insert the same definitions: one at a time
        with db.schema_lock(), db.session() as session:
            sync_definitions(session, registry)
    outboxes: dict[str, Outbox] = {}  # shared by the core (`digest now`) and the jobs, filled below
    core = KpiBot(settings=settings, db=db, registry=registry, outboxes=outboxes)
    runtime = Runtime(settings=settings, db=db, registry=registry, core=core, outboxes=outboxes)
    runtime.outboxes["file"] = FileOutbox(file_outbox_dir or Path("kpibot-out"))
    if with_platforms:
        for platform in enabled_platforms(settings):
            adapter = platform.create(settings, core)
            runtime.platforms[platform.name] = platform
            runtime.adapters[platform.name] = adapter
            runtime.outboxes[platform.name] = adapter.outbox()
    if with_jobs:
        from jobs.service import JobService

        runtime.jobs = JobService(db=db, registry=registry, settings=settings, engine=core.engine,
                                  outboxes=runtime.outboxes, sync_source=_source_sync(settings))
        core.on_schedule_change.append(runtime.jobs.reschedule)
    return runtime


def _source_sync(settings: Settings) -> Callable[..., Any] | None:
    """Scheduled source syncs; Bitable sources read through the Feishu client when Feishu is set up."""
    if not settings.feishu_enabled:
        return None
    from bot.feishu.bitable import make_bitable_fetch
    from jobs.sources import sync_source

    return partial(sync_source, bitable_fetch=make_bitable_fetch(settings))


def build_http_app(runtime: Runtime) -> FastAPI:
    from bot.http.app import create_http_app
    from bot.http.fx_api import create_fx_router
    from bot.http.ops import OpsView, create_ops_router
    from bot.http.push_api import create_push_router

    endpoints = [endpoint for adapter in runtime.adapters.values() for endpoint in adapter.endpoints()]
    routers = [create_push_router(runtime), create_fx_router(runtime), create_ops_router(OpsView.of(runtime))]
    return create_http_app(ping=runtime.db.ping, endpoints=endpoints, extra_routers=routers)
