"""KPI files: extending the built-ins, and every kind of error reported with file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.kpi.formula import FormulaError, parse_formula
from storage.kpi.registry import KpiFileError, check_kpi_file, load_registry

GOOD = """
metrics: [refunds]
kpis:
  refund_rate:
    label: {en: Refund rate, zh: 退款率}
    formula: refunds / orders
    unit: percent
    direction: lower
    aliases: [退款率]
  gmv:
    warn: 0.8
roles:
  host:
    kpis: {gmv: 0.5, refund_rate: 0.5}
"""

BAD = """
kpis:
  a: {formula: "gmv / nosuchmetric", unit: currency}
  b: {formula: "gmv / (2 - 2)", unit: currency}
  c: {formula: gmv, unit: dollars}
  d: {formula: gmv, direction: sideways}
  e: {formula: gmv, roles: [astronaut]}
  f: {formula: "gmv +", unit: count}
roles:
  host:
    kpis: {nosuchkpi: 1}
"""


def test_a_kpi_file_extends_and_overrides_the_builtins(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert check_kpi_file(path) == []
    registry = load_registry(path)
    assert registry.kpi("退款率").id == "refund_rate"  # type: ignore[union-attr]
    assert registry.kpis["refund_rate"].lower_is_better
    assert registry.kpis["gmv"].warn == 0.8
    assert registry.kpis["gmv"].formula.text == "gmv"  # the rest of the built-in stays
    assert registry.roles["host"].kpis == {"gmv": 0.5, "refund_rate": 0.5}
    assert "refunds" in registry.metrics


def test_every_problem_of_a_kpi_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    problems = {(p.key, p.reason) for p in check_kpi_file(path)}
    assert ("kpis.a.formula", "unknown metric 'nosuchmetric'") in problems
    assert any(key == "kpis.b.formula" and "division by a constant zero" in reason for key, reason in problems)
    assert any(key == "kpis.c.unit" and "'dollars' is not one of" in reason for key, reason in problems)
    assert any(key == "kpis.d.direction" and "'sideways'" in reason for key, reason in problems)
    assert ("kpis.e.roles", "unknown role 'astronaut'") in problems
    assert any(key == "kpis.f.formula" for key, _ in problems)
    assert ("roles.host.kpis.nosuchkpi", "unknown KPI") in problems
    assert all(p.file == str(path) for p in check_kpi_file(path))
    with pytest.raises(KpiFileError):
        load_registry(path)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("kpis:\n  a: [unclosed\n", encoding="utf-8")
    [problem] = check_kpi_file(path)
    assert problem.key.startswith("line ")


@pytest.mark.parametrize("text", ["__import__('os')", "gmv ** 2", "gmv; orders", "", "gmv / 0", "(gmv"])
def test_formulas_are_parsed_safely(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_formula_evaluation() -> None:
    formula = parse_formula("(gmv - returns_value) / orders * 100")
    assert formula.metrics == ["gmv", "returns_value", "orders"]
    assert formula.evaluate({"gmv": 1100, "returns_value": 100, "orders": 50}) == 2000  # (1000 / 50) × 100
    assert not formula.additive
    assert parse_formula("gmv + ad_spend").additive
