"""A server in its own process, as in production, for the HTTP benchmarks:

    python -m bench.server kpibot --database URL [--api-token T] [--slack-api URL] [--feishu-api URL --feishu-app ID]
                                  [--outbox DIR]
    python -m bench.server bolt --slack-api URL
    python -m bench.server lark

`kpibot` is the real process (build_runtime + build_http_app + ServerThread, Slack adapter when
--slack-api is given); `bolt` is the ack baseline: a bare Bolt App whose /kpi listener acks at once,
mounted on the same HTTP stack (create_http_app: async route → thread pool → App.dispatch → uvicorn);
`lark` is the Feishu ack baseline: a bare lark-oapi EventDispatcherHandler (same Encrypt Key and
verification token, a no-op `im.message.receive_v1` handler) on the same HTTP stack.
Prints `READY <port>`, serves until stdin closes, then prints `RSS <peak MB>` and exits.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bench.harness import REPO_DIR, clean_env, drop_proxies, peak_rss_mb
from bot.http.server import ServerThread, freeze_start_up_heap

SIGNING_SECRET = "bench-signing-secret-0000"
BOT_TOKEN = "xoxb-bench-0000-token"
FEISHU_SECRET = "bench-feishu-app-secret-0000"
FEISHU_ENCRYPT_KEY = "bench-feishu-encrypt-key-0000"
FEISHU_TOKEN = "bench-feishu-verification-token"


def kpibot_app(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bot.runtime import build_http_app, build_runtime
    from storage.settings import load_settings

    overrides = {"DATABASE_URL": args.database, "KPIBOT_API_TOKEN": args.api_token or "", "FEISHU_APP_ID": ""}
    if args.slack_api:
        overrides.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                          "SLACK_API_URL": args.slack_api, "SLACK_APP_TOKEN": ""})
    if args.feishu_api:
        overrides.update({"FEISHU_APP_ID": args.feishu_app, "FEISHU_APP_SECRET": FEISHU_SECRET,
                          "FEISHU_ENCRYPT_KEY": FEISHU_ENCRYPT_KEY, "FEISHU_VERIFICATION_TOKEN": FEISHU_TOKEN,
                          "FEISHU_DOMAIN": args.feishu_api, "FEISHU_MODE": "http", "KPIBOT_TIMEZONE": "UTC"})
    settings = load_settings(_env_file=None, **overrides)
    runtime = build_runtime(settings, upgrade=True, with_platforms=bool(args.slack_api or args.feishu_api),
                            file_outbox_dir=Path(args.outbox) if args.outbox else None)
    for adapter in runtime.adapters.values():
        adapter.start()
    return build_http_app(runtime)


def bolt_app(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from slack_bolt import App, BoltRequest
    from slack_sdk import WebClient

    from bot.adapters import HttpEndpoint, HttpResponse
    from bot.http.app import create_http_app
    from bot.slack.adapter import http_response

    base_url = args.slack_api if args.slack_api.endswith("/") else args.slack_api + "/"
    app = App(client=WebClient(token=BOT_TOKEN, base_url=base_url), signing_secret=SIGNING_SECRET)

    @app.command("/kpi")
    def ack_at_once(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    def handle(body: bytes, headers: Mapping[str, str], query: str) -> HttpResponse:
        request = BoltRequest(body=body.decode("utf-8"), query=query or None, headers=dict(headers))
        return http_response(app.dispatch(request))

    return create_http_app(ping=lambda: True, endpoints=[HttpEndpoint("POST", "/slack/events", handle)])


def lark_app(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    import lark_oapi as lark
    from lark_oapi.core.model import RawRequest

    from bot.adapters import HttpEndpoint, HttpResponse
    from bot.feishu.webhook import EVENTS_PATH, sdk_headers
    from bot.http.app import create_http_app

    def receive(_data) -> None:  # type: ignore[no-untyped-def]
        pass

    dispatcher = (lark.EventDispatcherHandler.builder(FEISHU_ENCRYPT_KEY, FEISHU_TOKEN)
                  .register_p2_customized_event("im.message.receive_v1", receive).build())

    def handle(body: bytes, headers: Mapping[str, str], query: str) -> HttpResponse:
        request = RawRequest()
        request.uri = EVENTS_PATH
        request.body = body
        request.headers = sdk_headers(headers)  # the SDK looks headers up by their exact spelling
        response = dispatcher.do(request)
        return HttpResponse(int(response.status_code or 500), bytes(response.content or b""),
                            {"Content-Type": "application/json; charset=utf-8"})

    return create_http_app(ping=lambda: True, endpoints=[HttpEndpoint("POST", EVENTS_PATH, handle)])


class ServerProcess:
    """`python -m bench.server …` as a child: started on enter, stopped (and its peak RSS read) on exit."""

    command_prefix = (sys.executable, "-m", "bench.server")

    def __init__(self, kind: str, *args: str) -> None:
        self.command = [*self.command_prefix, kind, *args]
        self.port = 0
        self.peak_rss_mb = 0.0
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=clean_env(), cwd=REPO_DIR)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("READY "):
                self.port = int(line.split()[1])
                return self
        self.process.wait()
        raise RuntimeError(f"{' '.join(self.command[2:])} did not start (exit {self.process.returncode})")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None and self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        for line in self.process.stdout:
            if line.startswith("RSS "):
                self.peak_rss_mb = float(line.split()[1])
        self.process.wait(timeout=60)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("kind", choices=("kpibot", "bolt", "lark"))
    parser.add_argument("--database", default="sqlite://")
    parser.add_argument("--api-token", default="")
    parser.add_argument("--slack-api", default="")
    parser.add_argument("--feishu-api", default="")
    parser.add_argument("--feishu-app", default="cli_bench")
    parser.add_argument("--outbox", default="")
    args = parser.parse_args(argv)
    drop_proxies()
    logging.basicConfig(level=logging.WARNING)
    app = {"kpibot": kpibot_app, "bolt": bolt_app, "lark": lark_app}[args.kind](args)
    server = ServerThread(app).start()
    if args.kind == "kpibot":
        freeze_start_up_heap()  # as `kpibot serve` does once started
    print(f"READY {server.port}", flush=True)
    sys.stdin.read()
    server.stop()
    print(f"RSS {peak_rss_mb()}", flush=True)


if __name__ == "__main__":
    main()
