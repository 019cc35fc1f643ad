"""Buttons (block_actions) and the target modal's submission (view_submission).

Buttons route their action_id / value unchanged to `KpiBot.handle_action`. Alert acknowledge /
snooze update the alert message in place; other answers go to the presser alone (ephemeral, or
their DM when the button sits on App Home). The modal's field errors come back as
`response_action: errors` keyed by field; a success closes it and confirms in the channel it was
opened from.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core.contracts import (
    ACTION_ALERT_ACK,
    ACTION_ALERT_SNOOZE,
    ACTION_OPEN_TARGET_FORM,
    ACTION_SUBMIT_TARGET,
    ActionResult,
)
from bot.core.request import ActionRequest, UserRef
from bot.slack.blocks import message_payload, routed_action_id
from bot.slack.errors import reason
from bot.slack.modal import CALLBACK_ID, open_target_form, origin_channel, slack_errors, submitted_fields
from bot.slack.services import SlackServices
from jobs.present.reply import Reply, ReplyKind

log = logging.getLogger(__name__)

UPDATES_MESSAGE = frozenset({ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE})


def register(app: Any, services: SlackServices) -> None:
    @app.action(re.compile(r".+"))
    def on_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        press_button(services, body=body, action=action, respond=respond, client=client)

    @app.view(CALLBACK_ID)
    def on_target_form_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submit_target_form(services, ack=ack, body=body, view=view, client=client)


def press_button(
    services: SlackServices, *, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    user = services.user(body["user"]["id"], body["user"].get("username") or body["user"].get("name"))
    action_id = routed_action_id(str(action.get("action_id") or ""))
    container = body.get("container") or {}
    channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if action_id == ACTION_OPEN_TARGET_FORM and services.is_admin(user):
        open_target_form(client, services.core, user, trigger_id=body["trigger_id"], channel_id=channel_id)
        return
    message_ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    request = ActionRequest(user=user, action_id=action_id, value=str(action.get("value") or ""), channel=channel_id,
                            message_id=message_ts)
    result = services.core.handle_action(request)
    if result.reply is not None:
        if action_id in UPDATES_MESSAGE and channel_id and message_ts:
            try:
                client.chat_update(channel=channel_id, ts=message_ts, **message_payload(result.reply))
            except Exception as exc:
                log.warning("could not update the alert message: %s", reason(exc))
                tell_presser(services, user, result.reply, body=body, respond=respond, channel_id=channel_id)
        else:
            tell_presser(services, user, result.reply, body=body, respond=respond, channel_id=channel_id)
    note = result_note(result)
    if note is not None:
        tell_presser(services, user, note, body=body, respond=respond, channel_id=channel_id)


def tell_presser(
    services: SlackServices,
    user: UserRef,
    reply: Reply,
    *,
    body: dict[str, Any],
    respond: Respond,
    channel_id: str | None,
) -> None:
    """Only the presser sees it: via response_url, else ephemeral, else a DM (App Home)."""
    try:
        if body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, **message_payload(reply))
        elif channel_id and not channel_id.startswith("D"):
            services.outbox.post_ephemeral(channel_id, user.user_id, reply)
        else:
            services.outbox.post(user.user_id, reply)
    except Exception as exc:
        log.warning("could not answer a button press: %s", reason(exc))


def result_note(result: ActionResult) -> Reply | None:
    if result.field_errors:
        text = "\n".join(f"{name}: {message}" for name, message in result.field_errors.items())
        return Reply(title=result.toast or "Not saved", kind=ReplyKind.ERROR, text=text)
    if result.toast and result.reply is None:
        return Reply(title=result.toast, kind=ReplyKind.CONFIRMATION)
    return None


def submit_target_form(
    services: SlackServices, *, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    user = services.user(body["user"]["id"], body["user"].get("username") or body["user"].get("name"))
    channel_id = origin_channel(view)
    request = ActionRequest(
        user=user, action_id=ACTION_SUBMIT_TARGET, fields=submitted_fields(view), channel=channel_id
    )
    result = services.core.handle_action(request)
    if result.field_errors:
        ack(response_action="errors", errors=slack_errors(result.field_errors))
        return
    ack()
    confirmation = result.reply or (Reply(title=result.toast, kind=ReplyKind.CONFIRMATION) if result.toast else None)
    if confirmation is not None:
        confirm(services, user, confirmation, channel_id=channel_id)


def confirm(services: SlackServices, user: UserRef, reply: Reply, *, channel_id: str | None) -> None:
    """Into the channel the form came from (public replies for all, else only for the admin)."""
    try:
        if channel_id and reply.public:
            services.outbox.post(channel_id, reply)
            return
        if channel_id and not channel_id.startswith("D"):
            services.outbox.post_ephemeral(channel_id, user.user_id, reply)
            return
    except Exception as exc:
        log.warning("could not confirm in %s (%s); sending a DM", channel_id, reason(exc))
    try:
        services.outbox.post(user.user_id, reply)
    except Exception as exc:
        log.warning("could not confirm a saved target: %s", reason(exc))
