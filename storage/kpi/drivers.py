"""Driver trees: a KPI written as a product of factors, e.g. a host's GMV = live viewers × live conversion
× live order value. `why` splits a KPI's change into its factors with LMDI-I (storage/kpi/lmdi.py).

A factor is a KPI id, a raw metric, or a formula with a label. Built-in trees cover GMV (a host's and the
team's), orders, ROAS and the editors' completion rate; the KPI file adds or replaces them per KPI:

    kpis:
      gmv:
        drivers: [live_viewers, live_cvr,
                  {formula: gmv / live_orders, label: {en: Order value, zh: 客单价}, unit: currency}]
      # or one tree per role, `default` for every other scope:
      #   drivers: {host: [...], default: [...]}

`check_drivers` (part of `kpis check`) verifies that each tree's product equals its KPI — the file's trees,
and the built-in trees of KPIs whose formula the file redefines: both are evaluated on several sets of
positive metric values and must agree.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.kpi.formula import Formula, FormulaError, parse_formula
from storage.kpi.problems import Problem

if TYPE_CHECKING:
    from storage.kpi.registry import Registry

DEFAULT = "default"

# KPI id → role id (or DEFAULT) → factors. ROAS's last factor follows the KPI's numerator (see `_builtin`).
BUILTIN_TREES: dict[str, dict[str, list[Any]]] = {
    "gmv": {
        "host": ["live_viewers", "live_cvr",
                 {"formula": "gmv / live_orders", "label": {"en": "Live order value", "zh": "直播客单价"},
                  "unit": "currency"}],
        DEFAULT: ["impressions", "ctr",
                  {"formula": "orders / clicks", "label": {"en": "Click conversion", "zh": "点击转化率"},
                   "unit": "percent"}, "aov"],
    },
    "orders": {
        "host": ["live_viewers", "live_cvr",
                 {"formula": "orders / live_orders", "label": {"en": "Orders per live order", "zh": "订单/直播订单"},
                  "unit": "ratio"}],
        DEFAULT: ["impressions", "ctr",
                  {"formula": "orders / clicks", "label": {"en": "Click conversion", "zh": "点击转化率"},
                   "unit": "percent"}],
    },
    "roas": {
        DEFAULT: [{"formula": "clicks / ad_spend", "label": {"en": "Clicks per ad spend", "zh": "单位消耗点击"},
                   "unit": "ratio"},
                  {"formula": "orders / clicks", "label": {"en": "Click conversion", "zh": "点击转化率"},
                   "unit": "percent"},
                  {"formula": "{numerator} / orders", "label": {"en": "Value per order", "zh": "单均成交额"},
                   "unit": "currency"}],
    },
    # completions / video_views = (views_3s / video_views) × (completions / views_3s): did fewer viewers
    # get past the hook, or did fewer of those who stayed watch to the end?
    "completion_rate": {
        DEFAULT: ["hook_rate_3s",
                  {"formula": "completions / views_3s",
                   "label": {"en": "Completions per 3-second view", "zh": "看过3秒后的完播率"}, "unit": "percent"}],
    },
}


@dataclass(frozen=True)
class Factor:
    id: str
    label_en: str
    label_zh: str
    formula: Formula
    unit: str = "count"  # how its values read: a KPI's unit, or the `unit` of a formula factor

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class DriverTree:
    kpi: str
    applies_to: str  # role id or DEFAULT
    factors: tuple[Factor, ...]

    @property
    def metrics(self) -> list[str]:
        seen: dict[str, None] = {}
        for factor in self.factors:
            seen.update(dict.fromkeys(factor.formula.metrics))
        return list(seen)

    def values(self, sums: dict[str, float]) -> list[float | None]:
        """Each factor over the period's sums; None where a denominator is 0 or a metric has no rows."""
        return [f.formula.evaluate(sums) if all(m in sums for m in f.formula.metrics) else None
                for f in self.factors]


def trees_of(registry: Registry, kpi_id: str) -> dict[str, DriverTree]:
    """The KPI's trees by role (DEFAULT for every other scope): the KPI file's, else the built-in ones."""
    spec = registry.sections.get("drivers", {}).get(kpi_id)
    if spec is None:
        spec = _builtin(registry, kpi_id)
    if spec is None:
        return {}
    by_role = spec if isinstance(spec, dict) else {DEFAULT: spec}
    return {role: DriverTree(kpi_id, role, tuple(_factor(registry, item) for item in items))
            for role, items in by_role.items()}


def tree_for(registry: Registry, kpi_id: str, roles: list[str]) -> DriverTree | None:
    """The tree for a scope whose holders have `roles` (a role scope: that role; the team: none)."""
    trees = trees_of(registry, kpi_id)
    for role in roles:
        if role in trees:
            return trees[role]
    return trees.get(DEFAULT)


def _builtin(registry: Registry, kpi_id: str) -> dict[str, list[Any]] | None:
    tree = BUILTIN_TREES.get(kpi_id)
    kpi = registry.kpis.get(kpi_id)
    if tree is None or kpi is None:
        return None
    if kpi_id == "roas":
        numerator = kpi.formula.metrics[0]  # gmv / ad_spend, or ad_gmv / ad_spend
        return {role: [_fill(item, numerator) for item in items] for role, items in tree.items()}
    return tree


def _fill(item: Any, numerator: str) -> Any:
    if isinstance(item, dict):
        return {**item, "formula": item["formula"].format(numerator=numerator)}
    return item


def _factor(registry: Registry, item: Any) -> Factor:
    if isinstance(item, dict):
        text = str(item["formula"])
        label = item.get("label") or text
        en, zh = (label.get("en", text), label.get("zh", label.get("en", text))) if isinstance(label, dict) \
            else (str(label), str(label))
        return Factor(text, str(en), str(zh), parse_formula(text), str(item.get("unit", "ratio")))
    name = str(item)
    kpi = registry.kpis.get(name)
    if kpi is not None:
        return Factor(name, kpi.label_en, kpi.label_zh, kpi.formula, kpi.unit)
    en, zh = registry.metrics.get(name, (name, name))
    return Factor(name, en, zh, parse_formula(name))


# ---------------------------------------------------------------- the KPI file check


def check_drivers(registry: Registry, file: str) -> list[Problem]:
    """Every tree the file declares: known factors, and a product equal to the KPI."""
    problems: list[Problem] = []
    for kpi_id, spec in registry.sections.get("drivers", {}).items():
        key = f"kpis.{kpi_id}.drivers"
        by_role = spec if isinstance(spec, dict) else {DEFAULT: spec}
        for role, items in by_role.items():
            where = key if not isinstance(spec, dict) else f"{key}.{role}"
            if role != DEFAULT and role not in registry.roles:
                problems.append(Problem(file, where, f"unknown role {role!r}; use a role id or {DEFAULT!r}"))
                continue
            if not isinstance(items, list) or len(items) < 2:
                problems.append(Problem(file, where, "expected a list of at least 2 factors"))
                continue
            problem = _tree_problem(registry, kpi_id, items)
            if problem:
                problems.append(Problem(file, where, problem))
    declared = registry.sections.get("drivers", {})
    for kpi_id in BUILTIN_TREES:
        spec = None if kpi_id in declared else _builtin(registry, kpi_id)
        for items in (spec or {}).values():
            problem = _tree_problem(registry, kpi_id, items)
            if problem:  # the file changed the KPI's formula under its built-in tree
                problems.append(Problem(file, f"kpis.{kpi_id}.formula", f"built-in driver tree: {problem}; "
                                        "declare `drivers:` for it"))
                break
    return problems


def _tree_problem(registry: Registry, kpi_id: str, items: list[Any]) -> str | None:
    factors: list[Formula] = []
    for item in items:
        if isinstance(item, dict):
            if "formula" not in item:
                return "a factor written as a mapping needs a formula, e.g. {formula: gmv / orders, label: …}"
            try:
                formula = parse_formula(str(item["formula"]))
            except FormulaError as exc:
                return str(exc)
        elif str(item) in registry.kpis:
            formula = registry.kpis[str(item)].formula
        elif str(item) in registry.metrics:
            formula = parse_formula(str(item))
        else:
            return f"unknown factor {item!r}: expected a KPI id, a metric or {{formula: …, label: …}}"
        unknown = [m for m in formula.metrics if m not in registry.metrics]
        if unknown:
            return f"unknown metric {unknown[0]!r} in factor {item!r}"
        factors.append(formula)
    kpi = registry.kpis[kpi_id]
    if not product_equals(kpi.formula, factors):
        return f"the factors' product is not {kpi_id} ({kpi.formula.text}); each factor's units must cancel"
    return None


def product_equals(target: Formula, factors: list[Formula], trials: int = 5) -> bool:
    """Does ∏ factors equal `target` for any positive metric values? Checked on random values (an identity
    of rational functions that holds on 5 random points holds everywhere, barring a coincidence)."""
    names = sorted({m for f in [target, *factors] for m in f.metrics})
    rng = random.Random(15)
    for _ in range(trials):
        sums = {name: rng.uniform(1.0, 1000.0) for name in names}
        want = target.evaluate(sums)
        parts = [f.evaluate(sums) for f in factors]
        if want is None or any(p is None for p in parts):
            return False
        if not math.isclose(want, math.prod(parts), rel_tol=1e-9):  # type: ignore[arg-type]
            return False
    return True
