"""A fake Slack on 127.0.0.1 — the boundary the Slack tests drive the real bot against.

`FakeSlack` is a real HTTP server (Web API methods under `/api/`, file-upload URLs under
`/upload/`, slash-command `response_url`s under `/hooks/`) plus a real websocket server for
Socket Mode (`apps.connections.open` returns its `ws://127.0.0.1:PORT/link` URL; it sends
`{"type": "hello"}`, then whatever envelopes a test queues, and records the acks).
Every call is recorded; `rate_limit_next("chat.postMessage")` makes the next call answer 429
with `Retry-After: 1` (`times`, `retry_after` for a storm). Posted messages are kept per channel with
their metadata, and `conversations.history` reads them back (or answers `missing_scope` when
`history_scope` is False).

`slack_signature` / `signed_headers` sign requests into the bot exactly as Slack does, and
`running_slack_bot` starts the real process (build_runtime + build_http_app + ServerThread).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.fakes.http_server import LocalHttpServer, send_reply

BOT_TOKEN = "xoxb-test-0000-bottoken-secretvalue"
SIGNING_SECRET = "test-signing-secret-8f742231b10e"
APP_TOKEN = "xapp-1-test-apptoken-secretvalue"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN)

BOT_USER_ID = "UBOT0KPI"
BOT_ID = "BBOT0KPI"
TEAM_ID = "T0KPI"
ADMIN_ID = "UADMIN01"
MEMBER_ID = "UMEMBER1"
ADMIN_EMAIL = "ada@example.com"
MEMBER_EMAIL = "mo@example.com"
CHANNEL_ID = "C0SALES1"


@dataclass
class ApiCall:
    """One request the fake received. `method` is the Web API method, `upload` or `hook`."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json_param(self, name: str) -> Any:
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) else value


class FakeSlack(LocalHttpServer):
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_connected = threading.Event()
        self.socket_sessions = 0  # websocket sessions opened so far
        self._live_sockets: list[ServerConnection] = []
        self._rate_limited: dict[str, int] = {}
        self._retry_after: dict[str, int] = {}
        self.history_scope = True
        # chat.postMessage accepted: channel, ts, text, metadata, thread_ts (None: top level), blocks
        self.posted: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []  # chat.update accepted: channel, ts, text, blocks
        self._failures: dict[str, str] = {}
        self.delays: dict[str, float] = {}  # method → seconds to wait before answering
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self.trigger_ids = itertools.count(13345224609)
        self._outgoing: queue.Queue[dict[str, Any]] = queue.Queue()
        super().__init__(_handler_for(self), name="fake-slack-http")
        self._ws = serve(self._socket_session, "127.0.0.1", 0, compression=None, ping_interval=None)
        self._threads.append(threading.Thread(target=self._ws.serve_forever, name="fake-slack-ws", daemon=True))
        self.add_user(ADMIN_ID, email=ADMIN_EMAIL, name="ada")
        self.add_user(MEMBER_ID, email=MEMBER_EMAIL, name="mo")

    # ---- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        super().stop()
        self._ws.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self._ws.socket.getsockname()[1]}/link/?ticket=fake"

    def response_url(self, key: str = "cmd") -> str:
        return f"{self.url}hooks/{key}"

    # ---- test controls ---------------------------------------------------------------------

    def add_user(self, user_id: str, *, email: str | None, name: str, locale: str | None = None) -> None:
        profile = {"display_name": name, "real_name": name.title(), **({"email": email} if email else {})}
        self.users[user_id] = {"id": user_id, "name": name, "real_name": name.title(), "profile": profile}
        if locale:  # Slack sends `locale` only when users.info is called with include_locale=true
            self.users[user_id]["_locale"] = locale

    def rate_limit_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        with self._changed:
            self._rate_limited[method] = times
            self._retry_after[method] = retry_after

    def retry_after(self, method: str) -> str:
        return str(self._retry_after.get(method, 1))

    def fail_next(self, method: str, error: str) -> None:
        """The next call to `method` answers `{"ok": false, "error": error}` (HTTP 200, as Slack)."""
        self._failures[method] = error

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        """Block until `count` calls to `method` arrived (fails the test after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [call for call in self.calls if call.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({call.method for call in self.calls})
                    pytest.fail(f"expected {count} {method} call(s), got {len(found)}; calls seen: {seen}")
                self._changed.wait(left)

    def send_envelope(self, envelope: dict[str, Any]) -> None:
        self._outgoing.put(envelope)

    def drop_sockets(self) -> None:
        """Cut every Socket Mode connection abruptly: the TCP connection goes, no close frame is sent
        (a network drop or a server crash, not Slack's polite `disconnect` message)."""
        import contextlib
        import socket

        with self._changed:
            live, self._live_sockets = self._live_sockets, []
        for connection in live:
            with contextlib.suppress(OSError):
                connection.socket.shutdown(socket.SHUT_RDWR)
            connection.socket.close()

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for ack in self.socket_acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"no Socket Mode ack for {envelope_id}")
                self._changed.wait(left)

    # ---- Web API -----------------------------------------------------------------------------

    def record(self, call: ApiCall) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def take_rate_limit(self, method: str) -> bool:
        with self._changed:
            left = self._rate_limited.get(method, 0)
            if left:
                self._rate_limited[method] = left - 1
            return bool(left)

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            error = self._failures.pop(method, None)
        if error:
            return {"ok": False, "error": error}
        number = next(self._ids)
        ts = f"{int(time.time())}.{number:06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": self.url,
                "team": "KPI Test",
                "user": "kpibot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if not user:
                return {"ok": False, "error": "user_not_found"}
            shown = {k: v for k, v in user.items() if k != "_locale"}
            if str(params.get("include_locale")).lower() in ("true", "1") and "_locale" in user:
                shown["locale"] = user["_locale"]
            return {"ok": True, "user": shown}
        if method in ("assistant.threads.setSuggestedPrompts", "assistant.threads.setTitle",
                      "assistant.threads.setStatus"):
            return {"ok": True}
        if method == "chat.postMessage":
            channel = str(params.get("channel"))
            metadata = params.get("metadata")
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            with self._changed:
                self.posted.append({"channel": channel, "ts": ts, "text": params.get("text"), "metadata": metadata,
                                    "thread_ts": params.get("thread_ts"), "blocks": _blocks(params.get("blocks"))})
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text"), "ts": ts}}
        if method == "conversations.history":
            return self._history(params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            with self._changed:
                self.updated.append({"channel": params.get("channel"), "ts": params.get("ts"),
                                     "text": params.get("text"), "blocks": _blocks(params.get("blocks"))})
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{number:08d}"
            return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files") or "[]")
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": f"V{number:08d}", **(params.get("view") or {})}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.history_scope:
            return {"ok": False, "error": "missing_scope", "needed": "channels:history,groups:history",
                    "provided": "chat:write,commands"}
        channel, oldest = str(params.get("channel")), float(params.get("oldest") or 0)
        limit, start = int(params.get("limit") or 100), int(params.get("cursor") or 0)
        with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
        with self._changed:
            # Like Slack: a thread's replies are not in the channel's history (only in conversations.replies).
            found = [m for m in reversed(self.posted)
                     if m["channel"] == channel and float(m["ts"]) >= oldest and not m.get("thread_ts")]
        page = found[start:start + limit]
        messages = [{"type": "message", "ts": m["ts"], "text": m["text"],
                     **({"metadata": m["metadata"]} if with_metadata and m["metadata"] else {})} for m in page]
        more = start + limit < len(found)
        return {"ok": True, "messages": messages, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    # ---- Socket Mode -------------------------------------------------------------------------

    def _socket_session(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0KPI"},
                    "debug_info": {"host": "fake"},
                }
            )
        )
        with self._changed:
            self.socket_sessions += 1
            self._live_sockets.append(connection)
            self._changed.notify_all()
        self.socket_connected.set()
        while True:
            try:
                while not self._outgoing.empty():
                    connection.send(json.dumps(self._outgoing.get_nowait()))
                message = connection.recv(timeout=0.02)
            except TimeoutError:
                continue
            except (ConnectionClosed, queue.Empty):
                return
            with self._changed:
                self.socket_acks.append(json.loads(message))
                self._changed.notify_all()


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            content_type = self.headers.get("Content-Type", "")
            if body and "json" in content_type:
                params.update(json.loads(body))
            elif body and "form" in content_type and not parts.path.startswith("/upload/"):
                params.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()})
            headers = {key.lower(): value for key, value in self.headers.items()}
            path = parts.path
            if path.startswith("/api/"):
                method = path.removeprefix("/api/")
                fake.record(ApiCall(method, path, params, headers, body))
                if method in fake.delays:
                    time.sleep(fake.delays[method])
                if fake.take_rate_limit(method):
                    self._reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": fake.retry_after(method)})
                    return
                self._reply(200, fake.answer(method, params))
            elif path.startswith("/upload/"):
                file_id = path.removeprefix("/upload/")
                fake.uploads[file_id] = body
                fake.record(ApiCall("upload", path, {"file_id": file_id}, headers, body))
                self._reply(200, f"OK - {len(body)}")
            elif path.startswith("/hooks/"):
                fake.record(ApiCall("hook", path, params, headers, body))
                self._reply(200, "ok")
            else:
                self._reply(404, {"ok": False, "error": "not_found"})

        def _reply(self, status: int, payload: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
            is_json = not isinstance(payload, str)
            data = (json.dumps(payload) if is_json else payload).encode("utf-8")
            send_reply(self, status, data, "application/json; charset=utf-8" if is_json else "text/plain", headers)

    return Handler


# ---- signing, as Slack does ------------------------------------------------------------------


def _blocks(blocks: Any) -> list[dict[str, Any]]:
    """Blocks as sent: a JSON string in a form post, a list in a JSON body."""
    if isinstance(blocks, str):
        return list(json.loads(blocks))
    return list(blocks or [])


def slack_signature(secret: str, timestamp: str | int, body: str | bytes) -> str:
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{raw}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    body: str | bytes,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": slack_signature(secret, stamp, body),
    }


# ---- the real bot against the fake -----------------------------------------------------------


def slack_settings(fake: FakeSlack | str, **extra: str) -> dict[str, str]:
    """Setting overrides (SPEC §2 names) pointing the bot's Slack side at `fake` (or an API URL)."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake if isinstance(fake, str) else fake.api_url,
        "SLACK_APP_TOKEN": "",
        "KPIBOT_ADMINS": f"slack:{ADMIN_ID}",
        "FEISHU_APP_ID": "",
        **extra,
    }


def isolate_environment(monkeypatch: pytest.MonkeyPatch, cwd: Path) -> None:
    """No proxies (WebClient reads them), no developer .env, no stray platform settings."""
    monkeypatch.chdir(cwd)
    for name in list(os.environ):
        upper = name.upper()
        if upper.endswith("_PROXY") or upper.startswith(("SLACK_", "FEISHU_", "KPIBOT_")) or upper == "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)


class SlackBot:
    """The running process seen from Slack's side: signed HTTP posts into `/slack/events`."""

    def __init__(self, runtime: Any, base_url: str, fake: FakeSlack) -> None:
        self.runtime = runtime
        self.fake = fake
        self.events_url = base_url + "/slack/events"
        self.http = httpx.Client(timeout=10, trust_env=False)

    @property
    def adapter(self) -> Any:
        return self.runtime.adapters["slack"]

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(self.events_url, content=body.encode("utf-8"), headers=headers)

    def post_signed(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = signed_headers(body, content_type=content_type)
        headers.update(extra_headers or {})
        return self.post(body, headers)

    def slash(
        self,
        text: str,
        *,
        user_id: str = MEMBER_ID,
        channel_id: str = CHANNEL_ID,
        response_url_key: str = "cmd",
        trigger_id: str | None = None,
        team_id: str = TEAM_ID,
    ) -> httpx.Response:
        """A signed slash command; each gets its own trigger_id unless one is given (Slack never repeats one)."""
        trigger_id = trigger_id or f"{next(self.fake.trigger_ids)}.738474920.{uuid.uuid4().hex}"
        body = urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": team_id,
                "team_domain": "kpitest",
                "channel_id": channel_id,
                "channel_name": "sales",
                "user_id": user_id,
                "user_name": self.fake.users.get(user_id, {}).get("name", "someone"),
                "command": "/kpi",
                "text": text,
                "api_app_id": "A0KPI",
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(response_url_key),
                "trigger_id": trigger_id,
            }
        )
        return self.post_signed(body)

    def event(self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None) -> httpx.Response:
        envelope = event_envelope(event, event_id=event_id)
        extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.post_signed(json.dumps(envelope), content_type="application/json", extra_headers=extra)

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        return self.post_signed(urlencode({"payload": json.dumps(payload)}))


def event_envelope(event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0KPI",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def message_event(
    text: str,
    *,
    user: str = MEMBER_ID,
    channel: str = CHANNEL_ID,
    kind: str = "app_mention",
    ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    stamp = ts or f"{time.time():.6f}"
    event = {"type": kind, "user": user, "text": text, "ts": stamp, "channel": channel, "event_ts": stamp}
    if kind == "message":
        event["channel_type"] = "im"
    event.update(extra)
    return event


@contextmanager
def running_slack_bot(settings: Any, fake: FakeSlack, workdir: Path) -> Iterator[SlackBot]:
    """The real process: runtime (migrated database, core, Slack adapter) behind uvicorn."""
    from bot.http.server import ServerThread
    from bot.runtime import build_http_app, build_runtime

    runtime = build_runtime(settings, file_outbox_dir=workdir / "outbox")
    # A slash command is answered in its ack unless a test shortens this (the late path's tests do): Slack's
    # 2 s would turn a test of the answer into a test of the late path on a loaded machine.
    runtime.adapters["slack"].services.ack_watch.budget = 8.0
    server = ServerThread(build_http_app(runtime)).start()
    for adapter in runtime.adapters.values():
        adapter.start()
    bot = SlackBot(runtime, server.url, fake)
    try:
        yield bot
    finally:
        bot.http.close()
        for adapter in runtime.adapters.values():
            adapter.stop()
        server.stop()
        runtime.db.dispose()


def poll(condition: Any, *, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Wait for `condition()` to be truthy (returns it) or fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(interval)
