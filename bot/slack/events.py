"""Events API: @mentions in channels and direct messages, answered in the message's thread.

Every event is claimed once by its `event_id` in the database before any listener runs; a
redelivery (`X-Slack-Retry-Num`) of a claimed event gets `200` + `X-Slack-No-Retry: 1` and no
second answer. Slash commands and interactions are claimed by their `trigger_id` the same way, so a
signed request replayed within Slack's 5-minute signature window runs once. A request from a
workspace other than ours (the team `auth.test` reports) is refused with 403. Messages are also
claimed by (channel, ts), so one message seen as both
`app_mention` and `message.im` is answered once. Bots (this one included), edits, deletions
and other subtypes are ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.context import BoltContext

from bot.core.contracts import ACTION_OPEN_TARGET_FORM
from bot.core.messages import T
from bot.slack.errors import reason
from bot.slack.services import SlackServices
from bot.slack.translate import is_message_for_bot
from jobs.present.reply import Action, Reply

log = logging.getLogger(__name__)

PLATFORM = "slack"
NO_RETRY_HEADER = "x-slack-no-retry"


def register_dedupe(app: Any, services: SlackServices) -> None:
    """Global middleware; Bolt runs it after signature verification and authorization."""

    @app.middleware
    def drop_foreign_and_repeated(
        body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if foreign := foreign_team(context):
            log.warning("refused a Slack request from workspace %s (this app serves %s)", *foreign)
            return BoltResponse(status=403, body="")
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not services.core.claim_event(PLATFORM, str(event_id)):
            log.info("event %s already processed; not answering again", event_id)
            return BoltResponse(status=200, body="", headers={NO_RETRY_HEADER: "1"})
        trigger_id = body.get("trigger_id")
        if trigger_id and not services.core.claim_event(PLATFORM, f"trigger:{trigger_id}"):
            log.info("request with trigger %s already processed; not running it again", trigger_id)
            return BoltResponse(status=200, body="")
        return next()


def foreign_team(context: BoltContext) -> tuple[str, str] | None:
    """(their team, ours) when the request names a workspace other than the one our token belongs to
    (an Enterprise Grid org install accepts every workspace of its own enterprise)."""
    ours = context.authorize_result
    theirs = context.team_id
    if ours is None or not ours.team_id or not theirs or theirs == ours.team_id:
        return None
    if ours.enterprise_id and context.enterprise_id == ours.enterprise_id:
        return None
    return str(theirs), str(ours.team_id)


def register(app: Any, services: SlackServices) -> None:
    @app.event("app_mention")
    def on_app_mention(event: dict[str, Any], context: BoltContext) -> None:
        answer_message(services, event, context)

    @app.event("message")
    def on_message(event: dict[str, Any], context: BoltContext) -> None:
        if event.get("channel_type") == "im":
            answer_message(services, event, context)

    @app.event(re.compile(r".*"))
    def ignore_other_events() -> None:
        """Acknowledge event types kpibot does not act on, so Slack does not retry them."""


def answer_message(services: SlackServices, event: dict[str, Any], context: BoltContext) -> None:
    if not is_message_for_bot(event, bot_user_id=context.bot_user_id):
        return
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return
    if not services.core.claim_event(PLATFORM, f"message:{channel}:{ts}"):
        return
    user = services.user(event["user"])
    request = services.command(event.get("text") or "", user=user, channel=channel, bot_user_id=context.bot_user_id,
                               conversation=conversation_of(event))
    reply = with_form_button(services.core.handle(request))
    try:
        services.outbox.post(channel, reply, thread_ts=event.get("thread_ts") or ts)
    except Exception as exc:
        log.warning("could not answer in %s: %s", channel, reason(exc))


def conversation_of(event: dict[str, Any]) -> str:
    """Where follow-ups belong: a whole DM (answers go in threads, follow-ups come either way), or the
    thread of a channel mention."""
    channel = str(event.get("channel"))
    if event.get("channel_type") == "im":
        return channel
    return f"{channel}:{event.get('thread_ts') or event.get('ts')}"


def with_form_button(reply: Reply) -> Reply:
    """A message cannot open a modal (no trigger): offer the form as a button instead."""
    if reply.form != "target" or any(a.action_id == ACTION_OPEN_TARGET_FORM for a in reply.actions):
        return reply
    label = T("button_set_target", reply.lang)
    reply.actions = [*reply.actions, Action(ACTION_OPEN_TARGET_FORM, label, "target", style="primary")]
    return reply
