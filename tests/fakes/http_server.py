"""The HTTP plumbing the fake platforms share: a threaded server on 127.0.0.1 (a free port) served
from daemon threads, started and stopped by `with`, and the one way their handlers write an answer."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalHttpServer:
    """Base of a fake: `handler` answers on 127.0.0.1; subclasses may append threads before `start`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, name: str, poll_interval: float = 0.5) -> None:
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
