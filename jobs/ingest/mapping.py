"""Column mappings (the KPI file's `mappings:` section): how a platform export becomes metrics.

```yaml
mappings:
  tiktok-live:                  # used as `kpibot import FILE --mapping tiktok-live` or by a source
    date: Date                  # the column holding the day (required)
    date_format: "%m/%d/%Y"     # optional strptime format; default: 2026-10-01, 2026/10/01, 20261001, Excel dates
    member: Creator             # optional column naming the member; absent → team-level rows
    members: {"Alice Live": alice@example.com}   # optional: rename values of the member column
    columns:                    # column → metric; every listed column must be in the file
      GMV: gmv
      Orders: orders
      Viewers: live_viewers
      "Watch time (min)": {metric: watch_seconds, multiply: 60}
    aggregate: sum              # optional: rows with the same date and member are added up
                                #   (per-session exports); without it such rows are an error
    source: tiktok-shop         # optional: the source name for `kpibot import` (default: the mapping name)
    sheet: Sheet1               # optional: XLSX sheet (default: the first)
```
Headers match ignoring case, spaces and full/half width. Columns not listed are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobs.ingest.names import normal
from jobs.ingest.values import source_name_problem

MAPPING_KEYS = ("date", "date_format", "member", "members", "columns", "aggregate", "source", "sheet")


@dataclass(frozen=True)
class ColumnSpec:
    metric: str
    multiply: float = 1.0


@dataclass(frozen=True)
class Mapping:
    name: str
    date: str
    columns: dict[str, ColumnSpec]
    member: str | None = None
    date_format: str | None = None
    members: dict[str, str] = field(default_factory=dict)
    aggregate: bool = False
    source: str | None = None
    sheet: str | None = None

    @property
    def import_source(self) -> str:
        return self.source or self.name


class MappingError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def mapping_problems(key: str, spec: Any, metrics: set[str], *, keys: tuple[str, ...] = MAPPING_KEYS) -> list[str]:
    """Problems of one mapping definition, each "key: reason"."""
    if not isinstance(spec, dict):
        return [f"{key}: expected a mapping with date and columns, e.g. {{date: Date, columns: {{GMV: gmv}}}}"]
    problems = [f"{key}.{k}: unknown key; expected one of {', '.join(keys)}" for k in spec if k not in keys]
    if not isinstance(spec.get("date"), str) or not spec["date"].strip():
        problems.append(f"{key}.date: missing; name the column holding the date, e.g. date: Date")
    if spec.get("member") is not None and not isinstance(spec["member"], str):
        problems.append(f"{key}.member: expected a column name")
    fmt = spec.get("date_format")
    if fmt is not None and (not isinstance(fmt, str) or not _valid_date_format(fmt)):
        problems.append(f"{key}.date_format: expected a strptime format with a day, e.g. \"%m/%d/%Y\"")
    members = spec.get("members", {})
    if not isinstance(members, dict) or not all(isinstance(v, str | int) for v in members.values()):
        problems.append(f"{key}.members: expected a mapping of value in the file → member key")
    if spec.get("aggregate") not in (None, "sum", "none"):
        problems.append(f"{key}.aggregate: expected sum or none")
    if spec.get("source") is not None and (reason := source_name_problem(spec["source"])):
        problems.append(f"{key}.source: {reason}")
    if spec.get("sheet") is not None and not isinstance(spec["sheet"], str):
        problems.append(f"{key}.sheet: expected a sheet name")
    columns = spec.get("columns")
    if not isinstance(columns, dict) or not columns:
        problems.append(f"{key}.columns: expected column → metric pairs, e.g. {{GMV: gmv, Orders: orders}}")
        return problems
    seen: dict[str, str] = {}
    metric_columns: dict[str, str] = {}
    for column, target in columns.items():
        where = f"{key}.columns.{column}"
        metric, multiply = _column_target(target)
        if metric is None:
            problems.append(f"{where}: expected a metric name or {{metric: NAME, multiply: NUMBER}}")
        elif metric not in metrics:
            problems.append(f"{where}: unknown metric {metric!r}")
        elif metric in metric_columns and spec.get("aggregate") != "sum":
            problems.append(f"{where}: {metric} already comes from column {metric_columns[metric]!r} "
                            "(add aggregate: sum to add such columns up)")
        if metric is not None:
            metric_columns.setdefault(metric, str(column))
        if multiply is None:
            problems.append(f"{where}.multiply: expected a number")
        if normal(column) in seen:
            problems.append(f"{where}: same column as {seen[normal(column)]!r}")
        seen[normal(column)] = str(column)
    return problems


def parse_mapping(name: str, spec: dict[str, Any]) -> Mapping:
    """A mapping from an entry that `mapping_problems` accepted."""
    columns = {}
    for column, target in spec["columns"].items():
        metric, multiply = _column_target(target)
        columns[str(column)] = ColumnSpec(str(metric), float(multiply or 1.0))
    return Mapping(
        name=name,
        date=str(spec["date"]),
        columns=columns,
        member=spec.get("member"),
        date_format=spec.get("date_format"),
        members={normal(k): str(v) for k, v in (spec.get("members") or {}).items()},
        aggregate=spec.get("aggregate") == "sum",
        source=spec.get("source"),
        sheet=spec.get("sheet"),
    )


def mappings_problems(section: Any, metrics: set[str]) -> list[str]:
    if section is None:
        return []
    if not isinstance(section, dict):
        return ["mappings: expected mapping name → definition"]
    problems = []
    for name, spec in section.items():
        if reason := source_name_problem(str(name)):
            problems.append(f"mappings.{name}: a mapping name is used as a source name; {reason}")
        problems += mapping_problems(f"mappings.{name}", spec, metrics)
    return problems


def find_mapping(sections: dict[str, Any], name: str, metrics: set[str]) -> Mapping:
    """The mapping called `name` in the KPI file; MappingError says what is wrong or missing."""
    section = sections.get("mappings") or {}
    if not isinstance(section, dict) or name not in section:
        known = ", ".join(sorted(section)) if isinstance(section, dict) and section else "none defined"
        raise MappingError([f"no mapping called {name!r} in the KPI file (mappings: {known})"])
    problems = mapping_problems(f"mappings.{name}", section[name], metrics)
    if problems:
        raise MappingError(problems)
    return parse_mapping(name, section[name])


def _column_target(target: Any) -> tuple[str | None, float | None]:
    if isinstance(target, str):
        return target, 1.0
    if isinstance(target, dict) and isinstance(target.get("metric"), str):
        multiply = target.get("multiply", 1.0)
        ok = isinstance(multiply, int | float) and not isinstance(multiply, bool)
        return target["metric"], float(multiply) if ok else None
    return None, 1.0


def _valid_date_format(fmt: str) -> bool:
    if "%d" not in fmt and "%j" not in fmt:
        return False
    try:
        datetime(2026, 10, 1).strftime(fmt)
    except ValueError:
        return False
    return True
