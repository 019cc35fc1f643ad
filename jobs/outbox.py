"""Where scheduled posts go: a neutral outbox per platform, plus a file outbox for demo/console.

Jobs hand a neutral `Reply` to an `Outbox`; the Slack and Feishu adapters (bot/) implement it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class UpdatesMessages(Protocol):
    """An outbox that can replace a message it sent (an alert once acknowledged, snoozed or resolved)."""

    def update_message(self, channel: str, message_id: str, reply: Reply) -> None:
        """Replace message `message_id` (as `send` returned it) in `channel` by `reply`. Raise on failure."""
        ...


@runtime_checkable
class ThreadsReplies(Protocol):
    """An outbox whose platform has threads: Slack (`thread_ts`), Feishu (a reply to the message)."""

    def send_in_thread(self, channel: str, thread: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """Post `reply` in the thread of message `thread` (as `send` returned it); the posted message's id.
        Raises like `send` (`Throttled` on a rate limit)."""
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

    def send_in_thread(self, channel: str, thread: str, reply: Reply, *, idempotency_key: str | None = None) -> str:
        """A file beside the others whose first line names the file it answers."""
        path = Path(self.send(channel, reply, idempotency_key=idempotency_key))
        body = path.read_text(encoding="utf-8")
        path.write_text(f"↳ {Path(thread).name}\n\n{body}", encoding="utf-8")
        return str(path)

    def update_message(self, channel: str, message_id: str, reply: Reply) -> None:
        """Rewrite the file `send` wrote (its charts stay beside it)."""
        path = Path(message_id)
        if path.parent.resolve() != (self.folder / (channel or "default")).resolve() or path.suffix != ".md":
            raise ValueError(f"{message_id} is not a post of this outbox in {channel}")
        path.write_text(reply_markdown(reply) + "\n", encoding="utf-8")
