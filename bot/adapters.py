"""What a platform adapter offers the process (HTTP endpoints, background clients, an outbox), and
how a platform folder describes itself to start-up (`Platform`, listed in `bot.platforms`).

`kpibot serve` mounts every adapter's endpoints on its one HTTP server (each handler is a plain
blocking function run in the server's thread pool, as Bolt's `App.dispatch` is), starts its
background clients (Socket Mode, Feishu long connection, DingTalk Stream) and registers its outbox
for jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from jobs.outbox import Outbox
from storage.settings import Settings

if TYPE_CHECKING:
    from bot.core.bot import KpiBot


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
    name: str  # "slack" | "feishu" | "dingtalk"

    def endpoints(self) -> list[HttpEndpoint]: ...

    def start(self) -> None:
        """Start background clients (Socket Mode / long connection); return at once."""
        ...

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop taking new events, then let answers under way finish for up to `timeout` seconds
        (graceful shutdown); True when they all did."""
        ...

    def connection_up(self) -> bool | None:
        """Whether the platform connection (Socket Mode, long connection, stream) is up; None when the
        platform only calls our HTTP endpoints. Read by /readyz and /metrics."""
        ...

    def outbox(self) -> Outbox: ...


@dataclass(frozen=True)
class Platform:
    """A platform folder's entry in the platform table. `create` imports the platform's SDK, so it is
    called only when `enabled(settings)`; everything else here stays cheap to import."""

    name: str
    enabled: Callable[[Settings], bool]
    describe: Callable[[Settings], str]  # how start-up names it: "Slack (Socket Mode)"
    create: Callable[[Settings, KpiBot], PlatformAdapter]
