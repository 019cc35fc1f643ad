"""Exactly-once scheduled sends: claim a ledger row, send through the platform outbox, record the outcome.

Only the process whose INSERT created the ledger row sends, so a restart, a second replica or a job
that runs twice never posts twice. A failing send is retried with backoff (1 s, 4 s, 16 s by default)
and then marked failed; the failure is logged at ERROR and told once to the channel itself (a short
text note — useful when only the rich message or its charts were refused) and to the admins who can
be messaged directly (a DM through their platform's own outbox).

A row left `claimed` by a process that died mid-send is not sent again: a possible miss is preferred
to a possible double post (Slack has no idempotency key to make a resend safe).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from jobs.observability import observed_delivery
from jobs.outbox import ChannelRef, Outbox
from jobs.present.i18n import Catalog
from jobs.present.reply import Mark, Reply, ReplyKind
from jobs.timing import Clock, utc_now
from storage.db import Database
from storage.repositories import ledger
from storage.repositories import members as member_repo
from storage.repositories.ledger import DeliveryKey

log = logging.getLogger(__name__)

T = Catalog({
    "failed_title": ("Scheduled post not delivered", "定时消息发送失败"),
    "failed_channel": ("kpibot could not post the {what} ({period}) here after {attempts} attempts. "
                       "Admins have been told; the bot log has the details.",
                       "kpibot 尝试 {attempts} 次后仍未能在此发送{what}（{period}）。已通知管理员，详情见机器人日志。"),
    "failed_admin": ("kpibot could not post the {what} ({period}) to {channel} after {attempts} attempts: {error}",
                     "kpibot 尝试 {attempts} 次后仍未能向 {channel} 发送{what}（{period}）：{error}"),
    "what_digest": ("review digest", "复盘周报"),
    "what_alert": ("alert", "告警"),
    "what_alert_reminder": ("alert reminder", "告警提醒"),
    "what_alert_resolved": ("alert resolved notice", "告警恢复通知"),
    "what_other": ("scheduled post", "定时消息"),
})

FAILURE_NOTICE_KIND = "send_failed"


class PartialDelivery(Exception):
    """Raised by an outbox when the message was posted but a later part failed (e.g. Slack: the blocks were
    posted, the chart upload was refused). The send counts as made — retrying would post the message twice."""

    def __init__(self, message_id: str, problem: str) -> None:
        super().__init__(problem)
        self.message_id = message_id
        self.problem = problem


@dataclass(frozen=True)
class RetryPolicy:
    """Waits before each retry; attempts in all = 1 + len(delays)."""

    delays: tuple[float, ...] = (1.0, 4.0, 16.0)

    @property
    def attempts(self) -> int:
        return 1 + len(self.delays)


class Outcome(StrEnum):
    SENT = "sent"
    TAKEN = "taken"  # another process (or an earlier run) owns this send
    FAILED = "failed"
    NO_OUTBOX = "no_outbox"  # the platform is not configured in this process


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    message_id: str | None = None
    attempts: int = 0
    error: str | None = None


class Deliverer:
    def __init__(
        self, db: Database, outboxes: Mapping[str, Outbox], *, retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None, clock: Clock | None = None,
        admin_ids: list[str] | None = None,
    ) -> None:
        self.db = db
        self.outboxes = outboxes
        self.retry = retry or RetryPolicy()
        self.clock = clock or utc_now
        self.admin_ids = admin_ids or []
        self._stopping = threading.Event()
        self._sleep = sleep or self._interruptible_sleep

    def stop(self) -> None:
        """Cut short any backoff wait (used at shutdown)."""
        self._stopping.set()

    @observed_delivery
    def deliver(self, key: DeliveryKey, build: Callable[[], Reply], *, lang: str = "en") -> DeliveryResult:
        """Send what `build()` makes to `key.channel`, at most once per key. `build` runs only for the claimant."""
        target = ChannelRef.parse(key.channel)
        outbox = self.outboxes.get(target.platform)
        if outbox is None:
            log.error("cannot post %s to %s: platform %r is not configured in this process",
                      key.kind, key.channel, target.platform)
            return DeliveryResult(Outcome.NO_OUTBOX)
        with self.db.session() as session:
            if not ledger.claim(session, key, self.clock()):
                log.info("%s already claimed; not sending again", key.idempotency_key)
                return DeliveryResult(Outcome.TAKEN)
        try:
            reply = build()
        except Exception as exc:
            log.exception("could not build %s", key.idempotency_key)
            return self._give_up(key, 0, describe(exc), lang)
        error = ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                message_id = outbox.send(target.channel, reply, idempotency_key=key.idempotency_key)
            except PartialDelivery as partial:
                log.error("%s posted as %s, but incompletely: %s", key.idempotency_key, partial.message_id,
                          partial.problem)
                with self.db.session() as session:
                    ledger.record_attempt(session, key, attempt, f"partly delivered: {partial.problem}")
                    ledger.mark_sent(session, key, partial.message_id, attempt, self.clock())
                return DeliveryResult(Outcome.SENT, partial.message_id, attempt, partial.problem)
            except Exception as exc:
                error = describe(exc)
                log.warning("send of %s failed (attempt %d of %d): %s",
                            key.idempotency_key, attempt, self.retry.attempts, error)
                with self.db.session() as session:
                    ledger.record_attempt(session, key, attempt, error)
                if attempt < self.retry.attempts:
                    self._sleep(self.retry.delays[attempt - 1])
                    if self._stopping.is_set():
                        return self._give_up(key, attempt, f"stopped while retrying; last error {error}", lang)
                continue
            with self.db.session() as session:
                ledger.mark_sent(session, key, str(message_id), attempt, self.clock())
            log.info("sent %s as %s", key.idempotency_key, message_id)
            return DeliveryResult(Outcome.SENT, str(message_id), attempt)
        return self._give_up(key, self.retry.attempts, error, lang)

    def _give_up(self, key: DeliveryKey, attempts: int, error: str, lang: str) -> DeliveryResult:
        with self.db.session() as session:
            row = ledger.mark_failed(session, key, attempts, error)
            row_id = row.id
        log.error("gave up on %s after %d attempt(s): %s", key.idempotency_key, attempts, error)
        if not self._stopping.is_set():
            self._tell_about_failure(key, row_id, attempts, error, lang)
        return DeliveryResult(Outcome.FAILED, attempts=attempts, error=error)

    def _tell_about_failure(self, key: DeliveryKey, row_id: int | None, attempts: int, error: str, lang: str) -> None:
        """One short note to the channel and one to each directly reachable admin, each ledgered (sent once)."""
        what_key = f"what_{key.kind}" if f"what_{key.kind}" in T else "what_other"
        what = T(what_key, lang)
        title = T("failed_title", lang)
        channel_note = T("failed_channel", lang, what=what, period=key.period_key, attempts=attempts)
        admin_note = T("failed_admin", lang, what=what, period=key.period_key, channel=key.channel,
                       attempts=attempts, error=error[:300])
        targets = [(key.channel, channel_note)]
        targets += [(admin, admin_note) for admin in self.admin_channels() if admin != key.channel]
        for channel, text in targets:
            self.post_notice(DeliveryKey(FAILURE_NOTICE_KIND, str(row_id), key.period_key, channel),
                             notice(title, text, lang))

    def admin_channels(self) -> list[str]:
        """Admins reachable directly, as `platform:channel`: each platform's outbox turns the admin's user id
        there (from KPIBOT_ADMINS `platform:ID` entries and the chat identities of admin members) into its
        own direct channel. Platforms not configured here, and admins known by email only, are skipped."""
        users: dict[tuple[str, str], None] = {}
        for entry in self.admin_ids:
            platform, _, user_id = entry.partition(":")
            if user_id and "@" not in platform:
                users[(platform, user_id)] = None
        try:
            with self.db.session() as session:
                admin_ids = [member.id for member in member_repo.admins(session) if member.id is not None]
                for identity in member_repo.identities_of(session, admin_ids):
                    users[(identity.platform, identity.user_id)] = None
        except Exception:
            log.exception("could not read the admin list")
        found: dict[str, None] = {}
        for platform, user_id in users:
            outbox = self.outboxes.get(platform)
            direct = outbox.direct_channel(user_id) if outbox is not None else None
            if direct:
                found[f"{platform}:{direct}"] = None
        return list(found)

    @observed_delivery
    def post_notice(self, key: DeliveryKey, reply: Reply) -> bool:
        """A short operational notice: claimed like any scheduled send, one attempt, no further notices."""
        target = ChannelRef.parse(key.channel)
        outbox = self.outboxes.get(target.platform)
        if outbox is None:
            return False
        with self.db.session() as session:
            if not ledger.claim(session, key, self.clock()):
                return False
        try:
            message_id = outbox.send(target.channel, reply, idempotency_key=key.idempotency_key)
        except Exception as exc:
            log.error("could not post a %s notice to %s: %s", key.kind, key.channel, describe(exc))
            with self.db.session() as session:
                ledger.mark_failed(session, key, 1, describe(exc))
            return False
        with self.db.session() as session:
            ledger.mark_sent(session, key, str(message_id), 1, self.clock())
        return True

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def notice(title: str, text: str, lang: str) -> Reply:
    return Reply(title=title, lang=lang, kind=ReplyKind.NOTICE, mark=Mark.OFF_TRACK, text=text, public=True)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:500]}" if text else type(exc).__name__
