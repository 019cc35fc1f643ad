"""Where scheduled posts go: a neutral outbox per platform, plus a file outbox for demo/console.

Jobs hand a neutral `Reply` to an `Outbox`; the Slack and Feishu adapters (bot/) implement it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from jobs.present.markdown import reply_markdown
from jobs.present.reply import Reply


@dataclass(frozen=True)
class ChannelRef:
    """A place to post: `platform` is slack | feishu | file; `channel` is its id there."""

    platform: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}"

    @classmethod
    def parse(cls, text: str) -> ChannelRef:
        platform, _, channel = text.partition(":")
        return cls(platform, channel)


class Outbox(Protocol):
    platform: str

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` to `channel`; return the platform's message id. Raise on failure."""
        ...

    def direct_channel(self, user_id: str) -> str | None:
        """The channel (in this outbox's addressing) that reaches this platform user alone, or None."""
        ...


class FileOutbox:
    """Writes each post as markdown plus its charts as PNG into a folder (demo, console, tests)."""

    platform = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, channel: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        target = self.folder / (channel or "default")
        target.mkdir(parents=True, exist_ok=True)
        stem = (idempotency_key or reply.title).replace("/", "_").replace(":", "_").replace(" ", "_")
        lines = [reply_markdown(reply)]
        for chart in reply.charts:
            (target / chart.name).write_bytes(chart.png)
            lines.append(f"\n![{chart.title or chart.name}]({chart.name})")
        path = target / f"{stem}.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    def direct_channel(self, user_id: str) -> str | None:
        return None
