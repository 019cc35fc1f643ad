"""The digest one subscription gets: its cadence (daily, weekly, monthly), its scope and KPI list, in its
language, as a channel post or a direct message (`me`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from jobs.digest import build_digest
from jobs.digest.daily import collect_daily, daily_reply
from jobs.digest.data import review_periods
from jobs.digest.scoped import resolve_scope
from jobs.present.reply import Reply, Table
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import Registry
from storage.models import DigestSubscription
from storage.repositories.subscriptions import kpi_list


def reviewed_period_key(calendar: Calendar, cadence: str, send_day: date) -> str:
    """The ledger's period: the day before for a daily report, else the last complete week or month."""
    if cadence == "daily":
        return (send_day - timedelta(days=1)).isoformat()
    review, _ = review_periods(calendar, cadence, send_day)
    return review.key


def build_for_subscription(
    engine: KpiEngine, registry: Registry, subscription: DigestSubscription, *, currency: str, today: date,
    with_charts: bool = True,
) -> Reply:
    lang = subscription.lang
    kpis = kpi_list(subscription)
    if subscription.cadence == "daily":
        scope = resolve_scope(engine, registry, subscription.scope_kind, subscription.scope_key, kpis, lang)
        return daily_reply(collect_daily(engine, scope, today), lang=lang, currency=currency,
                           personal=subscription.direct)
    reply = build_digest(engine, registry, lang=lang, currency=currency, cadence=subscription.cadence, today=today,
                         with_charts=with_charts)
    if subscription.scope_kind == "team" and not kpis:
        return reply
    scope = resolve_scope(engine, registry, subscription.scope_kind, subscription.scope_key, kpis, lang)
    return narrow(reply, {kpi.label(lang) for kpi in scope.kpis}, scope.label)


def narrow(reply: Reply, kpi_labels: set[str], who: str) -> Reply:
    """A weekly or monthly digest cut to one scope's KPIs: team tables keep those KPIs' rows, role tables
    keep the scope's row (a member) or themselves (a role), the other tables stay."""
    tables: list[Table] = []
    for table in reply.tables:
        kpi_rows = [i for i, row in enumerate(table.rows) if row and row[0] in kpi_labels]
        member_rows = [i for i, row in enumerate(table.rows) if row and row[0] == who]
        keep = kpi_rows or member_rows
        if keep:
            tables.append(replace(table, rows=[table.rows[i] for i in keep],
                                  marks=[table.marks[i] for i in keep] if table.marks else []))
        elif table.title and who in table.title:
            tables.append(table)
    return replace(reply, tables=tables)
