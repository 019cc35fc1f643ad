"""The HTTP plumbing the fake platforms share: a threaded server on 127.0.0.1 (a free port) served
from daemon threads, started and stopped by `with`, and the one way their handlers write an answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

# How often serve_forever looks for `shutdown()`: stopping a fake waits up to this long. The stdlib's
# 0.5 s, paid by every test that starts a fake, added about a minute to the suite.
POLL_INTERVAL = 0.02


class LocalHttpServer:
    """Base of a fake: `handler` answers on 127.0.0.1; subclasses may append threads before `start`."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, name: str, poll_interval: float = POLL_INTERVAL
    ) -> None:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._http.daemon_threads = True
        self._threads = [
            threading.Thread(
                target=self._http.serve_forever, kwargs={"poll_interval": poll_interval}, name=name, daemon=True
            )
        ]

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    def start(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RecordingServer(LocalHttpServer):
    """A fake platform API: `handle(call)` answers with `route(call)` and records the call (its `status`
    set) in `calls`; tests `wait_for` what the fake saw. Subclasses guard their own state with `changed`."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, name: str, poll_interval: float = POLL_INTERVAL
    ) -> None:
        self.calls: list[Any] = []
        self.changed = threading.Condition()
        super().__init__(handler, name=name, poll_interval=poll_interval)

    def route(self, call: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def fake_error(self, exc: Exception) -> dict[str, Any]:
        """The body of a 500 when `route` raised: a bug in the fake or a malformed request, said loudly."""
        return {"error": f"fake error: {exc!r}"}

    def handle(self, call: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.changed:
            try:
                status, body, headers = self.route(call)
            except Exception as exc:
                status, body, headers = 500, self.fake_error(exc), {}
            call.status = status
            self.calls.append(call)
            self.changed.notify_all()
            return status, body, headers

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every request); return its value."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(call.method, call.path, call.status) for call in self.calls]
                    raise AssertionError(f"timed out after {timeout} s; calls: {seen}")
                self.changed.wait(min(remaining, 0.1))


def send_reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    data: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
