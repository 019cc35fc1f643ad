"""Threshold alerts (SPEC §7): conditions over the KPI engine, a fire / remind / resolve lifecycle kept in
`alert_state`, every post through the delivery ledger, follow-ups in the original's thread, the original
updated as the episode changes, and acknowledge / snooze (buttons and chat commands).

The names below load their submodule when first used (jobs/lazy.py): the chat core reads the button ids
and snooze choices at every start, the lifecycle only runs in the scheduler."""

from typing import TYPE_CHECKING

from jobs.lazy import lazy_exports

if TYPE_CHECKING:
    from jobs.alerts.actions import acknowledge, snooze
    from jobs.alerts.conditions import Observation, observe
    from jobs.alerts.lifecycle import AlertEvent, AlertRunner, next_message
    from jobs.alerts.messages import ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE, condition_text, rule_summary
    from jobs.alerts.original import refresh_original
    from jobs.alerts.snoozing import DEFAULT_SNOOZE, SNOOZE_CHOICES, snooze_until

__getattr__ = lazy_exports(__name__, {
    "actions": ("acknowledge", "snooze"),
    "conditions": ("Observation", "observe"),
    "lifecycle": ("AlertEvent", "AlertRunner", "next_message"),
    "messages": ("ACTION_ALERT_ACK", "ACTION_ALERT_SNOOZE", "condition_text", "rule_summary"),
    "original": ("refresh_original",),
    "snoozing": ("DEFAULT_SNOOZE", "SNOOZE_CHOICES", "snooze_until"),
})

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
