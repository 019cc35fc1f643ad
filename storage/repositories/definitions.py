"""Mirror the KPIs and roles in force into their tables (the registry stays the source of truth),
so SQL tools and reports can join on them."""

from __future__ import annotations

from sqlmodel import Session, delete, select

from storage.kpi.registry import Registry
from storage.models import KpiDefinition, Role


def sync_definitions(session: Session, registry: Registry) -> None:
    existing_kpis = {k.id: k for k in session.exec(select(KpiDefinition))}
    for kpi in registry.kpis.values():
        row = existing_kpis.pop(kpi.id, None) or KpiDefinition(id=kpi.id, label_en="", label_zh="", formula="",
                                                                 unit="", direction="")
        row.label_en, row.label_zh, row.formula = kpi.label_en, kpi.label_zh, kpi.formula.text
        row.unit, row.direction, row.warn = kpi.unit, kpi.direction, kpi.warn
        session.add(row)
    if existing_kpis:
        session.execute(delete(KpiDefinition).where(KpiDefinition.id.in_(list(existing_kpis))))  # type: ignore[attr-defined]
    existing_roles = {r.id: r for r in session.exec(select(Role))}
    for role in registry.roles.values():
        role_row = existing_roles.pop(role.id, None) or Role(id=role.id, label_en="", label_zh="")
        role_row.label_en, role_row.label_zh = role.label_en, role.label_zh
        session.add(role_row)
    if existing_roles:
        session.execute(delete(Role).where(Role.id.in_(list(existing_roles))))  # type: ignore[attr-defined]
