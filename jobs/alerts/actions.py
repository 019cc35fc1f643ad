"""The buttons on an alert: acknowledge (no reminders until it clears) and snooze (no reminders for a while).

Both write only their own columns of the rule's state, so they are safe from any replica while the
scheduler's evaluation updates the others.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from jobs.timing import utc_now
from storage.db import Database
from storage.repositories import alerts as alert_repo

log = logging.getLogger(__name__)


def acknowledge(db: Database, rule_id: int, by: str) -> bool:
    """Stop reminders for the current episode until it clears. False when the rule is unknown or removed."""
    with db.session() as session:
        rule = alert_repo.get_rule(session, rule_id)
        if rule is None or not rule.active:
            return False
        state = alert_repo.ensure_state(session, rule_id)
        state.acknowledged_by = by[:320]
        session.add(state)
    log.info("alert rule %s acknowledged by %s", rule_id, by)
    return True


def snooze(
    db: Database, rule_id: int, by: str, hours: float = 24, *, now: datetime | None = None,
    until: datetime | None = None,
) -> bool:
    """No reminders for `hours`, or until `until` (then they resume, at most once per cooldown). False when
    the rule is unknown or removed."""
    end = until or (now or utc_now()) + timedelta(hours=hours)
    with db.session() as session:
        rule = alert_repo.get_rule(session, rule_id)
        if rule is None or not rule.active:
            return False
        state = alert_repo.ensure_state(session, rule_id)
        state.snoozed_until = end
        session.add(state)
    log.info("alert rule %s snoozed until %s by %s", rule_id, end.isoformat(), by)
    return True
