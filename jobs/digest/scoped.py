"""Who a subscription's digest is about and which KPIs it shows: the team's, a role's, a shop's or one
member's own (their roles' KPIs, or their role's team figures when the role is measured on the team)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs.digest.messages import T
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scope import Scope
from storage.repositories import facts as fact_repo
from storage.repositories import members as member_repo


@dataclass(frozen=True)
class DigestScope:
    scope: Scope
    label: str
    kpis: list[KpiDef]
    kind: str = "team"  # team | role | shop | member: what was subscribed (a member's `scope` may be the team)
    roles: tuple[str, ...] = ()  # roles whose members get a table (team: every role; a role: itself)
    only_kpis: frozenset[str] | None = None  # `kpis:a,b` written: role tables keep only these
    owner: str = ""  # a member digest: whose actions and composite score
    weights: dict[str, float] = field(default_factory=dict)  # a member's KPIs' weights in their composite

    @property
    def is_team(self) -> bool:
        return self.kind == "team"


def resolve_scope(
    engine: KpiEngine, registry: Registry, kind: str, key: str, kpi_ids: list[str], lang: str,
) -> DigestScope:
    """Raise ValueError naming what is wrong (unknown role, shop or KPI)."""
    chosen = [registry.kpis[k] for k in kpi_ids if k in registry.kpis]
    unknown = [k for k in kpi_ids if k not in registry.kpis]
    if unknown:
        raise ValueError(f"unknown KPI(s) {', '.join(unknown)}")
    only = frozenset(kpi_ids) if kpi_ids else None
    if kind == "team":
        return DigestScope(Scope.team(), T("team", lang), chosen or _ids(registry, registry.team_kpis),
                           roles=tuple(registry.roles), only_kpis=only)
    if kind == "role":
        role = registry.roles.get(key)
        if role is None:
            raise ValueError(f"unknown role {key!r}")
        scope = Scope.team() if role.measured_on == "team" else Scope.role(role.id)
        return DigestScope(scope, role.label(lang), chosen or _ids(registry, list(role.kpis)), kind="role",
                           roles=(role.id,), only_kpis=only)
    if kind == "shop":
        with engine.db.session() as session:
            known = set(registry.shops) | set(fact_repo.shops_with_data(session))
        if key not in known:
            raise ValueError(f"unknown shop {key!r}; shops: {', '.join(sorted(known)) or 'none yet'}")
        shop = registry.shops.get(key)
        return DigestScope(Scope.of_shop(key), shop.name if shop else key,
                           chosen or _ids(registry, registry.team_kpis), kind="shop")
    if kind == "member":
        with engine.db.session() as session:
            member = member_repo.member_by_key(session, key)
            roles = member_repo.roles_of(session, member.id) if member and member.id is not None else []
            name = (member.display_name if member else None) or key
        known_roles = [registry.roles[r] for r in roles if r in registry.roles]
        defaults = [k for role in known_roles for k in role.kpis]
        weights = {k: w for role in known_roles for k, w in role.kpis.items()}
        on_team = bool(known_roles) and all(role.measured_on == "team" for role in known_roles)
        scope = Scope.team() if on_team else Scope.member(key)
        kpis = chosen or _ids(registry, list(dict.fromkeys(defaults)) or registry.team_kpis)
        return DigestScope(scope, name, kpis, kind="member", owner=key, weights=weights)
    raise ValueError(f"a {kind} digest is not available (team, role, shop or member)")


def _ids(registry: Registry, ids: list[str]) -> list[KpiDef]:
    return [registry.kpis[k] for k in ids if k in registry.kpis]
