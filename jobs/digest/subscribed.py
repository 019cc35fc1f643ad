"""The digest one subscription gets: its cadence (daily, weekly, monthly), its scope and KPI list, in its
language, as a channel post or a direct message (`me`)."""

from __future__ import annotations

from datetime import date, timedelta

from jobs.digest import build_digest
from jobs.digest.daily import collect_daily, daily_reply
from jobs.digest.data import review_periods
from jobs.digest.scoped import resolve_scope
from jobs.present.reply import Reply
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
    """The subscription's own digest: its cadence, about its scope (team, role, shop or member) and KPIs."""
    lang = subscription.lang
    who = resolve_scope(engine, registry, subscription.scope_kind, subscription.scope_key, kpi_list(subscription),
                        lang)
    if subscription.cadence == "daily":
        return daily_reply(collect_daily(engine, who, today), lang=lang, currency=currency,
                           personal=subscription.direct and bool(who.owner))
    team = who.is_team and not who.only_kpis
    return build_digest(engine, registry, lang=lang, currency=currency, cadence=subscription.cadence, today=today,
                        with_charts=with_charts, who=None if team else who,
                        personal=subscription.direct and bool(who.owner))
