"""`sources:` and `mappings:` of the KPI file: every problem reported as "key: reason"."""

from __future__ import annotations

from pathlib import Path

import yaml

from jobs.ingest.mapping import ColumnSpec
from jobs.sources import DEFAULT_SCHEDULE, check_sources_config, configured_sources
from storage.kpi.registry import load_registry

GOOD = """
metrics: [refunds_amount]
mappings:
  tiktok-live:
    date: Date
    member: Creator
    columns: {GMV: gmv, Refunds: refunds_amount, "Watch (min)": {metric: watch_seconds, multiply: 60}}
sources:
  warehouse:
    kind: sql
    url: postgresql+psycopg://reader:${WAREHOUSE_PASSWORD}@db:5432/shop
    query: SELECT day AS date, SUM(amount) AS gmv FROM orders WHERE day BETWEEN :start AND :end GROUP BY day
    schedule: "15 */2 * * mon-fri"
    resync_days: 14
  live-sheet:
    kind: bitable
    app_token: bascnX
    table_id: tblX
    date: 日期
    columns: {成交额: gmv}
  shop-drop:
    kind: folder
    path: /srv/drop
    mapping: tiktok-live
"""


def test_a_good_file_has_no_problems_and_builds_configs(tmp_path: Path) -> None:
    assert check_sources_config(yaml.safe_load(GOOD), "kpis.yaml") == []
    path = tmp_path / "kpis.yaml"
    path.write_text(GOOD, encoding="utf-8")
    configs = {c.name: c for c in configured_sources(load_registry(path))}
    assert list(configs) == ["warehouse", "live-sheet", "shop-drop"]
    warehouse = configs["warehouse"]
    assert (warehouse.kind, warehouse.schedule, warehouse.resync_days, warehouse.expected_lag_days) == (
        "sql", "15 */2 * * mon-fri", 14, 2)
    assert "${WAREHOUSE_PASSWORD}" in warehouse.url  # kept as a reference; expanded only when syncing
    assert configs["live-sheet"].schedule == DEFAULT_SCHEDULE == "0 * * * *"
    assert configs["live-sheet"].mapping is not None and configs["live-sheet"].mapping.date == "日期"
    drop_mapping = configs["shop-drop"].mapping
    assert drop_mapping is not None and drop_mapping.columns["Watch (min)"] == ColumnSpec("watch_seconds", 60.0)


def test_every_problem_is_listed() -> None:
    data = yaml.safe_load("""
mappings:
  Bad Name:
    columns: {GMV: gvm}
  ok-map:
    date: Date
    columns: {GMV: gmv, gmv: orders, Live GMV: gmv}
    aggregate: maybe
    colour: red
sources:
  api:
    kind: folder
    path: /x
  wh:
    kind: sql
    url: postgresql://reader:plaintext@db/shop
    schedule: "0 9 * * 1"
    expected_lag_days: -1
  sheet:
    kind: bitable
    app_token: bascn
  drop:
    kind: folder
    mapping: nope
    settle_seconds: soon
  what:
    kind: ftp
""")
    assert check_sources_config(data, "kpis.yaml") == [
        "mappings.Bad Name: a mapping name is used as a source name; source must be 1–64 characters of a-z 0-9 . _ - "
        "starting with a letter or digit, got 'Bad Name'",
        "mappings.Bad Name.date: missing; name the column holding the date, e.g. date: Date",
        "mappings.Bad Name.columns.GMV: unknown metric 'gvm'",
        "mappings.ok-map.colour: unknown key; expected one of date, date_format, member, members, columns, "
        "aggregate, source, sheet",
        "mappings.ok-map.aggregate: expected sum or none",
        "mappings.ok-map.columns.gmv: same column as 'GMV'",
        "mappings.ok-map.columns.Live GMV: gmv already comes from column 'GMV' (add aggregate: sum to add such "
        "columns up)",
        "sources.api: 'api' is reserved (the push API and `kpibot import` use it)",
        "sources.wh.schedule: write weekdays as names (mon-fri, sun), not numbers — numbering differs between tools",
        "sources.wh.expected_lag_days: expected a whole number from 0 to 366",
        "sources.wh.url: a password is written out; put it in an environment variable and write ${NAME} instead "
        "(the KPI file is not a place for secrets)",
        "sources.wh.query: missing; a SELECT returning date, [member,] and metric columns",
        "sources.sheet.table_id: missing",
        "sources.sheet: name the fields: date, [member,] columns (or mapping: NAME)",
        "sources.drop.mapping: no mapping called 'nope' in mappings:",
        "sources.drop.path: missing; the folder to watch",
        "sources.drop.settle_seconds: expected a number of seconds ≥ 0",
        "sources.what.kind: expected sql, bitable or folder",
    ]


def test_bad_cron_is_reported() -> None:
    data = {"sources": {"wh": {"kind": "sql", "url": "sqlite:///x.db", "query": "select 1", "schedule": "61 * * * *"}}}
    problems = check_sources_config(data, "kpis.yaml")
    assert len(problems) == 1 and problems[0].startswith("sources.wh.schedule: ") and "61" in problems[0]


def test_invalid_sources_are_left_out_at_run_time(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text("sources:\n  good:\n    kind: folder\n    path: /x\n  bad:\n    kind: folder\n", encoding="utf-8")
    assert [c.name for c in configured_sources(load_registry(path))] == ["good"]
