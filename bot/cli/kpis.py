"""`kpibot kpis list|check`."""

from __future__ import annotations

from pathlib import Path

import typer

from jobs.sources import check_sources_config
from storage.kpi.registry import Registry, check_kpi_file, read_kpi_file


def print_registry(registry: Registry) -> None:
    typer.echo("KPIs")
    for kpi in registry.kpis.values():
        direction = "lower is better" if kpi.lower_is_better else "higher is better"
        kind = "additive" if kpi.additive else "ratio"
        typer.echo(f"  {kpi.id:<26} {kpi.label_en} / {kpi.label_zh}  = {kpi.formula.text}  "
                   f"[{kpi.unit}, {direction}, {kind}, warn {kpi.warn:.0%}]")
    typer.echo("Roles")
    for role in registry.roles.values():
        weights = ", ".join(f"{k} {w:g}" for k, w in role.kpis.items())
        typer.echo(f"  {role.id:<14} {role.label_en} / {role.label_zh}: {weights}")
    typer.echo(f"Team KPIs: {', '.join(registry.team_kpis)}")


def check_file(path: Path) -> int:
    problems = [str(p) for p in check_kpi_file(path)]
    data, unreadable = read_kpi_file(path)
    if not unreadable:
        problems += [f"{path}: {problem}" for problem in check_sources_config(data, str(path))]
    if not problems:
        typer.echo(f"{path}: OK")
        return 0
    for problem in problems:
        typer.echo(problem, err=True)
    typer.echo(f"{len(problems)} problem(s)", err=True)
    return 1
