"""What a platform adapter offers the process: HTTP endpoints, background clients, an outbox.

`kpibot serve` mounts every adapter's endpoints on its one HTTP server (each handler is a plain
blocking function run in the server's thread pool, as Bolt's `App.dispatch` is), starts its
background clients (Socket Mode, Feishu long connection) and registers its outbox for jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from jobs.outbox import Outbox


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpEndpoint:
    """`handler(raw_body, headers, query_string)`; headers as received (any case)."""

    method: str
    path: str
    handler: Callable[[bytes, Mapping[str, str], str], HttpResponse]


class PlatformAdapter(Protocol):
    name: str  # "slack" | "feishu"

    def endpoints(self) -> list[HttpEndpoint]: ...

    def start(self) -> None:
        """Start background clients (Socket Mode / long connection); return at once."""
        ...

    def stop(self) -> None: ...

    def outbox(self) -> Outbox: ...
