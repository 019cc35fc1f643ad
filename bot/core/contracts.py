"""What adapters get back from the core besides a Reply: action results and the target form."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs import alerts as jobs_alerts
from jobs.meetings.actions import ACTION_ITEM_DONE
from jobs.present.reply import Reply

# Stable action ids. Adapters put them on buttons / form submits and route them back unchanged.
ACTION_ME = "kpi.me"                    # show the asker's KPIs
ACTION_OPEN_TARGET_FORM = "kpi.target_form"  # open the target form (admin)
ACTION_SUBMIT_TARGET = "kpi.target_submit"   # fields: kpi, scope, period, value (+ user)
# Alert buttons (value: the alert rule id) are defined with the alerts that carry them.
ACTION_ALERT_ACK = jobs_alerts.ACTION_ALERT_ACK
ACTION_ALERT_SNOOZE = jobs_alerts.ACTION_ALERT_SNOOZE
ACTION_ITEM_DONE = ACTION_ITEM_DONE  # mark an action item done (value: its id)

# Field names of the target form (modal on Slack, form card on Feishu).
FIELD_KPI = "kpi"
FIELD_SCOPE = "scope"   # "team" | "role:host" | "member:KEY" | "user" (then FIELD_USER is set)
FIELD_USER = "user"     # platform user id chosen in a user/person picker
FIELD_PERIOD = "period"  # a period token: "week", "next-week", "month", "next-month", "quarter", "2026-12"…
FIELD_VALUE = "value"   # parsed like the command: 1.2m, 120万, 15% …


@dataclass
class ActionResult:
    """Outcome of a button or form: a reply to show, or per-field errors (nothing saved)."""

    reply: Reply | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    toast: str | None = None

    @property
    def ok(self) -> bool:
        return not self.field_errors


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass
class TargetFormSpec:
    """Everything a surface needs to draw the target form, in the asker's language."""

    title: str
    submit_label: str
    labels: dict[str, str]  # field name → label
    kpis: list[Option]
    scopes: list[Option]  # team, each role, and "user" (pick a person)
    periods: list[Option]
    value_placeholder: str
