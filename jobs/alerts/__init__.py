"""Threshold alerts (SPEC §7): conditions over the KPI engine, a fire / remind / resolve lifecycle kept in
`alert_state`, every post through the delivery ledger, and the acknowledge / snooze buttons."""

from jobs.alerts.actions import acknowledge, snooze
from jobs.alerts.conditions import Observation, observe
from jobs.alerts.lifecycle import AlertEvent, AlertRunner, next_message
from jobs.alerts.messages import ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE, condition_text, rule_summary

__all__ = [
    "ACTION_ALERT_ACK",
    "ACTION_ALERT_SNOOZE",
    "AlertEvent",
    "AlertRunner",
    "Observation",
    "acknowledge",
    "condition_text",
    "next_message",
    "observe",
    "rule_summary",
    "snooze",
]
