"""The life of an alert: fire once, remind at most once per cooldown, resolve once it stays clear.

Per rule and evaluation (hourly, after each source sync, and once when the scheduler starts; stop-loss
rules also every 15 minutes, and fire at most once per day with no episode — see `_stop_loss`):

- condition true, rule clear → a new episode starts (`since` = now): the *fired* message, with
  acknowledge / snooze buttons. Acknowledgement and snooze belong to an episode and reset with it.
- condition true, rule firing → a *reminder* when the last message is at least `cooldown_hours` old,
  unless the episode is acknowledged or snoozed (a snooze that has ended lets reminders resume).
- condition false, rule firing → nothing the first time; the *resolved* notice when it is still false
  at the next evaluation (so a value hovering at the threshold does not post a storm).

The state row is written before anything is sent and every send goes through the ledger keyed by the
episode (`rule id` + `since`), so a crash or a second evaluation never posts the same message twice.
Acknowledge / snooze (from any replica) write only their own columns, which these updates leave alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from jobs.alerts.conditions import Observation, observe
from jobs.alerts.messages import (
    STANDALONE,
    THREAD,
    AlertStatus,
    AlertView,
    fired_reply,
    original_reply,
    reminder_reply,
    resolved_reply,
    scope_label,
)
from jobs.alerts.original import episode_key, follow_up_place, original_message_id, update_original
from jobs.alerts.unusual import deliver_unusual, unusual_days
from jobs.delivery import Deliverer, DeliveryResult, Outcome
from jobs.outbox import ChannelRef
from jobs.present.reply import Reply
from jobs.timing import Clock, engine_as_of, utc_now
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef, Registry
from storage.models import AlertRule, AlertState
from storage.repositories import alerts as alert_repo
from storage.repositories import members as member_repo
from storage.repositories.ledger import DeliveryKey

log = logging.getLogger(__name__)

CLEAR_EVALUATIONS = 2  # clear at this evaluation and the one before → resolved
FIRED, REMINDER, RESOLVED = "alert", "alert_reminder", "alert_resolved"


@dataclass(frozen=True)
class StateSnapshot:
    state: str
    since: datetime | None
    last_notified_at: datetime | None
    clear_streak: int
    acknowledged_by: str | None
    snoozed_until: datetime | None

    @classmethod
    def of(cls, row: AlertState) -> StateSnapshot:
        return cls(row.state, row.since, row.last_notified_at, row.clear_streak, row.acknowledged_by,
                   row.snoozed_until)


def next_message(snapshot: StateSnapshot, holds: bool, now: datetime, cooldown: timedelta) -> str | None:
    """Which message (if any) this evaluation owes, given the state *after* recording the observation."""
    if snapshot.state != "firing":
        return None
    if holds:
        if snapshot.last_notified_at is None:
            return FIRED
        if snapshot.acknowledged_by:
            return None
        if snapshot.snoozed_until is not None and now < snapshot.snoozed_until:
            return None
        return REMINDER if now - snapshot.last_notified_at >= cooldown else None
    if snapshot.clear_streak >= CLEAR_EVALUATIONS:
        return RESOLVED
    return None


@dataclass(frozen=True)
class AlertEvent:
    rule_id: int
    kind: str  # alert | alert_reminder | alert_resolved
    result: DeliveryResult | None  # None: resolved silently (the episode was never announced)


class AlertRunner:
    def __init__(
        self, db: Database, engine: KpiEngine, registry: Registry, deliverer: Deliverer, *, currency: str,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.registry = registry
        self.deliverer = deliverer
        self.currency = currency
        self.clock = clock or utc_now
        self._lock = threading.Lock()  # hourly and after-sync evaluations never overlap in one process

    def evaluate_all(self, now: datetime | None = None, *, modes: tuple[str, ...] | None = None) -> list[AlertEvent]:
        """Evaluate every active rule, or only those of `modes` (the 15-minute stop-loss run)."""
        now = now or self.clock()
        with self._lock:
            with self.db.session() as session:
                rules = [r for r in alert_repo.list_rules(session) if modes is None or r.mode in modes]
                member_keys = [r.scope_key for r in rules if r.scope_kind == "member"]
                names = member_repo.display_names(session, member_keys)
            engine = engine_as_of(self.engine, now.astimezone(self.engine.tz).date())
            events: list[AlertEvent] = []
            for rule in rules:
                try:
                    event = self._evaluate(rule, engine, names, now)
                except Exception:
                    log.exception("evaluating alert rule %s failed", rule.id)
                    continue
                if event is not None:
                    events.append(event)
            return events

    def evaluate_stop_losses(self, now: datetime | None = None) -> list[AlertEvent]:
        return self.evaluate_all(now, modes=("stoploss",))

    def _evaluate(self, rule: AlertRule, engine: KpiEngine, names: dict[str, str], now: datetime) -> AlertEvent | None:
        assert rule.id is not None
        kpi = self.registry.kpis.get(rule.kpi)
        if kpi is None:
            log.warning("alert rule %s refers to KPI %r, which is no longer defined; skipped", rule.id, rule.kpi)
            return None
        if kpi.trial:  # a KPI on trial is shown, never alerted on
            return None
        if rule.mode == "unusual":  # once per unusual day, no episode (jobs/alerts/unusual.py)
            view = AlertView(rule, kpi, scope_label(rule, self.registry, names, rule.lang), rule.lang,
                             self.currency, engine.tz)
            days = unusual_days(self.db, engine, self.registry, kpi, rule)
            sent = [r for r in deliver_unusual(self.deliverer, view, days) if r.outcome == Outcome.SENT]
            return AlertEvent(rule.id, FIRED, sent[-1]) if sent else None
        if rule.mode == "stoploss":
            return self._stop_loss(rule, kpi, engine, names)
        obs = observe(engine, kpi, rule)
        snapshot = self._record(rule.id, obs, now)
        message = next_message(snapshot, obs.holds, now, timedelta(hours=rule.cooldown_hours))
        if message == RESOLVED and snapshot.last_notified_at is None:
            self._close(rule.id)  # never announced: close the episode without a word
            return AlertEvent(rule.id, RESOLVED, None)
        if message is None:
            return None
        assert snapshot.since is not None
        view = AlertView(rule, kpi, scope_label(rule, self.registry, names, rule.lang), rule.lang, self.currency,
                         engine.tz)
        period = episode_key(snapshot.since)
        build: Callable[[], Reply]
        outbox = self.deliverer.outboxes.get(ChannelRef.parse(rule.channel).platform)
        original: str | None = None
        where = STANDALONE
        if message == FIRED:
            build = partial(fired_reply, view, obs)
        else:  # a follow-up: in the original's thread, or naming it (see jobs/alerts/original.py)
            with self.db.session() as session:
                original = original_message_id(session, rule, alert_repo.get_state(session, rule.id))
            where = follow_up_place(outbox, original)
            if message == REMINDER:
                # One reminder per cooldown slot of the episode: a repeated evaluation maps to the same ledger key.
                slot = int((now - snapshot.since) / timedelta(hours=rule.cooldown_hours))
                period = f"{period}/r{slot}"
                build = partial(reminder_reply, view, obs, snapshot.since, where)
            else:
                build = partial(resolved_reply, view, obs, snapshot.since, where)
        result = self.deliverer.deliver(DeliveryKey(message, str(rule.id), period, rule.channel), build,
                                        lang=rule.lang, thread=original if where == THREAD else None)
        if message == RESOLVED and result.outcome == Outcome.SENT:
            update_original(outbox, rule.channel, original,
                            original_reply(view, obs, AlertStatus("resolved", at=now)))
        self._after_send(rule.id, message, result, now)
        return AlertEvent(rule.id, message, result)

    def _stop_loss(self, rule: AlertRule, kpi: KpiDef, engine: KpiEngine, names: dict[str, str]) -> AlertEvent | None:
        """At most one message per rule and day: the ledger key is the rule and today's date, so the
        15-minute evaluations after the first that fired (and any replica racing it) post nothing."""
        assert rule.id is not None
        guard = self.registry.kpis.get(rule.guard_kpi or "")
        if guard is None:
            log.warning("stop-loss rule %s guards on KPI %r, which is not defined; skipped", rule.id, rule.guard_kpi)
            return None
        obs = observe(engine, kpi, rule, guard)
        if not obs.holds:
            return None
        view = AlertView(rule, kpi, scope_label(rule, self.registry, names, rule.lang), rule.lang, self.currency,
                         engine.tz, guard)
        key = DeliveryKey(FIRED, str(rule.id), f"stoploss/{engine.today().isoformat()}", rule.channel)
        result = self.deliverer.deliver(key, partial(fired_reply, view, obs), lang=rule.lang)
        return AlertEvent(rule.id, FIRED, result) if result.outcome == Outcome.SENT else None

    def _record(self, rule_id: int, obs: Observation, now: datetime) -> StateSnapshot:
        with self.db.session() as session:
            state = alert_repo.ensure_state(session, rule_id)
            if obs.holds:
                if state.state != "firing":
                    state.state, state.since, state.last_notified_at = "firing", now, None
                    state.acknowledged_by = state.snoozed_until = state.message_id = None
                state.clear_streak = 0
            elif state.state == "firing":
                state.clear_streak += 1
            state.last_value = obs.value
            session.add(state)
            session.flush()
            return StateSnapshot.of(state)

    def _after_send(self, rule_id: int, message: str, result: DeliveryResult, now: datetime) -> None:
        if message == RESOLVED:
            self._close(rule_id)
            return
        if result.outcome == Outcome.NO_OUTBOX:
            return  # nothing was claimed: try again at the next evaluation
        with self.db.session() as session:
            state = alert_repo.ensure_state(session, rule_id)
            state.last_notified_at = now
            if message == FIRED and result.message_id:
                state.message_id = result.message_id
            session.add(state)

    def _close(self, rule_id: int) -> None:
        with self.db.session() as session:
            state = alert_repo.ensure_state(session, rule_id)
            state.state, state.since, state.clear_streak = "clear", None, 0
            session.add(state)
