"""The test adapter (errbot-style): a test pushes a message as some user and pops the reply.

It drives the exact path the platform adapters use — a neutral `CommandRequest` into
`KpiBot.handle` — so a test of the command language is a test of what Slack and Feishu users get.
"""

from __future__ import annotations

from collections import deque

from bot.core.bot import KpiBot
from bot.core.contracts import ActionResult
from bot.core.request import ActionRequest, CommandRequest, UserRef, extract_typed_mentions
from jobs.present.reply import Reply


class TestAdapter:
    __test__ = False  # not a pytest test class

    def __init__(self, core: KpiBot, users: dict[str, UserRef] | None = None, channel: str = "C-test") -> None:
        self.core = core
        self.users = dict(users or {})
        self.channel = channel
        self.replies: deque[Reply] = deque()

    def user(
        self, name: str, email: str | None = None, *, platform: str = "test", user_id: str | None = None
    ) -> UserRef:
        """Register (or fetch) a chat user called `name`. On the `test` surface users are known by
        email only (like the console); give platform="slack"/"feishu" and an id to act as one."""
        if name not in self.users:
            self.users[name] = UserRef(platform, user_id or name, email=email, display_name=name)
        return self.users[name]

    def push(self, text: str, *, as_user: str | UserRef, channel: str | None = None,
             thread: str | None = None) -> None:
        """A message in `channel` (a DM-like conversation of its own), or in `thread` of it: follow-ups
        inherit the previous question of the same person in the same conversation."""
        user = as_user if isinstance(as_user, UserRef) else self.users[as_user]
        text, mentions = extract_typed_mentions(text, self.users.get)
        channel = channel or self.channel
        conversation = f"{channel}:{thread}" if thread else channel
        request = CommandRequest(text=text, user=user, channel=channel, mentions=mentions, conversation=conversation)
        self.replies.append(self.core.handle(request))

    def pop(self) -> Reply:
        return self.replies.popleft()

    def ask(self, text: str, *, as_user: str | UserRef, thread: str | None = None) -> Reply:
        self.push(text, as_user=as_user, thread=thread)
        return self.pop()

    def act(self, action_id: str, *, as_user: str, value: str = "", fields: dict[str, str] | None = None,
            lang: str | None = None) -> ActionResult:
        return self.core.handle_action(ActionRequest(self.users[as_user], action_id, value, dict(fields or {}),
                                                     self.channel, lang))
