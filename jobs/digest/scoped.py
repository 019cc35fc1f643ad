"""Who a subscription's digest is about and which KPIs it shows: the team's, a role's, or one member's
own (their roles' KPIs, or their role's team figures when the role is measured on the team)."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.digest.messages import T
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo


@dataclass(frozen=True)
class DigestScope:
    scope: Scope
    label: str
    kpis: list[KpiDef]


def resolve_scope(
    engine: KpiEngine, registry: Registry, kind: str, key: str, kpi_ids: list[str], lang: str,
) -> DigestScope:
    """Raise ValueError naming what is wrong (unknown role or KPI, a scope this build cannot read)."""
    chosen = [registry.kpis[k] for k in kpi_ids if k in registry.kpis]
    unknown = [k for k in kpi_ids if k not in registry.kpis]
    if unknown:
        raise ValueError(f"unknown KPI(s) {', '.join(unknown)}")
    if kind == "team":
        return DigestScope(Scope.team(), T("team", lang), chosen or _ids(registry, registry.team_kpis))
    if kind == "role":
        role = registry.roles.get(key)
        if role is None:
            raise ValueError(f"unknown role {key!r}")
        scope = Scope.team() if role.measured_on == "team" else Scope.role(role.id)
        return DigestScope(scope, role.label(lang), chosen or _ids(registry, list(role.kpis)))
    if kind == "member":
        with engine.db.session() as session:
            member = member_repo.member_by_key(session, key)
            roles = member_repo.roles_of(session, member.id) if member and member.id is not None else []
            name = (member.display_name if member else None) or key
        defaults = [k for role_id in roles if role_id in registry.roles for k in registry.roles[role_id].kpis]
        on_team = bool(roles) and all(registry.roles[r].measured_on == "team" for r in roles if r in registry.roles)
        scope = Scope.team() if on_team else Scope.member(key)
        return DigestScope(scope, name, chosen or _ids(registry, list(dict.fromkeys(defaults)) or registry.team_kpis))
    raise ValueError(f"a {kind} digest is not available yet (team, role or member)")


def _ids(registry: Registry, ids: list[str]) -> list[KpiDef]:
    return [registry.kpis[k] for k in ids if k in registry.kpis]
