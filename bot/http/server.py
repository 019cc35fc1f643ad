"""Runs the HTTP app with uvicorn in a thread: for `serve` (whose main thread handles signals), tests, bench."""

from __future__ import annotations

import gc
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI


def freeze_start_up_heap() -> None:
    """Start-up's objects (modules, the registry, the app: hundreds of thousands) leave the cyclic
    collector's generations for good, so a request allocating many objects (a 10,000-record push)
    no longer triggers full collections that walk all of them again. Call once, when built."""
    gc.collect()
    gc.freeze()


class ServerThread:
    """A real uvicorn server on 127.0.0.1 in a background thread; `port=0` picks a free port."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, *, grace: float | None = None,
                 own_logging: bool = False) -> None:
        """`grace`: seconds requests under way may take once stopping; `own_logging`: leave log handlers
        as the process configured them (`kpibot serve`) instead of uvicorn's own."""
        self.host = host
        self.port = port or free_port(host)
        logging_options: dict[str, Any] = {"log_config": None} if own_logging else {"log_level": "warning"}
        config = uvicorn.Config(
            app, host=host, port=self.port, lifespan="off",
            timeout_graceful_shutdown=grace,  # type: ignore[arg-type]  # typed int; uvicorn waits a float as well
            **logging_options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="http-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
