"""Connected sources (the KPI file's `sources:` section): what each is and how to check it.

```yaml
sources:
  warehouse:                        # the source name facts are stored under
    kind: sql                       # sql | bitable | folder
    url: postgresql+psycopg://reader:${WAREHOUSE_PASSWORD}@db:5432/shop
    query: |                        # columns: date, [member,] one per metric; :start/:end = re-sync window
      SELECT day AS date, host_email AS member, SUM(amount) AS gmv, COUNT(*) AS orders
      FROM orders WHERE day BETWEEN :start AND :end GROUP BY day, host_email
    resync_days: 7                  # window: today − 7 … today (team timezone)
    schedule: "15 * * * *"          # 5-field crontab in the team timezone; default hourly "0 * * * *"
    expected_lag_days: 2            # stale when the newest data is older than this
  live-sheet:
    kind: bitable
    app_token: bascnXXXXXXXX
    table_id: tblXXXXXXXX
    view_id: vewXXXXXXXX            # optional
    date: 日期                       # inline mapping (or mapping: NAME)
    member: 主播                     # person field → the person's email; text field → its text
    columns: {成交额: gmv, 订单数: orders, 观看人数: live_viewers}
  shop-drop:
    kind: folder
    path: /srv/kpibot/drop          # relative paths are relative to the KPI file's folder
    mapping: tiktok-live            # optional: a mapping from `mappings:`
    settle_seconds: 30              # files younger than this may still be copying: next scan
```
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jobs.ingest.mapping import MAPPING_KEYS, Mapping, mapping_problems, mappings_problems, parse_mapping
from jobs.ingest.values import source_name_problem
from jobs.sources.secrets import literal_password
from storage.kpi.registry import Registry

log = logging.getLogger(__name__)

KINDS = ("sql", "bitable", "folder")
DEFAULT_SCHEDULE = "0 * * * *"
DEFAULT_EXPECTED_LAG_DAYS = 2
DEFAULT_RESYNC_DAYS = 7
DEFAULT_SETTLE_SECONDS = 30.0
RESERVED_NAMES = ("api", "import")
COMMON_KEYS = ("kind", "schedule", "expected_lag_days", "mapping")
INLINE_MAPPING_KEYS = tuple(key for key in MAPPING_KEYS if key != "source")
KIND_KEYS = {
    "sql": ("url", "query", "resync_days"),
    "bitable": ("app_token", "table_id", "view_id"),
    "folder": ("path", "settle_seconds"),
}


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str  # sql | bitable | folder
    schedule: str = DEFAULT_SCHEDULE  # 5-field crontab, team timezone
    expected_lag_days: int = DEFAULT_EXPECTED_LAG_DAYS
    mapping: Mapping | None = None
    url: str = ""  # sql: with ${ENV_VAR} references, expanded only at sync time
    query: str = ""  # sql
    resync_days: int = DEFAULT_RESYNC_DAYS  # sql
    app_token: str = ""  # bitable
    table_id: str = ""  # bitable
    view_id: str | None = None  # bitable
    path: str = ""  # folder
    settle_seconds: float = DEFAULT_SETTLE_SECONDS  # folder


def check_sources_config(
    registry_sections: dict[str, Any], file_name: str, metrics: Iterable[str] | None = None
) -> list[str]:
    """Every problem of the `sources:` and `mappings:` sections, each "key: reason".

    `registry_sections` may be the whole parsed KPI file or just `registry.sections`; metric names
    are the built-ins, the file's `metrics:` when present, and `metrics` (e.g. registry.metrics).
    `file_name` is the KPI file; problems do not repeat it — the caller prefixes it."""
    known = _metrics_of(registry_sections) | set(metrics or ())
    problems = mappings_problems(registry_sections.get("mappings"), known)
    section = registry_sections.get("sources")
    if section is None:
        return problems
    if not isinstance(section, dict):
        return [*problems, "sources: expected source name → definition"]
    mapping_names = set(registry_sections.get("mappings") or {}) if isinstance(
        registry_sections.get("mappings"), dict) else set()
    for name, spec in section.items():
        problems += _source_problems(str(name), spec, known, mapping_names)
    return problems


def configured_sources(registry: Registry) -> list[SourceConfig]:
    """The valid sources of the KPI file, in file order. An invalid entry is left out with an
    error logged (`kpibot kpis check` lists its problems) so the other sources keep syncing."""
    section = registry.sections.get("sources") or {}
    if not isinstance(section, dict):
        return []
    metrics = set(registry.metrics)
    mappings = registry.sections.get("mappings") or {}
    mapping_names = set(mappings) if isinstance(mappings, dict) else set()
    out = []
    for name, spec in section.items():
        problems = _source_problems(str(name), spec, metrics, mapping_names)
        if problems:
            log.error("Source %r is not synced: %s", name, "; ".join(problems))
            continue
        out.append(_build(str(name), spec, mappings))
    return out


def _metrics_of(sections: dict[str, Any]) -> set[str]:
    from storage.kpi.builtins import RAW_METRICS

    metrics = set(RAW_METRICS)
    for entry in sections.get("metrics") or []:
        metric = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(metric, str):
            metrics.add(metric)
    return metrics


def _source_problems(name: str, spec: Any, metrics: set[str], mapping_names: set[str]) -> list[str]:
    key = f"sources.{name}"
    if not isinstance(spec, dict):
        return [f"{key}: expected a mapping with kind: sql, bitable or folder"]
    problems = []
    if reason := source_name_problem(name):
        problems.append(f"{key}: {reason}")
    elif name in RESERVED_NAMES:
        problems.append(f"{key}: {name!r} is reserved (the push API and `kpibot import` use it)")
    kind = spec.get("kind")
    if kind not in KINDS:
        return [*problems, f"{key}.kind: expected sql, bitable or folder"]
    allowed = (*COMMON_KEYS, *KIND_KEYS[kind], *INLINE_MAPPING_KEYS)
    problems += [f"{key}.{k}: unknown key for a {kind} source; expected one of {', '.join(allowed)}"
                 for k in spec if k not in allowed]
    problems += _schedule_problems(f"{key}.schedule", spec.get("schedule", DEFAULT_SCHEDULE))
    problems += _whole_number(f"{key}.expected_lag_days", spec.get("expected_lag_days"), 0, 366)
    problems += _mapping_reference_problems(key, spec, kind, metrics, mapping_names)
    if kind == "sql":
        url = spec.get("url")
        if not isinstance(url, str) or not url.strip():
            problems.append(f"{key}.url: missing; a SQLAlchemy URL, secrets as ${{ENV_VAR}}")
        elif literal_password(url):
            problems.append(f"{key}.url: a password is written out; put it in an environment variable and "
                            "write ${NAME} instead (the KPI file is not a place for secrets)")
        if not isinstance(spec.get("query"), str) or not spec["query"].strip():
            problems.append(f"{key}.query: missing; a SELECT returning date, [member,] and metric columns")
        problems += _whole_number(f"{key}.resync_days", spec.get("resync_days"), 0, 3660)
    elif kind == "bitable":
        for field_name in ("app_token", "table_id"):
            if not isinstance(spec.get(field_name), str) or not spec[field_name].strip():
                problems.append(f"{key}.{field_name}: missing")
        if spec.get("view_id") is not None and not isinstance(spec["view_id"], str):
            problems.append(f"{key}.view_id: expected a view id such as vewXXXX")
        if "mapping" not in spec and "columns" not in spec:
            problems.append(f"{key}: name the fields: date, [member,] columns (or mapping: NAME)")
    else:
        if not isinstance(spec.get("path"), str) or not spec["path"].strip():
            problems.append(f"{key}.path: missing; the folder to watch")
        settle = spec.get("settle_seconds")
        if settle is not None and (not isinstance(settle, int | float) or isinstance(settle, bool) or settle < 0):
            problems.append(f"{key}.settle_seconds: expected a number of seconds ≥ 0")
    return problems


def _mapping_reference_problems(
    key: str, spec: dict[str, Any], kind: str, metrics: set[str], mapping_names: set[str]
) -> list[str]:
    inline = {k: v for k, v in spec.items() if k in INLINE_MAPPING_KEYS}
    if "mapping" in spec:
        if inline:
            return [f"{key}: use either mapping: NAME or inline date/columns, not both"]
        if spec["mapping"] not in mapping_names:
            return [f"{key}.mapping: no mapping called {spec['mapping']!r} in mappings:"]
        return []
    if inline:
        return mapping_problems(key, inline, metrics, keys=INLINE_MAPPING_KEYS)
    return []


def _build(name: str, spec: dict[str, Any], mappings: Any) -> SourceConfig:
    kind = spec["kind"]
    mapping = None
    if "mapping" in spec:
        mapping = parse_mapping(str(spec["mapping"]), mappings[spec["mapping"]])
    elif "columns" in spec:
        mapping = parse_mapping(name, {k: v for k, v in spec.items() if k in INLINE_MAPPING_KEYS})
    return SourceConfig(
        name=name,
        kind=kind,
        schedule=str(spec.get("schedule", DEFAULT_SCHEDULE)),
        expected_lag_days=int(spec.get("expected_lag_days", DEFAULT_EXPECTED_LAG_DAYS)),
        mapping=mapping,
        url=str(spec.get("url", "")),
        query=str(spec.get("query", "")),
        resync_days=int(spec.get("resync_days", DEFAULT_RESYNC_DAYS)),
        app_token=str(spec.get("app_token", "")),
        table_id=str(spec.get("table_id", "")),
        view_id=spec.get("view_id"),
        path=str(spec.get("path", "")),
        settle_seconds=float(spec.get("settle_seconds", DEFAULT_SETTLE_SECONDS)),
    )


def _whole_number(key: str, value: Any, low: int, high: int) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [f"{key}: expected a whole number from {low} to {high}"]
    return []


def _schedule_problems(key: str, schedule: Any) -> list[str]:
    from apscheduler.triggers.cron import CronTrigger

    if not isinstance(schedule, str) or len(schedule.split()) != 5:
        return [f"{key}: expected a 5-field crontab such as \"0 * * * *\" (hourly)"]
    day_of_week = schedule.split()[4]
    if any(ch.isdigit() for ch in day_of_week):
        return [f"{key}: write weekdays as names (mon-fri, sun), not numbers — numbering differs between tools"]
    try:
        CronTrigger.from_crontab(schedule)
    except ValueError as exc:
        return [f"{key}: {exc}"]
    return []
