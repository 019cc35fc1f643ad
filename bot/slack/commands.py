"""`/kpi <words>`: acknowledged within 3 s, always.

If the answer is ready within the ack budget (~2 s) it *is* the ack (ephemeral, or in_channel for
public replies). Otherwise the ack watch says "working on it…" (处理中… for Chinese) and the answer
follows through `response_url`. When the core asks for the
target form (`/kpi target` from an admin) the modal opens instead. Charts are uploaded to the
channel after the answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_bolt.context import BoltContext
from slack_sdk import WebClient

from bot.core.messages import T
from bot.core.request import UserRef
from bot.slack.blocks import message_payload
from bot.slack.errors import reason
from bot.slack.modal import open_target_form
from bot.slack.services import SlackServices
from jobs.present.i18n import has_chinese
from jobs.present.reply import Reply, ReplyKind

log = logging.getLogger(__name__)


def register(app: Any, services: SlackServices) -> None:
    @app.command(re.compile(r"^/"))
    def on_slash_command(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        answer_slash_command(
            services, ack=ack, body=body, respond=respond, client=client, bot_user_id=context.bot_user_id
        )


@dataclass(frozen=True)
class SlashAnswer:
    user: UserRef
    reply: Reply


def answer_slash_command(
    services: SlackServices,
    *,
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    bot_user_id: str | None = None,
) -> None:
    """The answer is worked out here, on the listener thread; if the ack budget runs out first, the
    ack watch sends "working on it…" and the answer goes through response_url."""
    raw_text = body.get("text") or ""
    finish = services.ack_watch.watch(lambda: ack(text=working_text(raw_text), response_type="ephemeral"))
    answer = prepare_answer(services, body, bot_user_id)
    if not finish():
        deliver_late(services, answer, body, respond, client)
        return
    if answer.reply.form == "target":
        ack()
        open_form_or_reply(services, answer, body, respond, client)
        return
    ack(response_type=response_type(answer.reply), **message_payload(answer.reply))
    upload_charts(services, body.get("channel_id"), answer.reply, respond)


def prepare_answer(services: SlackServices, body: dict[str, Any], bot_user_id: str | None = None) -> SlashAnswer:
    """Who asks, what they mean, and the core's reply. Never raises."""
    user = UserRef("slack", str(body.get("user_id") or ""), display_name=body.get("user_name"))
    try:
        user = services.user(body["user_id"], body.get("user_name"))
        request = services.command(  # follow-ups: the person's /kpi questions in this channel
            body.get("text") or "", user=user, channel=body.get("channel_id"), bot_user_id=bot_user_id,
            conversation=f"slash:{body.get('channel_id')}",
        )
        return SlashAnswer(user, services.core.handle(request))
    except Exception:
        log.exception("slash command failed")
        return SlashAnswer(user, apology(body.get("text") or ""))


def deliver_late(
    services: SlackServices, answer: SlashAnswer, body: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    """The answer after a "working on it…" ack: through response_url, then charts."""
    if answer.reply.form == "target":
        open_form_or_reply(services, answer, body, respond, client)
        return
    try:
        respond(response_type=response_type(answer.reply), **message_payload(answer.reply))
    except Exception as exc:
        log.warning("could not deliver a late answer via response_url: %s", reason(exc))
        return
    upload_charts(services, body.get("channel_id"), answer.reply, respond)


def open_form_or_reply(
    services: SlackServices, answer: SlashAnswer, body: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    """The core asked for the target form: open the modal, or (trigger expired) say how else."""
    trigger_id = body.get("trigger_id") or ""
    channel_id = body.get("channel_id") or None
    if trigger_id and open_target_form(
        client, services.core, answer.user, trigger_id=trigger_id, channel_id=channel_id, lang=answer.reply.lang
    ):
        return
    try:
        respond(text=form_failed_text(body.get("text") or ""), response_type="ephemeral")
    except Exception as exc:
        log.warning("could not tell the user the form failed: %s", reason(exc))


def upload_charts(
    services: SlackServices, channel_id: str | None, reply: Reply, respond: Respond | None = None
) -> None:
    """Charts and attached files (exports) into the channel the command was typed in. A file that could not be
    shared is told to the asker (the answer already said it is attached); a chart is only logged."""
    if not (reply.charts or reply.files) or not channel_id:
        return
    try:
        services.outbox.upload_charts(channel_id, reply.charts, files=reply.files)
    except Exception as exc:
        log.warning("chart or file upload to %s failed: %s", channel_id, reason(exc))
        if reply.files and respond is not None:
            try:
                respond(text=T("file_not_shared", reply.lang, error=reason(exc)), response_type="ephemeral",
                        replace_original=False)
            except Exception as again:
                log.warning("could not say the file was not shared: %s", reason(again))


def response_type(reply: Reply) -> str:
    return "in_channel" if reply.public else "ephemeral"


def _lang(text: str) -> str:
    return "zh" if has_chinese(text) else "en"


def working_text(text: str) -> str:
    return T("working", _lang(text))


def form_failed_text(text: str) -> str:
    return T("form_failed", _lang(text))


def apology(text: str) -> Reply:
    lang = _lang(text)
    return Reply(title=T("oops_title", lang), lang=lang, kind=ReplyKind.ERROR, text=T("oops", lang))
