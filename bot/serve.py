"""`kpibot serve`: one process with the HTTP server, the scheduler and the platform connections."""

from __future__ import annotations

import logging

from bot.http.server import serve_forever as run_http
from bot.runtime import Runtime, build_http_app, build_runtime
from storage.settings import Settings

log = logging.getLogger("kpibot.serve")

NO_PLATFORM = (
    "No chat platform is configured: set SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, FEISHU_APP_ID + "
    "FEISHU_APP_SECRET and/or DINGTALK_CLIENT_ID + DINGTALK_CLIENT_SECRET (see .env.example). Serving /healthz "
    "and the push API only. To try kpibot without a workspace, run `kpibot demo` or `kpibot console`."
)


def describe_platforms(runtime: Runtime) -> str:
    if not runtime.platforms:
        return NO_PLATFORM
    return "Platforms: " + ", ".join(platform.describe(runtime.settings) for platform in runtime.platforms.values())


def start_background(runtime: Runtime) -> None:
    for adapter in runtime.adapters.values():
        adapter.start()
    if runtime.jobs is not None:
        leader = runtime.jobs.start()
        log.info("scheduler: %s", "running here" if leader else "standing by (another process leads)")


def stop_background(runtime: Runtime) -> None:
    if runtime.jobs is not None:
        runtime.jobs.stop()
    for adapter in runtime.adapters.values():
        adapter.stop()


def serve_forever(settings: Settings) -> None:
    runtime = build_runtime(settings, with_jobs=True)
    message = describe_platforms(runtime)
    (log.warning if not runtime.adapters else log.info)(message)
    start_background(runtime)
    try:
        log.info("listening on http://%s:%s", settings.host, settings.port)
        run_http(build_http_app(runtime), settings.host, settings.port)
    finally:
        stop_background(runtime)
