"""The job service of one `kpibot serve` process: leader election, the scheduler, digests, alerts and syncs.

Every replica creates one and calls `start()`. Only the elected leader runs the scheduler, whose jobs
are rebuilt from the tables (subscriptions, alert rules) and the KPI file's sources:

    digest:<id>    each active subscription, on its own cron (its timezone, weekday names)
    alerts         hourly at :05 — alert evaluation (also after every source sync and at start)
    stoploss       every 15 minutes — stop-loss rules only, on today's running totals (once a day each)
    sync:<name>    each configured source, on its crontab; alerts are evaluated after it
    housekeeping   daily at 03:17 UTC — prunes processed event ids (24 h) and sync runs (90 days)
    tick           every minute — picks up subscription changes made on other replicas, and sends any
                   digest still due (a safety net under the cron jobs; the ledger keeps it exactly-once)
    recover        every half claim timeout (≤ 1 min) — sends left claimed by a dead process (jobs.recovery)

On becoming leader it catches up at once: digests due less than 12 h ago that were never sent, and one
alert evaluation.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.alerts import AlertRunner
from jobs.delivery import Deliverer, RetryPolicy, notice
from jobs.digest import send_weekly_digest
from jobs.digest.schedule import DigestRunner
from jobs.drain import finish_within
from jobs.leader import LeaderElection, LeaderLock, lock_for
from jobs.outbox import Outbox
from jobs.present.i18n import Catalog
from jobs.recovery import ClaimRecovery
from jobs.scheduler import JobScheduler, JobSpec, crontab_trigger
from jobs.timing import Clock, utc_now
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry
from storage.repositories import subscriptions as subscription_repo
from storage.repositories.conversations import prune_conversations
from storage.repositories.events import prune_events
from storage.repositories.ledger import DeliveryKey
from storage.repositories.sync_runs import prune_runs
from storage.settings import Settings

log = logging.getLogger(__name__)

CATCH_UP_JOIN_SECONDS = 120
ALERTS_TRIGGER_MINUTE = 5  # not on :00, when every other bot posts
STOP_LOSS_MINUTES = 15
SOURCE_WARNING_KIND = "source_warning"

T = Catalog({
    "source_title": ("Data source failing", "数据源同步失败"),
    "source_channel": ("Data source {source} has failed to sync twice in a row: figures that come from it may "
                       "be out of date. Admins have been told.",
                       "数据源 {source} 连续两次同步失败，来自它的数据可能不是最新的。已通知管理员。"),
    "source_admin": ("Data source {source} has failed to sync twice in a row: {error}. Run `sources` for details.",
                     "数据源 {source} 连续两次同步失败：{error}。发送 `sources` 查看详情。"),
})


class JobService:
    def __init__(
        self, *, db: Database, registry: Registry, settings: Settings, engine: KpiEngine,
        outboxes: Mapping[str, Outbox], source_syncs: list[Any] | None = None, clock: Clock | None = None,
        lock: LeaderLock | None = None, retry: RetryPolicy | None = None, sleep: Callable[[float], None] | None = None,
        leader_retry_seconds: float | None = None, tick_seconds: float = 60.0, digest_charts: bool = True,
        sync_source: Callable[..., Any] | None = None,
    ) -> None:
        """`source_syncs`: source configs (`.name`, `.schedule`, optional `.timezone`) to schedule instead of
        `jobs.sources.configured_sources(registry)`; `sync_source(db, registry, settings, name)` likewise
        replaces `jobs.sources.sync_source`. The keyword-only extras after `clock` exist for tests."""
        self.db = db
        self.registry = registry
        self.settings = settings
        self.engine = engine
        self.outboxes = outboxes
        self.clock = clock or utc_now
        self.tick_seconds = tick_seconds
        self.digest_charts = digest_charts
        self._source_syncs = source_syncs
        self._sync_source = sync_source
        retry = retry or RetryPolicy(deadline_seconds=settings.send_deadline_seconds)
        self.deliverer = Deliverer(db, outboxes, retry=retry, sleep=sleep, clock=self.clock,
                                   admin_ids=settings.admin_list, claim_timeout=settings.claim_timeout_seconds)
        self.digests = DigestRunner(db, engine, registry, self.deliverer, currency=settings.currency,
                                    default_timezone=settings.timezone, charts=digest_charts, clock=self.clock)
        self.recovery = ClaimRecovery(self.deliverer, rebuild=self.digests.rebuild, lang=settings.locale,
                                      claim_timeout=settings.claim_timeout_seconds, clock=self.clock)
        self.recover_seconds = min(max(settings.claim_timeout_seconds / 2, 0.2), 60.0)
        if leader_retry_seconds is None:
            leader_retry_seconds = settings.leader_retry_seconds
        self.alerts = AlertRunner(db, engine, registry, self.deliverer, currency=settings.currency, clock=self.clock)
        self._scheduler: JobScheduler | None = None
        self._catch_up_thread: threading.Thread | None = None
        self._election = LeaderElection(lock or lock_for(db), on_elected=self._start_scheduler,
                                        on_lost=self._stop_scheduler, retry_seconds=leader_retry_seconds)

    # --- the interface `kpibot serve` and the chat commands use ---------------------------------

    def start(self) -> bool:
        """Try to become the scheduler leader; True when this process runs the scheduler now. Otherwise a
        background thread keeps trying every `leader_retry_seconds`."""
        return self._election.start()

    @property
    def is_leader(self) -> bool:
        return self._election.is_leader

    def reschedule(self) -> None:
        """Rebuild jobs from the tables now (after a subscription or alert change). On a replica that is not
        the leader this does nothing: the leader's minute tick picks the change up."""
        if self._scheduler is not None:
            self._sync_jobs()

    def send_digest_now(self, platform: str, channel: str, lang: str) -> str:
        """Post the weekly digest at once (not a scheduled send, not ledgered); returns the message id.
        Raises LookupError when `platform` has no outbox here, and whatever the outbox raises."""
        outbox = self.outboxes.get(platform)
        if outbox is None:
            raise LookupError(f"no outbox for platform {platform!r} in this process")
        return send_weekly_digest(self.engine, self.registry, outbox, channel, lang=lang,
                                  currency=self.settings.currency, with_charts=self.digest_charts)

    def catch_up(self, now: datetime | None = None) -> None:
        """Send what is due and unsent (less than 12 h late), resolve dead processes' sends, and evaluate
        alerts once."""
        now = now or self.clock()
        self.digests.run_due(now)
        self._safely("recovery", self.recovery.run)
        self.alerts.evaluate_all(now)

    def resign(self) -> None:
        """Shutdown, first step: hand leadership to another replica at once and start no new job runs.
        Runs under way go on; their ledger rows stay claimed by this process, so nothing is sent twice."""
        if self._election.resign() and self._scheduler is not None:
            self._scheduler.pause()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the scheduler, letting runs under way finish for up to `timeout` seconds (None: as long as
        they take). Retry back-offs are cut short. True when everything finished in time."""
        self.deliverer.stop()
        finished = True
        if timeout is None:
            self._election.stop()
        else:
            finished = finish_within(self._stop_scheduler, timeout, "scheduled jobs")
            self._election.stop()
        return finished

    def next_run_times(self) -> dict[str, datetime | None]:
        return self._scheduler.next_run_times() if self._scheduler is not None else {}

    # --- scheduler life --------------------------------------------------------------------------

    def _start_scheduler(self) -> None:
        scheduler = JobScheduler()
        scheduler.start()
        self._scheduler = scheduler
        self._sync_jobs()
        # A plain thread, not a one-off APScheduler job: APScheduler raises JobLookupError in its own thread
        # when it is shut down while removing a just-run date job.
        self._catch_up_thread = threading.Thread(target=self._safely, args=("catch-up", self.catch_up),
                                                 name="kpibot-catch-up", daemon=True)
        self._catch_up_thread.start()

    def _stop_scheduler(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        catch_up, self._catch_up_thread = self._catch_up_thread, None
        if catch_up is not None:
            catch_up.join(timeout=CATCH_UP_JOIN_SECONDS)
            if catch_up.is_alive():
                log.error("the start-up catch-up is still running after %d s; leaving it", CATCH_UP_JOIN_SECONDS)

    def _sync_jobs(self) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            return
        with self.db.session() as session:
            subscriptions = subscription_repo.list_subscriptions(session)
        specs = self.digests.job_specs(subscriptions)
        specs.append(JobSpec(id="alerts", trigger=CronTrigger(minute=ALERTS_TRIGGER_MINUTE, timezone=UTC),
                             func=self._safely, args=("alerts", self.alerts.evaluate_all), fingerprint="hourly"))
        specs.append(JobSpec(id="stoploss", trigger=IntervalTrigger(minutes=STOP_LOSS_MINUTES), func=self._safely,
                             args=("stoploss", self.alerts.evaluate_stop_losses),
                             fingerprint=f"every {STOP_LOSS_MINUTES} min"))
        specs.append(JobSpec(id="tick", trigger=IntervalTrigger(seconds=self.tick_seconds), func=self._safely,
                             args=("tick", self._tick), fingerprint=f"every {self.tick_seconds}"))
        specs.append(JobSpec(id="recover", trigger=IntervalTrigger(seconds=self.recover_seconds), func=self._safely,
                             args=("recovery", self.recovery.run), fingerprint=f"every {self.recover_seconds}"))
        specs.append(JobSpec(id="housekeeping", trigger=CronTrigger(hour=3, minute=17, timezone=UTC),
                             func=self._safely, args=("housekeeping", self.housekeeping), fingerprint="daily"))
        specs.extend(self._source_specs())
        scheduler.sync(specs)

    def housekeeping(self) -> None:
        """Forget processed event ids past the redelivery window, old sync runs and expired follow-ups."""
        with self.db.session() as session:
            events = prune_events(session, self.clock())
            runs = prune_runs(session)
            memories = prune_conversations(session, self.clock())
        log.info("housekeeping: %d processed events, %d sync runs and %d conversation memories pruned",
                 events, runs, memories)

    def _tick(self) -> None:
        self._sync_jobs()
        self.digests.run_due(self.clock())

    # --- source syncs ------------------------------------------------------------------------------

    def _source_specs(self) -> list[JobSpec]:
        specs = []
        for source in self._source_configs():
            timezone = getattr(source, "timezone", None) or self.settings.timezone
            try:
                trigger = crontab_trigger(source.schedule, timezone)
            except ValueError as exc:
                log.error("source %s has a bad schedule %r (%s); not scheduled", source.name, source.schedule, exc)
                continue
            specs.append(JobSpec(id=f"sync:{source.name}", trigger=trigger, func=self.run_source_sync,
                                 args=(source.name,), fingerprint=f"{source.schedule}|{timezone}"))
        return specs

    def _source_configs(self) -> list[Any]:
        if self._source_syncs is not None:
            return list(self._source_syncs)
        if importlib.util.find_spec("jobs.sources") is None:
            return []
        try:
            return list(importlib.import_module("jobs.sources").configured_sources(self.registry))
        except Exception:
            log.exception("could not read the configured sources; none scheduled")
            return []

    def run_source_sync(self, name: str) -> None:
        """One scheduled sync, then an alert evaluation (fresh data may start or clear an alert)."""
        try:
            sync = self._sync_source or importlib.import_module("jobs.sources").sync_source
            outcome = sync(self.db, self.registry, self.settings, name)
            if getattr(outcome, "warn_admins", False):
                self._warn_about_source(name, str(getattr(outcome, "error", "") or ""), outcome)
        except Exception:
            log.exception("sync of source %s failed", name)
        self._safely("alerts after sync", self.alerts.evaluate_all)

    def _warn_about_source(self, name: str, error: str, outcome: Any) -> None:
        """The sources module flags the second failure in a row once: tell admins (Slack DM) and every
        channel that receives digests, since their figures may now be stale."""
        lang = self.settings.locale
        started = getattr(outcome, "started_at", None) or self.clock()
        episode = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        with self.db.session() as session:
            channels = {f"{s.platform}:{s.channel}": s.lang for s in subscription_repo.list_subscriptions(session)}
        for channel in self.deliverer.admin_channels():
            text = T("source_admin", lang, source=name, error=error[:300] or "?")
            self.deliverer.post_notice(DeliveryKey(SOURCE_WARNING_KIND, name[:64], episode, channel),
                                       notice(T("source_title", lang), text, lang))
        for channel, channel_lang in channels.items():
            text = T("source_channel", channel_lang, source=name)
            self.deliverer.post_notice(DeliveryKey(SOURCE_WARNING_KIND, name[:64], episode, channel),
                                       notice(T("source_title", channel_lang), text, channel_lang))

    @staticmethod
    def _safely(what: str, job: Callable[[], Any]) -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed", what)
