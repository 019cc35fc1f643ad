"""Unusual days across every scope the bot reports on — the team, each role, each member — and their KPIs,
from one daily-series statement (storage/repositories/series.py) and the notes of those weeks.

Which KPIs per scope: the team every KPI with data; a role its own KPIs; a member the KPIs of their roles
measured per member (an ops manager's KPIs are the team's, judged there). Each scope reads only the metrics
of its own KPIs, and the team's and roles' sums are rolled up by the database: members' rows are fetched
only for the KPIs judged per member.
"""

from __future__ import annotations

from datetime import date, timedelta

from storage.db import Database
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.kpi.unusual import (
    Finding,
    day_values,
    history_days,
    history_start,
    judge_values,
    min_volume_of,
    strongest_first,
)
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo
from storage.repositories.series import DailyRead, ScopeKey, daily_by_scope


def scan_unusual(
    db: Database, registry: Registry, first: date, last: date, *, kpis: list[KpiDef] | None = None,
    scope: Scope | None = None,
) -> list[Finding]:
    """Unusual days in [first, last], strongest first; only `kpis` / `scope` when given."""
    candidates = kpis or list(registry.kpis.values())
    start = history_start(first)
    wanted = {kpi.id for kpi in candidates}
    with db.session() as session:
        # A full scan learns members' roles from its holders' reads, without reading them first: a role of a
        # member's whose read found no rows of theirs leaves each of its KPIs a metric without rows, no value.
        roles_of: dict[str, list[str]] = {} if scope is None else member_repo.role_map(session)
        reads = _reads(registry, wanted, roles_of, scope)
        if not reads:
            return []
        series = daily_by_scope(session, reads, start, last, holders=roles_of if scope is None else None)
        notes = note_repo.notes_between(session, start, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    findings: list[Finding] = []
    histories: dict[frozenset[date], list[tuple[date, list[date]]]] = {}  # per set of promo days (mostly none)
    for key, daily in series.items():
        here = scope or Scope(key[0], key[1])  # type: ignore[arg-type]
        promo = frozenset(note_repo.promo_days(notes, here))
        if (history := histories.get(promo)) is None:
            history = histories[promo] = history_days(days, promo)
        for kpi in _kpis_of(registry, key, roles_of, wanted):
            values = day_values(kpi, daily, min_volume_of(registry, kpi))
            for day, judgement in judge_values(values, history, unusual_only=True):
                findings.append(Finding(kpi, key, day, judgement, day in promo))
    return strongest_first(findings)


def _reads(
    registry: Registry, wanted: set[str], roles_of: dict[str, list[str]], scope: Scope | None,
) -> list[DailyRead]:
    """What to read for each scope judged (only `scope` when given): the metrics of that scope's KPIs."""
    def metrics(kpis: list[KpiDef]) -> tuple[str, ...]:
        return tuple(sorted({m for kpi in kpis for m in kpi.metrics}))

    if scope is not None:
        if scope.kind not in ("team", "role", "member", "shop"):
            return []
        mine = metrics(_kpis_of(registry, (scope.kind, scope.key), roles_of, wanted))
        return [DailyRead(scope.kind, scope.key, mine, scope.inner_shop)]  # a role or member in one shop: its rows
    reads = [DailyRead("team", "", metrics(_kpis_of(registry, ("team", ""), roles_of, wanted)))]
    for role_id, role in registry.roles.items():
        mine = metrics(_kpis_of(registry, ("role", role_id), roles_of, wanted))
        reads.append(DailyRead("role", role_id, mine))
        if role.measured_on == "member":
            reads.append(DailyRead("holders", role_id, mine))
    return [read for read in reads if read.metrics]


def _kpis_of(registry: Registry, key: ScopeKey, roles_of: dict[str, list[str]], wanted: set[str]) -> list[KpiDef]:
    kind, name = key
    if kind in ("team", "shop"):  # a shop is judged on the team's KPIs, its rows only
        ids = list(registry.kpis)
    elif kind == "role":
        role = registry.roles.get(name)
        ids = list(role.kpis) if role else []
    else:
        ids = [k for r in roles_of.get(name, []) if (role := registry.roles.get(r)) and role.measured_on == "member"
               for k in role.kpis]
    return [registry.kpis[k] for k in dict.fromkeys(ids) if k in wanted and k in registry.kpis]
