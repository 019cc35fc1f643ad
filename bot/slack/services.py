"""What the Slack listeners share: the core, user lookup, posting, their threads and the ack watch."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.chat_kit.ack_watch import AckWatch
from bot.core.bot import KpiBot
from bot.core.request import CommandRequest, UserRef
from bot.slack.identity import SlackDirectory
from bot.slack.outbox import SlackOutbox
from bot.slack.translate import command_request
from jobs.drain import finish_within

log = logging.getLogger(__name__)

ACK_BUDGET_SECONDS = 2.0  # wait this long for an answer before acking "working on it…"


@dataclass
class SlackServices:
    """What the listeners share: the core, user lookup, posting, their threads and the ack watch."""

    core: KpiBot
    directory: SlackDirectory
    outbox: SlackOutbox
    listeners: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="kpibot-slack-listener")
    )
    ack_watch: AckWatch = field(default_factory=lambda: AckWatch(ACK_BUDGET_SECONDS))

    def user(self, user_id: str, name_hint: str | None = None) -> UserRef:
        return self.directory.user(user_id, name_hint)

    def command(self, raw_text: str, *, user: UserRef, channel: str | None, bot_user_id: str | None,
                conversation: str | None = None) -> CommandRequest:
        return command_request(
            raw_text, user=user, channel=channel, resolve_user=self.directory.user, bot_user_id=bot_user_id,
            conversation=conversation,
        )

    def is_admin(self, user: UserRef) -> bool:
        try:
            return bool(self.core.is_admin(user))
        except Exception:
            log.exception("is_admin failed")
            return False

    def close(self, timeout: float = 5.0) -> bool:
        """Let answers already taken finish (up to `timeout` seconds; the ack watch keeps time for them
        meanwhile), then stop. True when they all finished."""
        finished = finish_within(lambda: self.listeners.shutdown(wait=True), timeout, "Slack answers")
        self.ack_watch.stop()
        return finished
