"""The original alert message of an episode: where its id is kept, where follow-ups go, and its updates.

The fired message's platform id (Slack ts, Feishu message_id, DingTalk cardBizId) is what the delivery
ledger recorded when it was sent (`delivery_ledger.message_id`, the same id digest history links use),
copied onto the rule's state (`alert_state.message_id`). Reminders and the resolved notice answer it in
its thread where the platform has threads; the message itself is updated (chat.update, a card PATCH, a
DingTalk card update) when the alert is acknowledged, snoozed or resolved. Updates are idempotent, so
they are not ledgered: the same content twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session

from jobs.alerts.conditions import observe
from jobs.alerts.messages import (
    REFERENCE,
    STANDALONE,
    THREAD,
    AlertStatus,
    AlertView,
    original_reply,
    scope_label,
)
from jobs.outbox import ChannelRef, Outbox, ThreadsReplies, UpdatesMessages
from jobs.present.reply import Reply
from jobs.timing import engine_as_of, utc_now
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry
from storage.models import AlertRule, AlertState
from storage.repositories import alerts as alert_repo
from storage.repositories import ledger
from storage.repositories import members as member_repo
from storage.repositories.ledger import DeliveryKey

log = logging.getLogger(__name__)

FIRED = "alert"
EPISODE_MODES = ("value", "pace")  # the modes with episodes, buttons and reminders


def episode_key(since: datetime) -> str:
    return since.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def original_message_id(session: Session, rule: AlertRule, state: AlertState | None) -> str | None:
    """The platform id of the episode's fired message: kept on the state, else read from the ledger row of
    its send (a process that died between the two). None when it was never sent or its id is unknown."""
    if state is None or state.since is None:
        return None
    if state.message_id:
        return state.message_id
    assert rule.id is not None
    row = ledger.find(session, DeliveryKey(FIRED, str(rule.id), episode_key(state.since), rule.channel))
    return row.message_id if row is not None and row.status == "sent" and row.message_id else None


def follow_up_place(outbox: Outbox | None, original_id: str | None) -> str:
    """THREAD where the platform threads replies, REFERENCE where it cannot (DingTalk: a new message that
    names the alert), STANDALONE when the original's id is unknown (the whole alert again, with buttons)."""
    if original_id is None or outbox is None:
        return STANDALONE
    return THREAD if isinstance(outbox, ThreadsReplies) else REFERENCE


def update_original(outbox: Outbox | None, channel: str, message_id: str | None, reply: Reply) -> bool:
    """Replace the original alert message; False (logged) when the platform cannot or the call failed."""
    if message_id is None or not isinstance(outbox, UpdatesMessages):
        return False
    try:
        outbox.update_message(ChannelRef.parse(channel).channel, message_id, reply)
    except Exception as exc:
        log.warning("could not update alert message %s in %s: %s", message_id, channel, exc)
        return False
    return True


def refresh_original(
    db: Database, engine: KpiEngine, registry: Registry, outboxes: Mapping[str, Outbox], rule_id: int, *,
    currency: str, by: str | None = None, skip_message_id: str | None = None, now: datetime | None = None,
) -> Reply | None:
    """After an acknowledgement or a snooze: the alert message as it stands now (the rule's language, the
    latest figures, who did what), and the original updated on its platform while its episode is firing —
    unless it is `skip_message_id`, the message a button was pressed on, which the surface updates itself.
    None when the rule has no such message (removed, a KPI no longer defined, a mode without episodes)."""
    now = now or utc_now()
    with db.session() as session:
        rule = alert_repo.get_rule(session, rule_id)
        if rule is None or rule.mode not in EPISODE_MODES:
            return None
        state = alert_repo.get_state(session, rule_id)
        original = original_message_id(session, rule, state) if state and state.state == "firing" else None
        names = member_repo.display_names(session, [rule.scope_key] if rule.scope_kind == "member" else [])
        status = current_status(state, by, now)
    kpi = registry.kpis.get(rule.kpi)
    if kpi is None:
        return None
    view = AlertView(rule, kpi, scope_label(rule, registry, names, rule.lang), rule.lang, currency, engine.tz)
    reply = original_reply(view, observe(engine_as_of(engine, now.astimezone(engine.tz).date()), kpi, rule), status)
    if original is not None and original != skip_message_id:
        update_original(outboxes.get(ChannelRef.parse(rule.channel).platform), rule.channel, original, reply)
    return reply


def current_status(state: AlertState | None, by: str | None, now: datetime) -> AlertStatus:
    if state is None:
        return AlertStatus()
    if state.acknowledged_by:
        return AlertStatus("acknowledged", by=by or state.acknowledged_by)
    if state.snoozed_until is not None and state.snoozed_until > now:
        return AlertStatus("snoozed", by=by, until=state.snoozed_until)
    return AlertStatus()
