"""Unusual days across every scope the bot reports on — the team, each role, each member — and their KPIs,
from one daily-series statement (storage/repositories/series.py) and the notes of those weeks.

Which KPIs per scope: the team every KPI with data; a role its own KPIs; a member the KPIs of their roles
measured per member (an ops manager's KPIs are the team's, judged there).
"""

from __future__ import annotations

from datetime import date, timedelta

from storage.db import Database
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.kpi.unusual import Finding, history_start, judge_days, min_volume_of, strongest_first
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo
from storage.repositories.series import ScopeKey, daily_by_scope


def scan_unusual(
    db: Database, registry: Registry, first: date, last: date, *, kpis: list[KpiDef] | None = None,
    scope: Scope | None = None,
) -> list[Finding]:
    """Unusual days in [first, last], strongest first; only `kpis` / `scope` when given."""
    candidates = kpis or list(registry.kpis.values())
    metrics = sorted({m for kpi in candidates for m in kpi.metrics})
    start = history_start(first)
    with db.session() as session:
        series = daily_by_scope(session, metrics, start, last)
        notes = note_repo.notes_between(session, start, last)
        roles_of = member_repo.role_map(session)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    wanted = {kpi.id for kpi in candidates}
    findings: list[Finding] = []
    for key, daily in series.items():
        if scope is not None and key != (scope.kind, scope.key):
            continue
        here = Scope(key[0], key[1])  # type: ignore[arg-type]
        promo = note_repo.promo_days(notes, here)
        for kpi in _kpis_of(registry, key, roles_of, wanted):
            for day, judgement in judge_days(kpi, daily, days, promo_days=promo,
                                             min_volume=min_volume_of(registry, kpi)):
                if judgement.unusual:
                    findings.append(Finding(kpi, key, day, judgement, day in promo))
    return strongest_first(findings)


def _kpis_of(registry: Registry, key: ScopeKey, roles_of: dict[str, list[str]], wanted: set[str]) -> list[KpiDef]:
    kind, name = key
    if kind == "team":
        ids = list(registry.kpis)
    elif kind == "role":
        role = registry.roles.get(name)
        ids = list(role.kpis) if role else []
    else:
        ids = [k for r in roles_of.get(name, []) if (role := registry.roles.get(r)) and role.measured_on == "member"
               for k in role.kpis]
    return [registry.kpis[k] for k in dict.fromkeys(ids) if k in wanted and k in registry.kpis]
