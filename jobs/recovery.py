"""Sends left `claimed` by a process that died mid-send, resolved by the leader (issue 18).

A claimed row whose heartbeat is older than the claim timeout (2 min by default) and that this process
is not sending belongs to a dead process. The leader takes it over (one replica wins) and, by what the
platform allows:

- an outbox with an idempotency window (Feishu's `uuid` keeps a message to one within an hour): the
  message is built again and sent with the same key, so if the dead process's send arrived it is not doubled;
- an outbox that can look its own sends up (Slack: scheduled sends carry metadata `kpibot_delivery` with
  the key; `conversations.history` needs `channels:history` / `groups:history`): found → marked sent with
  its id; not found → sent;
- otherwise (no scope, no window, or a kind that cannot be rebuilt) → `unconfirmed`, and the admins are
  told by direct message which send may be missing, with `digest resend ID`.

An operational note of a dead process (a failure or source warning to admins) is marked failed without
a note about the note.

Rows of different channels are resolved concurrently (bounded); one history look-up serves a channel's rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from jobs.delivery import NOTICE_KINDS, Deliverer, DeliveryResult, Outcome
from jobs.fanout import by_channel
from jobs.outbox import ChannelRef
from jobs.present.reply import Reply
from jobs.timing import Clock, utc_now
from storage.models import DeliveryLedger
from storage.repositories import ledger
from storage.repositories.ledger import DeliveryKey

log = logging.getLogger(__name__)

NO_CHECK = {
    "en": "there is no way to check whether it arrived",
    "zh": "无法确认它是否已送达",
}


class HistoryUnavailable(Exception):
    """The platform will not let us read the channel (e.g. Slack `missing_scope`); `str()` says why."""


@runtime_checkable
class FindsDeliveries(Protocol):
    def find_deliveries(self, channel: str, keys: list[str], since: datetime) -> dict[str, str]:
        """Message ids of the sends among `keys` posted to `channel` since `since`; raises HistoryUnavailable."""
        ...


@runtime_checkable
class ResendsIdempotently(Protocol):
    idempotency_window: timedelta  # a resend with the same key within it is not doubled


class ClaimRecovery:
    def __init__(
        self, deliverer: Deliverer, *, rebuild: Callable[[DeliveryLedger], Callable[[], Reply] | None],
        claim_timeout: float = 120.0, clock: Clock | None = None, lang: str = "en",
    ) -> None:
        self.deliverer = deliverer
        self.db = deliverer.db
        self.rebuild = rebuild
        self.claim_timeout = timedelta(seconds=claim_timeout)
        self.clock = clock or utc_now
        self.lang = lang

    def run(self) -> list[DeliveryResult]:
        now = self.clock()
        cutoff = now - self.claim_timeout
        busy = self.deliverer.in_flight()
        with self.db.session() as session:
            stale = [row for row in ledger.stale_claims(session, cutoff) if ledger.key_of(row) not in busy]
        taken: list[DeliveryLedger] = []
        for row in stale:
            with self.db.session() as session:
                if row.id is not None and ledger.take_over(session, row.id, cutoff, now):
                    taken.append(row)
        notes = [row for row in taken if row.kind in NOTICE_KINDS]
        for row in notes:
            with self.db.session() as session:
                ledger.mark_failed(session, ledger.key_of(row), row.attempts, "its sender stopped mid-send")
        taken = [row for row in taken if row.kind not in NOTICE_KINDS]
        if not taken:
            return []
        log.warning("resolving %d send(s) left claimed by a process that stopped", len(taken))
        groups: dict[str, list[DeliveryLedger]] = {}
        for row in taken:
            groups.setdefault(row.channel, []).append(row)
        return [result for results in by_channel(list(groups.values()), lambda rows: rows[0].channel,
                                                 lambda rows: self._resolve_channel(rows, now))
                for result in results]

    def _resolve_channel(self, rows: list[DeliveryLedger], now: datetime) -> list[DeliveryResult]:
        target = ChannelRef.parse(rows[0].channel)
        outbox = self.deliverer.outboxes.get(target.platform)
        if outbox is None:
            log.error("cannot resolve sends to %s: platform %r is not configured here", rows[0].channel,
                      target.platform)
            return []
        if isinstance(outbox, ResendsIdempotently):
            fresh = [row for row in rows if now - row.claimed_at < outbox.idempotency_window]
            stale = [row for row in rows if row not in fresh]
            results = [self._resend(row) for row in fresh]
            reason = "its platform's duplicate protection has lapsed"
            return results + [self._unconfirmed(row, reason) for row in stale]
        if isinstance(outbox, FindsDeliveries):
            keys = [ledger.key_of(row).idempotency_key for row in rows]
            since = min(row.claimed_at for row in rows) - timedelta(seconds=5)
            try:
                found = outbox.find_deliveries(target.channel, keys, since)
            except HistoryUnavailable as exc:
                return [self._unconfirmed(row, str(exc)) for row in rows]
            results = []
            for row, key in zip(rows, keys, strict=True):
                if key in found:
                    results.append(self._found(row, found[key]))
                else:
                    results.append(self._resend(row))
            return results
        return [self._unconfirmed(row, NO_CHECK["zh" if self.lang == "zh" else "en"]) for row in rows]

    def _found(self, row: DeliveryLedger, message_id: str) -> DeliveryResult:
        key = ledger.key_of(row)
        with self.db.session() as session:
            ledger.mark_sent(session, key, message_id, max(row.attempts, 1), self.clock())
        log.info("%s had arrived (message %s); marked sent", key.idempotency_key, message_id)
        return DeliveryResult(Outcome.SENT, message_id, max(row.attempts, 1))

    def _resend(self, row: DeliveryLedger) -> DeliveryResult:
        key: DeliveryKey = ledger.key_of(row)
        build = self.rebuild(row)
        if build is None:
            return self._unconfirmed(row, NO_CHECK["zh" if self.lang == "zh" else "en"])
        log.info("sending %s again (its sender stopped mid-send)", key.idempotency_key)
        return self.deliverer.send_claimed(key, build, lang=self.lang)

    def _unconfirmed(self, row: DeliveryLedger, reason: str) -> DeliveryResult:
        return self.deliverer.give_up_unconfirmed(ledger.key_of(row), reason, self.lang)
