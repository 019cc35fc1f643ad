"""What each Feishu event does; shared by the webhook and the long connection.

Handlers run inside the SDK's dispatcher, which must answer Feishu within 3 s. A message is
therefore only claimed (dedupe on `event_id` and `message_id`, in the database) and handed to
an executor; the answer is a reply to that message, posted when the core is done. A card
callback must return its toast and new card in the HTTP answer itself: it runs on the executor
too and is awaited for `callback_deadline` seconds (2 s, leaving room for Feishu's round trip);
past that, Feishu gets a "working on it" toast and the clicked card is updated through the API
once the result is there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from bot.chat_kit.deadline import answer_within
from bot.core.bot import KpiBot
from bot.core.contracts import ACTION_SUBMIT_TARGET, ActionResult
from bot.core.messages import T
from bot.core.request import ActionRequest, CommandRequest, UserRef
from bot.feishu.cards import card_json
from bot.feishu.client import FeishuApi, FeishuApiError
from bot.feishu.forms import callback_answer, form_fields, target_form_card
from bot.feishu.identity import Identities
from bot.feishu.outbox import FeishuOutbox
from bot.feishu.translate import CardAction, message_id_of, parse_card_action, parse_message
from jobs.present.i18n import LANGS
from jobs.present.reply import Reply, ReplyKind

log = logging.getLogger(__name__)

PLATFORM = "feishu"
TEXT_ONLY_HINT = {lang: T("text_only", lang) for lang in LANGS}
WORKING = {lang: T("working", lang) for lang in LANGS}
SORRY = {lang: T("oops_title", lang) for lang in LANGS}
HELP_WORD = {lang: T("help_word", lang) for lang in LANGS}


class FeishuEvents:
    def __init__(
        self,
        *,
        core: KpiBot,
        api: FeishuApi,
        identities: Identities,
        outbox: FeishuOutbox,
        executor: Executor,
        locale: str = "en",
        callback_deadline: float = 2.0,
    ) -> None:
        self.core = core
        self.api = api
        self.identities = identities
        self.outbox = outbox
        self.executor = executor
        self.locale = locale if locale in WORKING else "en"
        self.callback_deadline = callback_deadline

    # -- handlers the SDK calls (their argument is the SDK's event object) ----------------------

    def on_message(self, data: Any) -> None:
        """`im.message.receive_v1`."""
        event = _event_dict(data)
        message_id = message_id_of(event)
        if not self._first_time(_event_id(data), message_id and f"message:{message_id}"):
            log.info("Feishu message %s already handled; redelivery ignored", message_id)
            return
        self._submit(self._answer_message, event)

    def on_bot_added(self, data: Any) -> None:
        """`im.chat.member.bot.added_v1`: say hello with the help card."""
        if self._first_time(_event_id(data)):
            self._submit(self._welcome, _event_dict(data), _event_id(data))

    def ignore(self, data: Any) -> None:
        """Subscribed events kpibot has nothing to do for (read receipts, bot removed …)."""
        log.debug("Feishu event %s ignored", getattr(getattr(data, "header", None), "event_type", "?"))

    def on_card_action(self, data: Any) -> dict[str, Any]:
        """`card.action.trigger`: the answer is sent back to Feishu as the HTTP response."""
        if not self._first_time(_event_id(data)):
            return {}
        action = parse_card_action(_event_dict(data))
        if action is None:
            return {}
        answer = answer_within(self.executor, lambda: self._run_action(action), self.callback_deadline,
                               lambda late: self._finish_late(late, action))
        if answer is None:
            return {"toast": {"type": "info", "content": WORKING[self.locale]}}
        return answer

    # -- work done on the executor --------------------------------------------------------------

    def _answer_message(self, event: dict[str, Any]) -> None:
        incoming = parse_message(event, self._bot_open_id())
        if incoming is None:
            return
        key = f"feishu-reply:{incoming.message_id}"
        if not incoming.is_text:
            if incoming.chat_type == "p2p":
                hint = Reply(title=TEXT_ONLY_HINT[self.locale], lang=self.locale, kind=ReplyKind.HINT)
                self.outbox.reply(incoming.message_id, hint, chat_id=incoming.chat_id, idempotency_key=key)
            return
        user = self.identities.user_ref(incoming.sender_open_id)
        mentions = [self.identities.user_ref(m.open_id, m.name) for m in incoming.mentions]
        request = CommandRequest(text=incoming.text, user=user, channel=incoming.chat_id, mentions=mentions,
                                 conversation=incoming.conversation)
        reply = self.core.handle(request)
        if reply.form == "target":
            form = self._target_form(user, reply.lang)
            if form is not None:
                self.outbox.reply_card(incoming.message_id, form, chat_id=incoming.chat_id, idempotency_key=key)
                return
        self.outbox.reply(incoming.message_id, reply, chat_id=incoming.chat_id, idempotency_key=key)

    def _welcome(self, event: dict[str, Any], event_id: str | None) -> None:
        chat_id = event.get("chat_id")
        open_id = (event.get("operator_id") or {}).get("open_id")
        if not chat_id:
            return
        user = self.identities.user_ref(open_id) if open_id else UserRef(PLATFORM, "unknown")
        reply = self.core.handle(CommandRequest(text=HELP_WORD[self.locale], user=user, channel=chat_id))
        self.outbox.send(chat_id, reply, idempotency_key=f"feishu-welcome:{event_id or chat_id}")

    def _run_action(self, action: CardAction) -> dict[str, Any]:
        try:
            user = self.identities.user_ref(action.open_id)
            fields = form_fields(action.form_value) if action.action_id == ACTION_SUBMIT_TARGET else {}
            result = self.core.handle_action(ActionRequest(
                user=user, action_id=action.action_id, value=action.value, fields=fields,
                channel=action.chat_id, lang=action.lang, message_id=action.message_id,
            ))
            return self._callback_answer(user, result, action.lang)
        except Exception:
            log.exception("Feishu card action %s failed", action.action_id)
            return {"toast": {"type": "error", "content": SORRY[self.locale]}}

    def _callback_answer(self, user: UserRef, result: ActionResult, lang: str | None) -> dict[str, Any]:
        reply = result.reply
        lang = reply.lang if reply is not None else (lang or self.locale)
        if result.ok and reply is not None and reply.form == "target":
            form = self._target_form(user, lang)
            if form is not None:
                answer: dict[str, Any] = {"card": {"type": "raw", "data": form}}
                if result.toast:
                    answer["toast"] = {"type": "info", "content": result.toast}
                return answer
        image_keys = self.outbox.upload_charts(reply) if reply is not None and result.ok else []
        return callback_answer(result, lang, image_keys)

    def _finish_late(self, answer: dict[str, Any], action: CardAction) -> None:
        card = (answer or {}).get("card")
        if not card or not action.message_id:
            return
        try:
            self.api.update_card(action.message_id, card_json(card["data"]))
        except Exception:
            log.exception("updating Feishu card %s after a slow action failed", action.message_id)

    def _target_form(self, user: UserRef, lang: str) -> dict[str, Any] | None:
        try:
            return target_form_card(self.core.target_form(user, lang), lang)
        except Exception:
            log.exception("building the Feishu target form failed")
            return None

    # -- helpers -----------------------------------------------------------------------------

    def _bot_open_id(self) -> str | None:
        try:
            return self.api.bot_open_id()
        except FeishuApiError as exc:
            log.warning("Feishu bot info unavailable (%s); recognising @mentions by their type", exc)
            return None

    def _first_time(self, *keys: str | None) -> bool:
        """Claims each key once (database-backed); False when any was claimed before."""
        return all(self.core.claim_event(PLATFORM, key) for key in keys if key)

    def _submit(self, work: Callable[..., None], *args: Any) -> None:
        def run() -> None:
            try:
                work(*args)
            except Exception:
                log.exception("Feishu %s failed", work.__name__.strip("_"))

        try:
            self.executor.submit(run)
        except RuntimeError:  # executor shut down: the process is stopping
            log.warning("Feishu work dropped: the adapter is stopping")


def _event_id(data: Any) -> str | None:
    header = getattr(data, "header", None)
    event_id = getattr(header, "event_id", None)
    return f"event:{event_id}" if event_id else None


def _event_dict(data: Any) -> dict[str, Any]:
    """The event body as plain JSON, whichever SDK class carried it."""
    event = getattr(data, "event", None)
    if isinstance(event, dict):
        return event
    if event is None:
        return {}
    from lark_oapi.core.json import JSON

    return json.loads(JSON.marshal(event) or "{}")
