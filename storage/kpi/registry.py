"""The KPIs and roles in force: built-ins, extended or overridden by a KPI file (YAML).

`check_kpi_file` reports every problem of a file (file, key, reason) instead of stopping at the
first; `load_registry` refuses a file with problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from storage.kpi.builtins import BUILTIN_KPIS, BUILTIN_ROLES, MONEY_METRICS, RAW_METRICS, TEAM_KPIS
from storage.kpi.drivers import check_drivers
from storage.kpi.formula import Formula, FormulaError, parse_formula
from storage.kpi.problems import Problem
from storage.kpi.unusual import check_min_volume

UNITS = ("currency", "count", "percent", "ratio", "seconds", "hours")
DIRECTIONS = ("higher", "lower", "budget")
AGGREGATES = ("sum", "last", "mean")
KNOWN_SECTIONS = ("metrics", "kpis", "roles", "sources", "mappings", "team_kpis", "funnel", "shops")


@dataclass(frozen=True)
class MetricRule:
    """How a raw metric adds up over a period (SPEC §5): `sum` (flows), `last` (levels: the newest
    date's value, summed over members and shops on that date) or `mean` (of daily values). A metric
    with no rows is missing, unless it is declared `missing_is_zero` (a source that sends no zero rows)."""

    aggregate: str = "sum"
    missing_is_zero: bool = False
    money: bool = False


@dataclass(frozen=True)
class ShopDef:
    key: str
    name: str
    platform: str = ""
    market: str = ""
    currency: str = ""  # '' = the reporting currency


@dataclass(frozen=True)
class KpiDef:
    id: str
    label_en: str
    label_zh: str
    formula: Formula
    unit: str = "count"
    direction: str = "higher"
    warn: float = 0.9
    aliases: tuple[str, ...] = ()
    over_tolerance: float = 0.05  # budget KPIs: projected spend up to target × (1 + this) is "at risk"
    trial: bool = False  # shown with a tag, left out of composite scores and alerts
    level_metrics: tuple[str, ...] = ()  # its metrics aggregated by `last` or `mean`
    zero_when_missing: tuple[str, ...] = ()  # its metrics declared `missing_is_zero`

    def label(self, lang: str) -> str:
        label = self.label_zh if lang == "zh" else self.label_en
        if self.trial:  # tried out, not counted yet: every reply says so
            return f"{label}（试运行）" if lang == "zh" else f"{label} (trial)"
        return label

    @property
    def additive(self) -> bool:
        """A sum of flows: only then do pacing, projection and run-rate apply."""
        return self.formula.additive and not self.level_metrics

    @property
    def budget(self) -> bool:
        return self.direction == "budget"

    @property
    def metrics(self) -> list[str]:
        return self.formula.metrics

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower"


@dataclass(frozen=True)
class RoleDef:
    id: str
    label_en: str
    label_zh: str
    kpis: dict[str, float]  # KPI id → weight in the composite score
    aliases: tuple[str, ...] = ()
    # "member": each holder is measured on their own rows; "team": the role answers for the whole
    # shop (the ops manager's KPIs are the team's), so `me` shows team figures.
    measured_on: str = "member"

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


class KpiFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Registry:
    metrics: dict[str, tuple[str, str]]
    kpis: dict[str, KpiDef]
    roles: dict[str, RoleDef]
    team_kpis: list[str]
    sections: dict[str, Any] = field(default_factory=dict)  # sources, mappings (used by jobs/)
    metric_rules: dict[str, MetricRule] = field(default_factory=dict)  # metrics not listed: MetricRule()
    shops: dict[str, ShopDef] = field(default_factory=dict)  # declared in the KPI file
    _kpi_names: dict[str, str] = field(default_factory=dict, repr=False)
    _role_names: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Later definitions (the KPI file's) win over earlier aliases; an id always names itself.
        for kpi in self.kpis.values():
            for name in (kpi.label_en, kpi.label_zh, *kpi.aliases):
                self._kpi_names[_normal(name)] = kpi.id
        for role in self.roles.values():
            for name in (role.label_en, role.label_zh, *role.aliases):
                self._role_names[_normal(name)] = role.id
        self._kpi_names.update({_normal(kpi_id): kpi_id for kpi_id in self.kpis})
        self._role_names.update({_normal(role_id): role_id for role_id in self.roles})

    def kpi(self, name: str) -> KpiDef | None:
        """Find a KPI by id or alias in either language, case-insensitive."""
        kpi_id = self._kpi_names.get(_normal(name))
        return self.kpis.get(kpi_id) if kpi_id else None

    def role(self, name: str) -> RoleDef | None:
        role_id = self._role_names.get(_normal(name))
        return self.roles.get(role_id) if role_id else None

    def kpi_names(self) -> dict[str, str]:
        """Every name (normalised) a KPI answers to → its id; longest first is up to the caller."""
        return dict(self._kpi_names)

    def role_names(self) -> dict[str, str]:
        return dict(self._role_names)

    def rule(self, metric: str) -> MetricRule:
        return self.metric_rules.get(metric, _SUM)

    def is_money(self, metric: str) -> bool:
        return self.rule(metric).money

    def roles_of_kpi(self, kpi_id: str) -> list[str]:
        return [role.id for role in self.roles.values() if kpi_id in role.kpis]


_SUM = MetricRule()


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def load_registry(path: str | Path | None = None) -> Registry:
    data: dict[str, Any] = {}
    if path:
        data, problems = read_kpi_file(Path(path))
        problems += _check(data, str(path))
        if problems:
            raise KpiFileError(problems)
    registry = _build(data)
    if path and (problems := _check_review_keys(registry, str(path))):
        raise KpiFileError(problems)
    return registry


def check_kpi_file(path: str | Path) -> list[Problem]:
    data, problems = read_kpi_file(Path(path))
    problems += _check(data, str(path)) if not problems else []
    return problems or _check_review_keys(_build(data), str(path))


def _check_review_keys(registry: Registry, name: str) -> list[Problem]:
    """Driver trees (their product must be the KPI) and min_volume, which need the built registry."""
    return check_drivers(registry, name) + check_min_volume(registry, name)


def read_kpi_file(path: str | Path) -> tuple[dict[str, Any], list[Problem]]:
    """The file's YAML as a mapping, or the problems that stop it being read."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {}, [Problem(name, "-", f"cannot read the file ({exc.strerror})")]
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        return {}, [Problem(name, where, f"not valid YAML ({getattr(exc, 'problem', exc)})")]
    if not isinstance(data, dict):
        return {}, [Problem(name, "-", "expected a mapping with metrics, kpis, roles …")]
    return data, []


def _check(data: dict[str, Any], name: str) -> list[Problem]:
    problems: list[Problem] = []
    for section in data:
        if section not in KNOWN_SECTIONS:
            expected = ", ".join(KNOWN_SECTIONS)
            problems.append(Problem(name, str(section), f"unknown section; expected one of {expected}"))
    metrics = set(RAW_METRICS) | set(_metric_entries(data.get("metrics"), name, problems))
    kpis_section = data.get("kpis") or {}
    if not isinstance(kpis_section, dict):
        problems.append(Problem(name, "kpis", "expected a mapping of KPI id → definition"))
        kpis_section = {}
    kpi_ids = set(BUILTIN_KPIS) | {str(k) for k in kpis_section}
    for kpi_id, spec in kpis_section.items():
        key = f"kpis.{kpi_id}"
        if not isinstance(spec, dict):
            problems.append(Problem(name, key, "expected a mapping with formula, unit, direction …"))
            continue
        base = BUILTIN_KPIS.get(str(kpi_id), {})
        formula_text = spec.get("formula", base.get("formula"))
        if not formula_text:
            problems.append(Problem(name, f"{key}.formula", "missing; e.g. formula: gmv / orders"))
        else:
            try:
                formula = parse_formula(str(formula_text))
                for metric in formula.metrics:
                    if metric not in metrics:
                        problems.append(Problem(name, f"{key}.formula", f"unknown metric {metric!r}"))
            except FormulaError as exc:
                problems.append(Problem(name, f"{key}.formula", str(exc)))
        unit = spec.get("unit", base.get("unit", "count"))
        if unit not in UNITS:
            problems.append(Problem(name, f"{key}.unit", f"{unit!r} is not one of {', '.join(UNITS)}"))
        direction = spec.get("direction", base.get("direction", "higher"))
        if direction not in DIRECTIONS:
            problems.append(Problem(name, f"{key}.direction", f"{direction!r} is not higher, lower or budget"))
        tolerance = spec.get("over_tolerance", 0.05)
        if not isinstance(tolerance, int | float) or not 0 <= float(tolerance) <= 1:
            problems.append(Problem(name, f"{key}.over_tolerance", "expected a number between 0 and 1, e.g. 0.05"))
        if not isinstance(spec.get("trial", False), bool):
            problems.append(Problem(name, f"{key}.trial", "expected true or false"))
        warn = spec.get("warn", 0.9)
        if not isinstance(warn, int | float) or not 0 < float(warn) <= 1:
            problems.append(Problem(name, f"{key}.warn", "expected a number between 0 and 1, e.g. 0.9"))
        for role in _as_list(spec.get("roles")):
            if role not in BUILTIN_ROLES and role not in (data.get("roles") or {}):
                problems.append(Problem(name, f"{key}.roles", f"unknown role {role!r}"))
    roles_section = data.get("roles") or {}
    if not isinstance(roles_section, dict):
        problems.append(Problem(name, "roles", "expected a mapping of role id → definition"))
        roles_section = {}
    for role_id, spec in roles_section.items():
        key = f"roles.{role_id}"
        if not isinstance(spec, dict):
            problems.append(Problem(name, key, "expected a mapping with label and kpis"))
            continue
        role_kpis = spec.get("kpis") or {}
        if isinstance(role_kpis, list):
            role_kpis = dict.fromkeys(role_kpis, 1.0)
        if not isinstance(role_kpis, dict):
            problems.append(Problem(name, f"{key}.kpis", "expected a mapping of KPI id → weight"))
            continue
        for kpi_id, weight in role_kpis.items():
            if str(kpi_id) not in kpi_ids:
                problems.append(Problem(name, f"{key}.kpis.{kpi_id}", "unknown KPI"))
            if not isinstance(weight, int | float) or weight < 0:
                problems.append(Problem(name, f"{key}.kpis.{kpi_id}", "weight must be a number ≥ 0"))
    for kpi_id in _as_list(data.get("team_kpis")):
        if kpi_id not in kpi_ids:
            problems.append(Problem(name, "team_kpis", f"unknown KPI {kpi_id!r}"))
    problems += _check_shops(data.get("shops"), name)
    return problems


def _check_shops(section: Any, name: str) -> list[Problem]:
    if section is None:
        return []
    if not isinstance(section, dict):
        return [Problem(name, "shops", "expected a mapping of shop key → {name, platform, market, currency}")]
    problems = []
    for key, spec in section.items():
        if not isinstance(spec, dict | None):
            problems.append(Problem(name, f"shops.{key}", "expected a mapping with name, platform, market, currency"))
            continue
        currency = str((spec or {}).get("currency") or "")
        if currency and not (len(currency) == 3 and currency.isalpha()):
            problems.append(Problem(name, f"shops.{key}.currency", f"{currency!r} is not a currency code like USD"))
    return problems


def _metric_entries(section: Any, name: str, problems: list[Problem]) -> list[str]:
    out = []
    for index, entry in enumerate(section or []):
        metric = entry.get("name") if isinstance(entry, dict) else entry
        if not isinstance(metric, str) or not metric.isidentifier():
            problems.append(Problem(name, f"metrics[{index}]", "expected a metric name (letters, digits, _)"))
            continue
        out.append(metric)
        if isinstance(entry, dict):
            aggregate = entry.get("aggregate", "sum")
            if aggregate not in AGGREGATES:
                problems.append(Problem(name, f"metrics[{index}].aggregate",
                                        f"{aggregate!r} is not one of {', '.join(AGGREGATES)}"))
            if not isinstance(entry.get("missing_is_zero", False), bool):
                problems.append(Problem(name, f"metrics[{index}].missing_is_zero", "expected true or false"))
    return out


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [str(v) for v in value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _labels(spec: dict[str, Any], fallback: list[str]) -> tuple[str, str]:
    label = spec.get("label")
    if isinstance(label, dict):
        en = str(label.get("en") or fallback[0])
        return en, str(label.get("zh") or en)
    if isinstance(label, str):
        return label, label
    return fallback[0], fallback[1]


def _shop(key: str, spec: dict[str, Any]) -> ShopDef:
    return ShopDef(key=key, name=str(spec.get("name") or key), platform=str(spec.get("platform") or ""),
                   market=str(spec.get("market") or ""), currency=str(spec.get("currency") or "").upper())


def _build(data: dict[str, Any]) -> Registry:
    metrics = dict(RAW_METRICS)
    rules = {metric: MetricRule(money=True) for metric in MONEY_METRICS}
    rules["ltv"] = MetricRule(aggregate="last", money=True)
    for entry in data.get("metrics") or []:
        metric: Any = entry.get("name") if isinstance(entry, dict) else entry  # whatever the YAML holds
        metrics[metric] = _labels(entry, [metric, metric]) if isinstance(entry, dict) else (metric, metric)
        if isinstance(entry, dict):
            base = rules.get(metric, _SUM)
            rules[metric] = MetricRule(
                aggregate=str(entry.get("aggregate", base.aggregate)),
                missing_is_zero=bool(entry.get("missing_is_zero", base.missing_is_zero)),
                money=entry.get("unit", "currency" if base.money else "") == "currency",
            )
    kpis: dict[str, KpiDef] = {}
    merged = {k: dict(v) for k, v in BUILTIN_KPIS.items()}
    for kpi_id, spec in (data.get("kpis") or {}).items():
        merged[str(kpi_id)] = {**merged.get(str(kpi_id), {}), **spec}
    extra_roles: dict[str, dict[str, float]] = {}
    for kpi_id, spec in merged.items():
        label = spec.get("label")
        en, zh = _labels(spec, label if isinstance(label, list) else [kpi_id, kpi_id])
        formula = parse_formula(str(spec["formula"]))
        kpis[kpi_id] = KpiDef(
            id=kpi_id, label_en=en, label_zh=zh, formula=formula,
            unit=spec.get("unit", "count"), direction=spec.get("direction", "higher"),
            warn=float(spec.get("warn", 0.9)), aliases=tuple(str(a) for a in spec.get("aliases") or ()),
            over_tolerance=float(spec.get("over_tolerance", 0.05)), trial=bool(spec.get("trial", False)),
            level_metrics=tuple(m for m in formula.metrics if rules.get(m, _SUM).aggregate != "sum"),
            zero_when_missing=tuple(m for m in formula.metrics if rules.get(m, _SUM).missing_is_zero),
        )
        role_weights = spec.get("roles")
        if isinstance(role_weights, dict | list):
            for role in _as_list(role_weights):
                weight = role_weights[role] if isinstance(role_weights, dict) else 1.0
                extra_roles.setdefault(role, {})[kpi_id] = float(weight)
    roles: dict[str, RoleDef] = {}
    merged_roles = {k: dict(v) for k, v in BUILTIN_ROLES.items()}
    for role_id, spec in (data.get("roles") or {}).items():
        merged_roles[str(role_id)] = {**merged_roles.get(str(role_id), {}), **spec}
    for role_id, spec in merged_roles.items():
        role_kpis = spec.get("kpis") or {}
        if isinstance(role_kpis, list):
            role_kpis = dict.fromkeys(role_kpis, 1.0)
        weights = {str(k): float(v) for k, v in role_kpis.items()}
        weights.update(extra_roles.get(role_id, {}))
        label = spec.get("label")
        en, zh = _labels(spec, label if isinstance(label, list) else [role_id, role_id])
        roles[role_id] = RoleDef(id=role_id, label_en=en, label_zh=zh, kpis=weights,
                                 aliases=tuple(str(a) for a in spec.get("aliases") or ()),
                                 measured_on=str(spec.get("measured_on", "member")))
    team_kpis = _as_list(data.get("team_kpis")) or list(TEAM_KPIS)
    sections: dict[str, Any] = {k: data[k] for k in ("sources", "mappings", "funnel") if k in data}
    for key in ("drivers", "min_volume"):  # read by storage/kpi/drivers.py and unusual.py
        sections[key] = {str(k): spec[key] for k, spec in (data.get("kpis") or {}).items()
                         if isinstance(spec, dict) and key in spec}
    shops = {str(key): _shop(str(key), spec or {}) for key, spec in (data.get("shops") or {}).items()}
    return Registry(metrics=metrics, kpis=kpis, roles=roles, team_kpis=team_kpis, sections=sections,
                    metric_rules=rules, shops=shops)
