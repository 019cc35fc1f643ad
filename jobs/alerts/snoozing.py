"""How long a snooze lasts: 1 hour, 1 day, 1 week, or until next Monday 09:00 in the team's time zone.

"Until Monday" ends at the start of the next working week rather than at midnight, so the reminders it
held back resume when people are at work. It is always a Monday after today: pressed on a Monday (even
before 09:00) it runs to the Monday a week later. Wall-clock time: 09:00 stays 09:00 across a DST change.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

SNOOZE_CHOICES = ("1h", "1d", "1w", "monday")
DEFAULT_SNOOZE = "1d"  # the old single button (value: the rule id alone) meant a day
MONDAY_AT = time(9, 0)

SPANS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "1w": timedelta(weeks=1)}


def snooze_until(choice: str, now: datetime, tz: tzinfo) -> datetime:
    """When a snooze chosen at `now` ends (UTC). Raises ValueError for a choice not in SNOOZE_CHOICES."""
    if choice in SPANS:
        return (now + SPANS[choice]).astimezone(UTC)
    if choice != "monday":
        raise ValueError(f"snooze must be one of {', '.join(SNOOZE_CHOICES)}, not {choice!r}")
    local = now.astimezone(tz)
    days_ahead = (7 - local.weekday()) % 7 or 7  # Monday is 0: a Monday goes to the next one
    monday = local.date() + timedelta(days=days_ahead)
    return datetime.combine(monday, MONDAY_AT, tzinfo=tz).astimezone(UTC)
