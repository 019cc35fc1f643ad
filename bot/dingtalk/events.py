"""What each DingTalk message or card press does; shared by Stream mode and the HTTP callback.

A robot message is claimed once by its `msgId` in the database (a redelivery, or the same message
seen by two replicas, is answered once), then answered on the executor, so the Stream ACK and the
HTTP 200 go back at once. A card press (alert acknowledge / snooze) runs on the executor and is
awaited `callback_deadline` seconds: the card is updated through the API either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from bot.chat_kit.deadline import answer_within
from bot.core.bot import KpiBot
from bot.core.messages import T as core_text
from bot.core.request import ActionRequest, CommandRequest, UserRef
from bot.dingtalk.identity import DingTalkDirectory
from bot.dingtalk.outbox import DingTalkOutbox
from bot.dingtalk.render import T
from bot.dingtalk.translate import CardPress, Incoming, mention_tokens, parse_card_callback, parse_message
from jobs.present.reply import Reply, ReplyKind

log = logging.getLogger(__name__)

PLATFORM = "dingtalk"


class DingTalkEvents:
    def __init__(
        self,
        *,
        core: KpiBot,
        outbox: DingTalkOutbox,
        directory: DingTalkDirectory,
        executor: Executor,
        locale: str = "en",
        callback_deadline: float = 2.0,
    ) -> None:
        self.core = core
        self.outbox = outbox
        self.directory = directory
        self.executor = executor
        self.locale = locale
        self.callback_deadline = callback_deadline

    def on_message(self, data: dict[str, Any]) -> bool:
        """A robot message; False when it is not one kpibot can read (nothing done)."""
        incoming = parse_message(data)
        if incoming is None:
            return False
        if not self.core.claim_event(PLATFORM, f"msg:{incoming.msg_id}"):
            log.info("DingTalk message %s already handled; redelivery ignored", incoming.msg_id)
            return True
        self._submit(self._answer, incoming)
        return True

    def on_card_callback(self, data: dict[str, Any]) -> dict[str, Any]:
        """A card button press; the answer is the callback's response (empty: the card is updated by API)."""
        press = parse_card_callback(data)
        if press is None:
            return {}
        answer_within(self.executor, lambda: self._safely(self._press, press), self.callback_deadline,
                      lambda _: None)
        return {}

    # -- work done on the executor --------------------------------------------------------------

    def _answer(self, incoming: Incoming) -> None:
        key = f"dingtalk-reply:{incoming.msg_id}"
        user = self.directory.user(incoming.sender_staff_id, incoming.sender_nick)
        if incoming.text is None:  # a picture or a file
            hint = Reply(title=core_text("text_only", self.locale), lang=self.locale, kind=ReplyKind.HINT)
            self.outbox.answer(incoming, hint, idempotency_key=key)
            return
        mentions = [self.directory.user(at.staff_id) for at in incoming.at_users]
        text = mention_tokens(incoming.text, [(i, m.display_name or "") for i, m in enumerate(mentions)])
        # Follow-ups belong to the chat (DingTalk groups have no threads): the person's questions in it.
        reply = self.core.handle(CommandRequest(text=text, user=user, channel=incoming.channel, mentions=mentions,
                                                conversation=incoming.channel))
        if reply.form == "target":
            reply = Reply(title=reply.title, lang=reply.lang, kind=ReplyKind.HINT, text=T("target_form", reply.lang))
        self.outbox.answer(incoming, reply, idempotency_key=key)

    def _press(self, press: CardPress) -> None:
        user = self.directory.user(press.staff_id)
        result = self.core.handle_action(ActionRequest(user=user, action_id=press.action_id, value=press.value,
                                                       message_id=press.card_id))
        if result.reply is not None and result.ok:
            self.outbox.update(press.card_id, result.reply)
            return
        note = result.toast or "\n".join(f"{name}: {text}" for name, text in result.field_errors.items())
        if note:
            self._tell(user, Reply(title=note, lang=self.locale, kind=ReplyKind.ERROR))

    def _tell(self, user: UserRef, reply: Reply) -> None:
        channel = self.outbox.direct_channel(user.user_id)
        if channel:
            self.outbox.send(channel, reply)

    @staticmethod
    def _safely(work: Callable[..., None], *args: Any) -> None:
        try:
            work(*args)
        except Exception:
            log.exception("DingTalk %s failed", work.__name__.strip("_"))

    def _submit(self, work: Callable[..., None], *args: Any) -> None:
        try:
            self.executor.submit(self._safely, work, *args)
        except RuntimeError:
            log.warning("DingTalk work dropped: the adapter is stopping")
