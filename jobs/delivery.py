"""Exactly-once scheduled sends: claim a ledger row, send through the platform outbox, record the outcome.

Only the process whose INSERT created the ledger row sends, so a restart, a second replica or a job
that runs twice never posts twice. A failing send is retried with backoff (1 s, 4 s, 16 s by default)
and then marked failed. Throttling is not failing: when the platform answers "too many requests, come
back in N s" (the outbox raises `Throttled`) the deliverer waits exactly N s and sends again, without
spending an attempt, until the send deadline (6 h by default); the sender's heartbeat on the row is
refreshed while it waits, so the leader does not take the row for a dead process's.

A send that fails for good is logged at ERROR and told to the admins by direct message (never into the
channel that refused it, which may be the one throttling), each note itself ledgered, paced and
throttle-aware, with `digest resend ID` to try again.

A row left `claimed` by a process that died mid-send is resolved by the leader (`jobs.recovery`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from jobs.observability import observed_delivery
from jobs.outbox import ChannelRef, Outbox, ThreadsReplies
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
    "failed_admin": ("kpibot could not post the {what} ({period}) to {channel} after {attempts} attempts: {error}. "
                     "Send `digest resend {id}` to try again.",
                     "kpibot 尝试 {attempts} 次后仍未能向 {channel} 发送{what}（{period}）：{error}。"
                     "发送 `digest resend {id}` 可重试。"),
    "unconfirmed_title": ("Scheduled post may be missing", "定时消息可能未送达"),
    "unconfirmed_admin": ("The {what} ({period}) for {channel} may not have arrived: the kpibot process sending it "
                          "stopped mid-way, and {reason}. If it is missing there, send `digest resend {id}`.",
                          "发往 {channel} 的{what}（{period}）可能未送达：发送它的 kpibot 进程中途停止，且{reason}。"
                          "如果那里没有这条消息，请发送 `digest resend {id}`。"),
    "what_digest": ("review digest", "复盘周报"),
    "what_alert": ("alert", "告警"),
    "what_alert_reminder": ("alert reminder", "告警提醒"),
    "what_alert_resolved": ("alert resolved notice", "告警恢复通知"),
    "what_other": ("scheduled post", "定时消息"),
})

FAILURE_NOTICE_KIND = "send_failed"
UNCONFIRMED_NOTICE_KIND = "send_unsure"
NOTICE_KINDS = frozenset({FAILURE_NOTICE_KIND, UNCONFIRMED_NOTICE_KIND, "source_warning"})


class Throttled(Exception):
    """Raised by an outbox when the platform refused a call for its rate limit and said when to come back
    (Slack 429 `Retry-After`, Feishu 99991400 `x-ogw-ratelimit-reset`, DingTalk's limit)."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited; retry after {retry_after:g} s")
        self.retry_after = max(0.0, retry_after)


class PartialDelivery(Exception):
    """Raised by an outbox when the message was posted but a later part failed (e.g. Slack: the blocks were
    posted, the chart upload was refused). The send counts as made — retrying would post the message twice."""

    def __init__(self, message_id: str, problem: str) -> None:
        super().__init__(problem)
        self.message_id = message_id
        self.problem = problem


@dataclass(frozen=True)
class RetryPolicy:
    """Waits before each retry; attempts in all = 1 + len(delays). Throttling is waited out (as advertised)
    until `deadline_seconds` after the first try, without counting as an attempt."""

    delays: tuple[float, ...] = (1.0, 4.0, 16.0)
    deadline_seconds: float = 6 * 3600.0

    @property
    def attempts(self) -> int:
        return 1 + len(self.delays)


class Outcome(StrEnum):
    SENT = "sent"
    TAKEN = "taken"  # another process (or an earlier run) owns this send
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"  # its process died mid-send and it could not be checked: admins told
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
        admin_ids: list[str] | None = None, claim_timeout: float = 120.0,
    ) -> None:
        self.db = db
        self.outboxes = outboxes
        self.retry = retry or RetryPolicy()
        self.clock = clock or utc_now
        self.admin_ids = admin_ids or []
        self.claim_timeout = claim_timeout
        self._stopping = threading.Event()
        self._sleep = sleep or self._interruptible_sleep
        self._in_flight: set[DeliveryKey] = set()
        self._in_flight_lock = threading.Lock()

    def stop(self) -> None:
        """Cut short any backoff wait (used at shutdown)."""
        self._stopping.set()

    def in_flight(self) -> set[DeliveryKey]:
        """Keys this process is sending right now (recovery never takes those over)."""
        with self._in_flight_lock:
            return set(self._in_flight)

    @observed_delivery
    def deliver(
        self, key: DeliveryKey, build: Callable[[], Reply], *, lang: str = "en", thread: str | None = None,
    ) -> DeliveryResult:
        """Send what `build()` makes to `key.channel`, at most once per key. `build` runs only for the claimant.
        `thread`: the platform id of a message in that channel to answer in its thread (an outbox without
        threads posts at the top level)."""
        if self._outbox(key) is None:
            log.error("cannot post %s to %s: platform %r is not configured in this process",
                      key.kind, key.channel, ChannelRef.parse(key.channel).platform)
            return DeliveryResult(Outcome.NO_OUTBOX)
        with self.db.session() as session:
            if not ledger.claim(session, key, self.clock()):
                log.info("%s already claimed; not sending again", key.idempotency_key)
                return DeliveryResult(Outcome.TAKEN)
        return self.send_claimed(key, build, lang=lang, thread=thread)

    def resend(self, row_id: int, build: Callable[[], Reply], *, lang: str = "en") -> DeliveryResult | None:
        """`digest resend ID`: send a failed or unconfirmed row again; None when it is not resendable."""
        with self.db.session() as session:
            row = ledger.reopen(session, row_id, self.clock())
            key = ledger.key_of(row) if row is not None else None
        if key is None:
            return None
        log.info("resending %s on request", key.idempotency_key)
        return self.send_claimed(key, build, lang=lang)

    def send_claimed(
        self, key: DeliveryKey, build: Callable[[], Reply], *, lang: str = "en", thread: str | None = None,
    ) -> DeliveryResult:
        """Send a row this process holds (claimed, reopened or taken over)."""
        outbox = self._outbox(key)
        if outbox is None:
            return DeliveryResult(Outcome.NO_OUTBOX)
        with self._in_flight_lock:
            self._in_flight.add(key)
        try:
            try:
                reply = build()
            except Exception as exc:
                log.exception("could not build %s", key.idempotency_key)
                return self._give_up(key, 0, describe(exc), lang)
            return self._send(key, outbox, reply, lang, thread)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(key)

    def _send(self, key: DeliveryKey, outbox: Outbox, reply: Reply, lang: str, thread: str | None) -> DeliveryResult:
        channel = ChannelRef.parse(key.channel).channel
        deadline = self.clock() + timedelta(seconds=self.retry.deadline_seconds)
        failures, waits, error = 0, 0, ""
        while True:
            try:
                if thread and isinstance(outbox, ThreadsReplies):
                    message_id = outbox.send_in_thread(channel, thread, reply, idempotency_key=key.idempotency_key)
                else:
                    message_id = outbox.send(channel, reply, idempotency_key=key.idempotency_key)
            except PartialDelivery as partial:
                log.error("%s posted as %s, but incompletely: %s", key.idempotency_key, partial.message_id,
                          partial.problem)
                with self.db.session() as session:
                    ledger.record_attempt(session, key, failures + 1, f"partly delivered: {partial.problem}")
                    ledger.mark_sent(session, key, partial.message_id, failures + 1, self.clock())
                return DeliveryResult(Outcome.SENT, partial.message_id, failures + 1, partial.problem)
            except Throttled as throttled:
                waits += 1
                error = f"throttled {waits} time(s): {describe(throttled)}"
                if self.clock() + timedelta(seconds=throttled.retry_after) > deadline:
                    return self._give_up(key, failures, f"{error}; send deadline passed", lang)
                log.warning("send of %s throttled; waiting %.1f s as the platform asked (wait %d)",
                            key.idempotency_key, throttled.retry_after, waits)
                if not self._wait_alive(key, throttled.retry_after):
                    return self._give_up(key, failures, f"stopped while throttled; {error}", lang)
                continue
            except Exception as exc:
                failures += 1
                error = describe(exc)
                log.warning("send of %s failed (attempt %d of %d): %s",
                            key.idempotency_key, failures, self.retry.attempts, error)
                with self.db.session() as session:
                    ledger.record_attempt(session, key, failures, error)
                if failures >= self.retry.attempts:
                    return self._give_up(key, failures, error, lang)
                if not self._wait_alive(key, self.retry.delays[failures - 1]):
                    return self._give_up(key, failures, f"stopped while retrying; last error {error}", lang)
                continue
            with self.db.session() as session:
                ledger.mark_sent(session, key, str(message_id), failures + 1, self.clock())
            log.info("sent %s as %s", key.idempotency_key, message_id)
            return DeliveryResult(Outcome.SENT, str(message_id), failures + 1)

    def _wait_alive(self, key: DeliveryKey, seconds: float) -> bool:
        """Wait `seconds`, keeping the row's heartbeat fresher than the claim timeout; False when stopping."""
        step = max(self.claim_timeout / 3, 0.05)
        left = seconds
        while True:
            with self.db.session() as session:
                ledger.heartbeat(session, key, self.clock())
            chunk = min(left, step)
            self._sleep(chunk)
            left -= chunk
            if self._stopping.is_set():
                return False
            if left <= 1e-9:
                return True

    def _give_up(self, key: DeliveryKey, attempts: int, error: str, lang: str) -> DeliveryResult:
        with self.db.session() as session:
            row = ledger.mark_failed(session, key, attempts, error)
            row_id, claimed_at = row.id, row.claimed_at
        log.error("gave up on %s after %d attempt(s): %s", key.idempotency_key, attempts, error)
        if not self._stopping.is_set():
            what = self._what(key, lang)
            text = T("failed_admin", lang, what=what, period=key.period_key, channel=key.channel,
                     attempts=attempts, error=error[:300], id=row_id)
            self.tell_admins(FAILURE_NOTICE_KIND, row_id, claimed_at, notice(T("failed_title", lang), text, lang))
        return DeliveryResult(Outcome.FAILED, attempts=attempts, error=error)

    def give_up_unconfirmed(self, key: DeliveryKey, reason: str, lang: str = "en") -> DeliveryResult:
        """A dead process's send that cannot be checked: marked unconfirmed, admins told with the resend id."""
        with self.db.session() as session:
            row = ledger.mark_unconfirmed(session, key, f"sender died mid-send; {reason}")
            row_id, claimed_at = row.id, row.claimed_at
        log.error("%s may not have been delivered (its sender died mid-send; %s)", key.idempotency_key, reason)
        text = T("unconfirmed_admin", lang, what=self._what(key, lang), period=key.period_key, channel=key.channel,
                 reason=reason, id=row_id)
        self.tell_admins(UNCONFIRMED_NOTICE_KIND, row_id, claimed_at, notice(T("unconfirmed_title", lang), text, lang))
        return DeliveryResult(Outcome.UNCONFIRMED, error=reason)

    @staticmethod
    def _what(key: DeliveryKey, lang: str) -> str:
        return T(f"what_{key.kind}" if f"what_{key.kind}" in T else "what_other", lang)

    def tell_admins(self, kind: str, row_id: int | None, claimed_at: datetime, reply: Reply) -> int:
        """One direct message to each reachable admin, ledgered per claim of the row (a resend that fails
        again is told again); returns how many were sent."""
        admins = self.admin_channels()
        if not admins:
            log.error("no admin can be messaged directly (KPIBOT_ADMINS slack:U… / feishu:ou_…): nobody told")
        episode = claimed_at.strftime("%Y%m%dT%H%M%S.%f")
        return sum(self.post_notice(DeliveryKey(kind, str(row_id), episode, admin), reply) for admin in admins)

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
        """A short operational notice: claimed like any scheduled send; throttling waited out (the outbox
        paces per recipient), one attempt otherwise, no further notices."""
        outbox = self._outbox(key)
        if outbox is None:
            return False
        with self.db.session() as session:
            if not ledger.claim(session, key, self.clock()):
                return False
        with self._in_flight_lock:
            self._in_flight.add(key)
        try:
            return self._send_notice(key, outbox, reply)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(key)

    def _send_notice(self, key: DeliveryKey, outbox: Outbox, reply: Reply) -> bool:
        channel = ChannelRef.parse(key.channel).channel
        deadline = self.clock() + timedelta(seconds=self.retry.deadline_seconds)
        while True:
            try:
                message_id = outbox.send(channel, reply, idempotency_key=key.idempotency_key)
            except Throttled as throttled:
                if self.clock() + timedelta(seconds=throttled.retry_after) <= deadline and \
                        self._wait_alive(key, throttled.retry_after):
                    continue
                error = describe(throttled)
            except Exception as exc:
                error = describe(exc)
            else:
                with self.db.session() as session:
                    ledger.mark_sent(session, key, str(message_id), 1, self.clock())
                return True
            log.error("could not post a %s notice to %s: %s", key.kind, key.channel, error)
            with self.db.session() as session:
                ledger.mark_failed(session, key, 1, error)
            return False

    def _outbox(self, key: DeliveryKey) -> Outbox | None:
        return self.outboxes.get(ChannelRef.parse(key.channel).platform)

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def notice(title: str, text: str, lang: str) -> Reply:
    return Reply(title=title, lang=lang, kind=ReplyKind.NOTICE, mark=Mark.OFF_TRACK, text=text, public=True)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:500]}" if text else type(exc).__name__
