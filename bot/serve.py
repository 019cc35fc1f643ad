"""`kpibot serve`: one process with the HTTP server, the scheduler and the platform connections."""

from __future__ import annotations

import logging

from bot import __version__
from bot.http.server import ServerThread, freeze_start_up_heap
from bot.runtime import Runtime, build_http_app, build_runtime
from bot.shutdown import StopSignal, drain
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


def serve_forever(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT, then shut down gracefully (bot/shutdown.py). Returns the exit code:
    0 when the work in hand finished within KPIBOT_SHUTDOWN_GRACE, 1 otherwise."""
    stop = StopSignal()
    stop.install()
    runtime = build_runtime(settings, with_jobs=True)
    message = describe_platforms(runtime)
    (log.warning if not runtime.adapters else log.info)(message)
    server = ServerThread(build_http_app(runtime), settings.host, settings.port, grace=settings.shutdown_grace,
                          own_logging=True)
    start_background(runtime)
    try:
        server.start()
    except RuntimeError:
        log.error("could not listen on %s:%s (is the port taken?)", settings.host, settings.port)
        stop_background(runtime)
        return 1
    log.info("kpibot %s listening on http://%s:%s", __version__, settings.host, settings.port)
    freeze_start_up_heap()
    while not stop.event.wait(1.0):
        if not server.thread.is_alive():
            log.error("the HTTP server stopped on its own; shutting down")
            break
    log.info("%s received", stop.signal_name or "stop")
    finished = drain(runtime, server, settings.shutdown_grace)
    log.info("stopped%s", "" if finished else " with work left unfinished")
    return 0 if finished else 1
