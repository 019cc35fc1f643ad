"""`kpibot serve`: one process with the HTTP server, the scheduler and the platform connections."""

from __future__ import annotations

import logging

from bot.http.server import serve_forever as run_http
from bot.runtime import Runtime, build_http_app, build_runtime
from storage.settings import Settings

log = logging.getLogger("kpibot.serve")

NO_PLATFORM = (
    "No chat platform is configured: set SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET and/or FEISHU_APP_ID + "
    "FEISHU_APP_SECRET (see .env.example). Serving /healthz and the push API only. "
    "To try kpibot without a workspace, run `kpibot demo` or `kpibot console`."
)


def describe_platforms(runtime: Runtime) -> str:
    if not runtime.adapters:
        return NO_PLATFORM
    parts = []
    settings = runtime.settings
    if "slack" in runtime.adapters:
        mode = "Socket Mode" if settings.slack_app_token.get_secret_value() else "HTTP at POST /slack/events"
        parts.append(f"Slack ({mode})")
    if "feishu" in runtime.adapters:
        mode = "long connection" if settings.feishu_mode == "ws" else "webhook at POST /feishu/events"
        parts.append(f"Feishu/Lark {settings.feishu_domain} ({mode})")
    return "Platforms: " + ", ".join(parts)


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
