"""Triggers built from our own rows, and a thin wrapper over APScheduler's BackgroundScheduler.

The database is the source of truth (subscriptions, alert rules, configured sources); the scheduler
holds only in-memory jobs rebuilt from it. Triggers are built field by field with an explicit ZoneInfo
and weekday *names*: APScheduler numbers weekdays from Monday = 0 even in `from_crontab`, where
crontab means Sunday = 0.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CRONTAB_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 (and 7) = Sunday
# A late run is still worth making within the catch-up window; APScheduler's default grace is 1 s.
MISFIRE_GRACE = timedelta(hours=12)


def parse_time(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"time must be HH:MM (24-hour), not {text!r}")
    return int(match[1]), int(match[2])


def digest_trigger(cadence: str, day: str, time: str, timezone: str) -> CronTrigger:
    """daily: `day` is ignored; weekly: `day` is a weekday name; monthly: a day of month or `last`.
    Days 29–31 mean the last day of the month, so short months still get their digest."""
    hour, minute = parse_time(time)
    zone = ZoneInfo(timezone)
    day = day.strip().lower()
    if cadence == "daily":
        return CronTrigger(hour=hour, minute=minute, timezone=zone)
    if cadence == "weekly":
        if day[:3] not in WEEKDAY_NAMES:
            raise ValueError(f"a weekly digest needs a weekday name (mon … sun), not {day!r}")
        return CronTrigger(day_of_week=day[:3], hour=hour, minute=minute, timezone=zone)
    if cadence == "monthly":
        if day == "last" or (day.isdigit() and 28 < int(day) <= 31):
            return CronTrigger(day="last", hour=hour, minute=minute, timezone=zone)
        if day.isdigit() and 1 <= int(day) <= 28:
            return CronTrigger(day=int(day), hour=hour, minute=minute, timezone=zone)
        raise ValueError(f"a monthly digest needs a day of month 1–31 or 'last', not {day!r}")
    raise ValueError(f"cadence must be daily, weekly or monthly, not {cadence!r}")


def crontab_trigger(expression: str, timezone: str) -> CronTrigger:
    """A 5-field crontab (`minute hour day month weekday`) with crontab's weekday numbering (0/7 = Sunday).

    Unlike cron, when both day-of-month and weekday are restricted APScheduler requires both to match."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 crontab fields (minute hour day month weekday), got {expression!r}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(weekday), timezone=ZoneInfo(timezone))


def crontab_weekdays(expression: str) -> str:
    """Crontab weekday field → APScheduler names: `1-5` → `mon,tue,wed,thu,fri`, `0` → `sun`, `*/2` →
    `tue,thu,sat,sun` (crontab's 0, 2, 4, 6)."""
    if expression in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in expression.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad weekday step in {expression!r}")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _crontab_day(first), _crontab_day(last)
            if high < low:
                high += 7
        else:
            low = _crontab_day(span)
            high = 6 if step_text else low
        days.update(number % 7 for number in range(low, high + 1, step))
    names = {CRONTAB_DAY_NAMES[number] for number in days}
    return ",".join(name for name in WEEKDAY_NAMES if name in names)


def _crontab_day(token: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in CRONTAB_DAY_NAMES:
        return CRONTAB_DAY_NAMES.index(token[:3])
    raise ValueError(f"unknown weekday {token!r} in a crontab (expected 0–7 or sun … sat)")


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end]."""
    out: list[datetime] = []
    previous: datetime | None = None
    moment = start
    while True:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > end:
            return out
        out.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)


def latest_fire_time(trigger: BaseTrigger, now: datetime, lookback: timedelta = timedelta(days=8)) -> datetime | None:
    """The last fire time at or before `now` (looking back at most `lookback`)."""
    times = fire_times(trigger, now - lookback, now)
    return times[-1] if times else None


@dataclass(frozen=True)
class JobSpec:
    id: str
    trigger: BaseTrigger
    func: Callable[..., Any]
    args: tuple[Any, ...] = ()
    fingerprint: str = field(default="")

    def key(self) -> str:
        return self.fingerprint or f"{self.trigger!r}|{self.args!r}"


class JobScheduler:
    """In-memory jobs only. `sync(specs)` adds new jobs, replaces changed ones and removes the rest, leaving
    unchanged jobs alone (replacing a job recomputes its next run from now, which could drop a due run)."""

    def __init__(self, *, max_workers: int = 4) -> None:
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(MISFIRE_GRACE.total_seconds())},
            timezone=UTC,
        )
        self._managed: dict[str, str] = {}  # job id → spec key

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._scheduler.start()

    def pause(self) -> None:
        """Start no further job runs (runs under way go on); `shutdown` later."""
        if self._scheduler.running:
            self._scheduler.pause()

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
        self._managed.clear()

    def sync(self, specs: list[JobSpec]) -> None:
        wanted = {spec.id: spec for spec in specs}
        for job_id in list(self._managed):
            if job_id not in wanted:
                self._remove(job_id)
        for job_id, spec in wanted.items():
            if self._managed.get(job_id) == spec.key():
                continue
            self._remove(job_id)
            self._scheduler.add_job(spec.func, spec.trigger, args=list(spec.args), id=job_id, name=job_id,
                                    replace_existing=True)
            self._managed[job_id] = spec.key()
            log.info("scheduled %s: %s", job_id, spec.trigger)

    def next_run_times(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def _remove(self, job_id: str) -> None:
        if self._managed.pop(job_id, None) is not None and self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)
