"""Digest subscriptions: which channel (or person, by direct message) gets a review digest, when (daily,
weekly or monthly, in the subscription's own time zone), about whom (team, a role, a shop or a member) and
which KPIs."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from storage.models import DigestSubscription
from storage.repositories.upsert import deactivate

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("daily", "weekly", "monthly")
SCOPE_KINDS = ("team", "role", "shop", "member")


def normalise_schedule(cadence: str, day: str, time: str, timezone: str) -> tuple[str, str, str, str]:
    """Check and normalise a schedule; raise ValueError saying what is expected.

    daily: day is ignored (stored as ''); weekly: a weekday name (`mon`, `Monday` …); monthly: a day of
    month 1–31 or `last`.
    time is `HH:MM` (24 h); timezone an IANA name."""
    cadence = cadence.strip().lower()
    if cadence not in CADENCES:
        raise ValueError(f"cadence must be daily, weekly or monthly, not {cadence!r}")
    day = day.strip().lower()
    if cadence == "daily":
        day = ""
    elif cadence == "weekly":
        if day[:3] not in WEEKDAYS or not day.isalpha():
            raise ValueError(f"a weekly digest needs a weekday name (mon … sun), not {day!r}")
        day = day[:3]
    elif day != "last" and not (day.isdigit() and 1 <= int(day) <= 31):
        raise ValueError(f"a monthly digest needs a day of month 1–31 or 'last', not {day!r}")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", time.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"time must be HH:MM (24-hour), not {time!r}")
    time = f"{int(match[1]):02d}:{match[2]}"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; expected an IANA name such as Asia/Shanghai") from None
    return cadence, day, time, timezone


def add_subscription(
    session: Session, *, platform: str, channel: str, cadence: str, day: str, time: str, timezone: str,
    lang: str, created_by: str, direct: bool = False, scope_kind: str = "team", scope_key: str = "",
    kpis: list[str] | tuple[str, ...] = (),
) -> DigestSubscription:
    """`direct`: `channel` is a user id and the digest goes to them as a direct message."""
    cadence, day, time, timezone = normalise_schedule(cadence, day, time, timezone)
    if scope_kind not in SCOPE_KINDS:
        raise ValueError(f"scope must be one of {', '.join(SCOPE_KINDS)}, not {scope_kind!r}")
    if (scope_kind == "team") != (not scope_key):
        raise ValueError("a team digest has no scope key; a role, shop or member digest needs one")
    subscription = DigestSubscription(
        platform=platform, channel=channel, cadence=cadence, day=day, time=time, timezone=timezone,
        lang="zh" if lang == "zh" else "en", created_by=created_by, direct=direct, scope_kind=scope_kind,
        scope_key=scope_key, kpis=",".join(kpis),
    )
    session.add(subscription)
    session.flush()
    return subscription


def kpi_list(subscription: DigestSubscription) -> list[str]:
    return [k for k in subscription.kpis.split(",") if k]


def get_subscription(session: Session, subscription_id: int) -> DigestSubscription | None:
    return session.get(DigestSubscription, subscription_id)


def list_subscriptions(
    session: Session, *, platform: str | None = None, active_only: bool = True,
) -> list[DigestSubscription]:
    stmt = select(DigestSubscription)
    if platform is not None:
        stmt = stmt.where(DigestSubscription.platform == platform)
    if active_only:
        stmt = stmt.where(DigestSubscription.active == True)  # noqa: E712
    return list(session.exec(stmt.order_by(col(DigestSubscription.id))))


def deactivate_subscription(session: Session, subscription_id: int) -> DigestSubscription | None:
    """None when the subscription is unknown or already inactive."""
    return deactivate(session, DigestSubscription, subscription_id)
