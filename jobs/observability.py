"""The one place instrumentation lives: Prometheus counters and histograms, and the context that JSON
log lines carry (request/event id, platform, command).

Code elsewhere calls a hook here at a few seams and never touches prometheus_client itself:

    answering(request)      the core's answer to one chat message (latency, outcome, command, log context)
    note_command(name)      the command the parser found, for the answer being observed
    observe_ack(platform)   how long the HTTP ack of a platform event took
    observed_delivery       decorator: scheduled sends by kind and status
    record_run(...)         sync and import runs by source and outcome, facts ingested

Gauges that describe shared state (ledger rows still claimed, leader, platform connections) are read
when /metrics is scraped (bot/http/ops.py), so nothing has to keep them up to date.
"""

from __future__ import annotations

import contextvars
import functools
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram

# Latency buckets in seconds: chat answers and acks live between a few ms and the 3 s platform limits.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

ANSWERS = Counter("kpibot_answers", "Chat answers by command, platform and outcome",
                  ["command", "platform", "outcome"])
ANSWER_SECONDS = Histogram("kpibot_answer_seconds", "Time to work out a chat answer", ["platform"],
                           buckets=LATENCY_BUCKETS)
ACK_SECONDS = Histogram("kpibot_ack_seconds", "Time from receiving a platform HTTP event to acknowledging it",
                        ["platform"], buckets=LATENCY_BUCKETS)
DELIVERIES = Counter("kpibot_deliveries", "Scheduled sends (digests, alerts, notices) by kind and status",
                     ["kind", "status"])
SYNC_RUNS = Counter("kpibot_sync_runs", "Source syncs, imports and pushes by source and outcome",
                    ["source", "outcome"])
FACTS_INGESTED = Counter("kpibot_facts_ingested", "Fact values written (new or changed) by source", ["source"])

UNKNOWN_COMMAND = "unparsed"


@dataclass
class LogContext:
    """What a log line may say about the work in hand; never user text, never a secret."""

    request_id: str = ""
    platform: str = ""
    command: str = ""
    outcome: str = "ok"


_context: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("kpibot_log_context", default=None)


def current_context() -> LogContext | None:
    return _context.get()


@contextmanager
def log_context(*, platform: str = "", request_id: str = "", command: str = "") -> Iterator[LogContext]:
    """Log lines inside carry these fields (JSON format); nested contexts inherit what they do not set."""
    outer = _context.get()
    context = LogContext(request_id=request_id or (outer.request_id if outer else "") or uuid.uuid4().hex[:12],
                         platform=platform or (outer.platform if outer else ""),
                         command=command or (outer.command if outer else ""))
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


@contextmanager
def answering(platform: str, request_id: str = "") -> Iterator[LogContext]:
    """Observe one chat answer: latency by platform; count by command, platform and outcome.
    The body sets `.outcome` (ok, refused, hint, failed) and `note_command` names the command."""
    started = time.perf_counter()
    with log_context(platform=platform, request_id=request_id) as context:
        try:
            yield context
        except BaseException:
            context.outcome = "failed"
            raise
        finally:
            ANSWER_SECONDS.labels(platform or "unknown").observe(time.perf_counter() - started)
            ANSWERS.labels(context.command or UNKNOWN_COMMAND, platform or "unknown", context.outcome).inc()


def note_command(name: str) -> None:
    context = _context.get()
    if context is not None:
        context.command = name


def note_outcome(outcome: str) -> None:
    context = _context.get()
    if context is not None:
        context.outcome = outcome


def observe_ack(platform: str, seconds: float) -> None:
    ACK_SECONDS.labels(platform).observe(seconds)


F = TypeVar("F", bound=Callable[..., Any])


def observed_delivery(method: F) -> F:
    """Decorates `Deliverer.deliver(key, …)` / `post_notice(key, …)`: counts each call by `key.kind` and
    the outcome it returns (a DeliveryResult's `.outcome`, or True/False as sent/failed)."""

    @functools.wraps(method)
    def wrapper(self: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(self, key, *args, **kwargs)
        except BaseException:
            DELIVERIES.labels(str(key.kind), "error").inc()
            raise
        DELIVERIES.labels(str(key.kind), _delivery_status(result)).inc()
        return result

    return wrapper  # type: ignore[return-value]


def _delivery_status(result: Any) -> str:
    if isinstance(result, bool):
        return "sent" if result else "not_sent"
    outcome = getattr(result, "outcome", None)
    return str(getattr(outcome, "value", outcome) or "unknown")


def record_run(source: str, *, ok: bool, rows_written: int = 0) -> None:
    """One sync, import or push batch of `source`; `rows_written` values were new or changed."""
    SYNC_RUNS.labels(source, "ok" if ok else "failed").inc()
    if ok and rows_written > 0:
        FACTS_INGESTED.labels(source).inc(rows_written)
