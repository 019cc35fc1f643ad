"""Threshold alerts (SPEC §7): conditions over the KPI engine, a fire / remind / resolve lifecycle kept in
`alert_state`, every post through the delivery ledger, follow-ups in the original's thread, the original
updated as the episode changes, and acknowledge / snooze (buttons and chat commands)."""

from jobs.alerts.actions import acknowledge, snooze
from jobs.alerts.conditions import Observation, observe
from jobs.alerts.lifecycle import AlertEvent, AlertRunner, next_message
from jobs.alerts.messages import ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE, condition_text, rule_summary
from jobs.alerts.original import refresh_original
from jobs.alerts.snoozing import DEFAULT_SNOOZE, SNOOZE_CHOICES, snooze_until

__all__ = [
    "ACTION_ALERT_ACK",
    "ACTION_ALERT_SNOOZE",
    "DEFAULT_SNOOZE",
    "SNOOZE_CHOICES",
    "AlertEvent",
    "AlertRunner",
    "Observation",
    "acknowledge",
    "condition_text",
    "next_message",
    "observe",
    "refresh_original",
    "rule_summary",
    "snooze",
    "snooze_until",
]
