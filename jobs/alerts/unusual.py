"""`alert add gmv unusual [scope]`: an alert that fires once for each unusual day of the KPI in its scope
(storage/kpi/unusual.py decides what is unusual). No episode or reminders: each unusual day is one message,
sent at most once through the ledger (keyed by rule and day), so repeated evaluations never post it twice."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from jobs.alerts.conditions import rule_scope
from jobs.alerts.messages import AlertView
from jobs.analysis.messages import T
from jobs.delivery import Deliverer, DeliveryResult
from jobs.present.formatting import kpi_value
from jobs.present.reply import Figure, Mark, Reply, ReplyKind
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scan import scan_unusual
from storage.kpi.unusual import Finding
from storage.models import AlertRule
from storage.repositories.ledger import DeliveryKey

LOOK_BACK_DAYS = 7  # complete days checked at each evaluation (a bot that was down catches up on a week)
UNUSUAL_KIND = "alert"


def unusual_days(db: Database, engine: KpiEngine, registry: Registry, kpi: KpiDef, rule: AlertRule) -> list[Finding]:
    """The rule's unusual days among the last complete days since it was created, oldest first."""
    today = engine.today()
    first = max(today - timedelta(days=LOOK_BACK_DAYS), rule.created_at.astimezone(engine.tz).date())
    last = today - timedelta(days=1)
    if last < first:
        return []
    scope = rule_scope(rule)
    found = scan_unusual(db, registry, first, last, kpis=[kpi], scope=scope)
    return sorted(found, key=lambda f: f.day)


def deliver_unusual(deliverer: Deliverer, view: AlertView, findings: list[Finding]) -> list[DeliveryResult]:
    out = []
    for finding in findings:
        key = DeliveryKey(UNUSUAL_KIND, str(view.rule.id), f"unusual/{finding.day.isoformat()}", view.rule.channel)
        out.append(deliverer.deliver(key, partial(unusual_alert_reply, view, finding), lang=view.lang))
    return out


def unusual_alert_reply(view: AlertView, finding: Finding) -> Reply:
    lang, kpi, j = view.lang, view.kpi, finding.judgement
    value = lambda v: kpi_value(v, kpi.unit, view.currency, lang)  # noqa: E731
    good = (j.z > 0) != kpi.lower_is_better
    return Reply(
        title=T("alert_unusual_title", lang, kpi=kpi.label(lang), scope=view.scope_label, day=finding.day.isoformat()),
        lang=lang, kind=ReplyKind.NOTICE, mark=Mark.ON_TRACK if good else Mark.OFF_TRACK, public=True,
        figures=[Figure(T("unusual_value", lang), value(j.value)),
                 Figure(T("unusual_expected", lang), f"{value(max(j.low, 0.0))} – {value(j.high)}"),
                 Figure(T("unusual_z", lang), f"{j.z:+.1f}")],
        footnotes=[T("unusual_promo_note", lang)] * finding.promo + [T("unusual_method", lang)],
    )


def unusual_condition(kpi: KpiDef, lang: str) -> str:
    return T("alert_unusual_condition", lang, kpi=kpi.label(lang))

