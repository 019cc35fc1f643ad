"""Scheduled digests: when each subscription is due, and making each due send exactly once.

A subscription's send is identified by the period it reviews (`2026-11-22` for a daily one, `2026-W47`,
or `2026-10` for a monthly one), derived from the fire time in the subscription's own time zone — so a
catch-up at 15:00 reviews the same week as the 09:00 send it replaces, and a cron double-fire across a
DST change maps to the same ledger row.

`run(subscription, now)` is what the cron job calls, and `run_due(now)` the start-up catch-up and the
periodic sweep: both look at the latest fire time at or before `now`. Less than CATCH_UP (12 h) late →
send (once: the ledger decides); later → recorded as missed and logged once; fire times before the
subscription existed are ignored.

Subscriptions due together that want the same digest (language, cadence, review day, scope, KPIs) share
one build (`RecentDigests`); each still claims, sends and records its own ledger row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from jobs.delivery import Deliverer, DeliveryResult, Outcome, notice
from jobs.digest.history import reply_to_json
from jobs.digest.recent import RecentDigests
from jobs.digest.subscribed import build_for_subscription, reviewed_period_key
from jobs.fanout import by_channel
from jobs.present.i18n import Catalog
from jobs.present.reply import Reply
from jobs.scheduler import JobSpec, digest_trigger, latest_fire_time
from jobs.timing import Clock, utc_now
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry
from storage.models import DeliveryLedger, DigestSubscription
from storage.repositories import ledger
from storage.repositories import subscriptions as subscription_repo
from storage.repositories.digest_posts import record_post
from storage.repositories.ledger import DeliveryKey

log = logging.getLogger(__name__)

CATCH_UP = timedelta(hours=12)
MISSED_NOTICE_KIND = "digest_missed"
MISSED = Catalog({
    "missed_title": ("Scheduled digest missed", "定时摘要未发送"),
    "missed_text": ("The digest for {channel} ({period}) was not sent: the scheduler was down {hours} h past its "
                    "time, beyond the {window} h catch-up window. `digest now` posts the current one.",
                    "{channel} 的摘要（{period}）未发送：调度器在预定时间后停止了 {hours} 小时，"
                    "超过 {window} 小时的补发窗口。可用 `周报 立即` 发送当前摘要。"),
})


@dataclass(frozen=True)
class DueSend:
    subscription_id: int
    fire_time: datetime
    key: DeliveryKey

    def late_by(self, now: datetime) -> timedelta:
        return now - self.fire_time


class DigestRunner:
    def __init__(
        self, db: Database, engine: KpiEngine, registry: Registry, deliverer: Deliverer, *, currency: str,
        default_timezone: str, charts: bool = True, catch_up: timedelta = CATCH_UP, clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.registry = registry
        self.deliverer = deliverer
        self.currency = currency
        self.default_timezone = default_timezone
        self.charts = charts
        self.catch_up = catch_up
        self.clock = clock or utc_now
        self.recent = RecentDigests()

    def trigger(self, subscription: DigestSubscription) -> CronTrigger:
        return digest_trigger(subscription.cadence, subscription.day, subscription.time,
                              subscription.timezone or self.default_timezone)

    def job_specs(self, subscriptions: list[DigestSubscription]) -> list[JobSpec]:
        specs = []
        for sub in subscriptions:
            try:
                trigger = self.trigger(sub)
            except ValueError as exc:
                log.error("digest subscription %s has a bad schedule (%s); not scheduled", sub.id, exc)
                continue
            specs.append(JobSpec(id=f"digest:{sub.id}", trigger=trigger, func=self.run_scheduled, args=(sub.id,),
                                 fingerprint=f"{sub.cadence}|{sub.day}|{sub.time}|{sub.timezone}"))
        return specs

    def due(self, subscription: DigestSubscription, now: datetime) -> DueSend | None:
        """The subscription's latest send at or before `now`, if it has one since it was created."""
        assert subscription.id is not None
        fire = latest_fire_time(self.trigger(subscription), now)
        if fire is None or fire < subscription.created_at:
            return None
        fire_day = fire.astimezone(self._zone(subscription)).date()
        review_key = reviewed_period_key(self.engine.calendar, subscription.cadence, fire_day)
        channel = f"{subscription.platform}:{self._destination(subscription)}"
        return DueSend(subscription.id, fire, DeliveryKey("digest", str(subscription.id), review_key, channel))

    def _destination(self, subscription: DigestSubscription) -> str:
        """Where the platform takes the post: a `me` subscription's user id becomes that platform's direct
        channel (Slack posts to a user id as is; DingTalk sends to a staff id through its 1:1 API)."""
        if not subscription.direct:
            return subscription.channel
        outbox = self.deliverer.outboxes.get(subscription.platform)
        direct = outbox.direct_channel(subscription.channel) if outbox is not None else None
        return direct or subscription.channel

    def _zone(self, subscription: DigestSubscription) -> ZoneInfo:
        """The subscription's own time zone decides which day (week, month) a send is about."""
        return ZoneInfo(subscription.timezone or self.default_timezone)

    def run_scheduled(self, subscription_id: int) -> None:
        """The cron job's entry point (APScheduler does not pass the scheduled time; `due` finds it)."""
        self.run(subscription_id, self.clock())

    def run(self, subscription_id: int, now: datetime) -> DeliveryResult | None:
        with self.db.session() as session:
            subscription = subscription_repo.get_subscription(session, subscription_id)
        if subscription is None or not subscription.active:
            return None
        try:
            due = self.due(subscription, now)
        except ValueError as exc:
            log.error("digest subscription %s has a bad schedule: %s", subscription_id, exc)
            return None
        return self._send(subscription, due, now) if due is not None else None

    def run_due(self, now: datetime | None = None) -> list[DeliveryResult]:
        """Every active subscription's latest due send that has no ledger row yet (catch-up and sweep)."""
        now = now or self.clock()
        with self.db.session() as session:
            subscriptions = subscription_repo.list_subscriptions(session)
        pending: list[tuple[DigestSubscription, DueSend]] = []
        for sub in subscriptions:
            try:
                due = self.due(sub, now)
            except ValueError:
                continue
            if due is not None:
                pending.append((sub, due))
        with self.db.session() as session:
            done = ledger.existing(session, [due.key for _, due in pending])
        todo = [(sub, due) for sub, due in pending if due.key not in done]
        return by_channel(todo, lambda pair: pair[1].key.channel, lambda pair: self._send(pair[0], pair[1], now))

    def rebuild(self, row: DeliveryLedger) -> Callable[[], Reply] | None:
        """How to build again the digest a ledger row stands for (same subscription, same review period,
        as due at the time it was claimed); None when the row is not a digest or no longer matches."""
        if row.kind != "digest" or not row.ref_id.isdigit():
            return None
        with self.db.session() as session:
            subscription = subscription_repo.get_subscription(session, int(row.ref_id))
        if subscription is None:
            return None
        try:
            due = self.due(subscription, row.claimed_at)
        except ValueError:
            return None
        if due is None or due.key != ledger.key_of(row):
            return None
        return self._builder(subscription, due, self.clock())

    def _send(self, subscription: DigestSubscription, due: DueSend, now: datetime) -> DeliveryResult | None:
        late = due.late_by(now)
        if late >= self.catch_up:
            self._record_missed(subscription, due, late, now)
            return None
        built: list[Reply] = []
        build = self._builder(subscription, due, now)

        def build_and_keep() -> Reply:
            reply = build()
            built.append(reply)
            return reply

        result = self.deliverer.deliver(due.key, build_and_keep, lang=subscription.lang)
        if built and result.outcome in (Outcome.SENT, Outcome.FAILED):
            self._record_post(subscription, due, result, built[0], now)
        return result

    def _builder(self, subscription: DigestSubscription, due: DueSend, now: datetime) -> Callable[[], Reply]:
        today = due.fire_time.astimezone(self._zone(subscription)).date()
        build = partial(
            build_for_subscription, self.engine, self.registry, subscription, currency=self.currency, today=today,
            with_charts=self.charts,
        )
        shared = (subscription.lang, subscription.cadence, today, subscription.scope_kind, subscription.scope_key,
                  subscription.kpis, subscription.direct)
        return partial(self.recent.get, shared, now, build)

    def _record_post(
        self, subscription: DigestSubscription, due: DueSend, result: DeliveryResult, reply: Reply, now: datetime,
    ) -> None:
        """Digest history; a failure to record it never undoes or repeats the send."""
        try:
            with self.db.session() as session:
                record_post(session, subscription_id=subscription.id, cadence=subscription.cadence,
                            channel=due.key.channel, period_key=due.key.period_key, status=result.outcome.value,
                            message_id=result.message_id, title=reply.title, content=reply_to_json(reply),
                            posted_at=now)
        except Exception:
            log.exception("could not record digest %s in the history", due.key.idempotency_key)

    def _record_missed(self, subscription: DigestSubscription, due: DueSend, late: timedelta, now: datetime) -> None:
        zone = self._zone(subscription)
        hours = late.total_seconds() / 3600
        reason = (f"due {due.fire_time.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}, {hours:.1f} h before the "
                  f"scheduler could send it (catch-up window {self.catch_up.total_seconds() / 3600:g} h)")
        with self.db.session() as session:
            first_time = ledger.record_missed(session, due.key, now, reason)
        if first_time:
            log.warning("digest subscription %s (%s) for %s not sent: %s", subscription.id, due.key.channel,
                        due.key.period_key, reason)
            self._tell_admins_missed(subscription, due, hours)

    def _tell_admins_missed(self, subscription: DigestSubscription, due: DueSend, hours: float) -> None:
        """Admins hear of a missed digest in chat (each directly reachable admin, once: ledgered)."""
        lang = subscription.lang
        text = MISSED("missed_text", lang, channel=due.key.channel, period=due.key.period_key,
                      hours=f"{hours:.1f}", window=f"{self.catch_up.total_seconds() / 3600:g}")
        for admin in self.deliverer.admin_channels():
            self.deliverer.post_notice(DeliveryKey(MISSED_NOTICE_KIND, str(subscription.id), due.key.period_key,
                                                   admin), notice(MISSED("missed_title", lang), text, lang))
