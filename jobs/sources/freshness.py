"""How fresh each source is: last successful sync, newest data date, stale or not, failing or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jobs.sources.config import DEFAULT_EXPECTED_LAG_DAYS, SourceConfig, configured_sources
from storage.db import Database
from storage.kpi.registry import Registry
from storage.repositories.facts import newest_date_by_source, sources_for_metrics
from storage.repositories.sync_runs import run_summaries

# A source "feeds" a metric when it has rows for it this recently; older one-off imports do not.
FEEDING_LOOKBACK_DAYS = 35


@dataclass(frozen=True)
class SourceState:
    name: str
    kind: str  # sql | bitable | folder | api | import | "-" (facts without any recorded run)
    last_success: datetime | None
    newest_date: date | None  # the newest day with data from this source
    stale: bool  # no data, or the newest day is older than today − expected_lag_days
    last_error: str | None  # of the latest run, when it failed
    failing_streak: int  # failed runs since the last success (2 → admins were warned)
    expected_lag_days: int = DEFAULT_EXPECTED_LAG_DAYS
    configured: bool = False  # in the KPI file's sources:
    last_run_at: datetime | None = None


def is_stale(newest: date | None, today: date, expected_lag_days: int) -> bool:
    return newest is None or newest < today - timedelta(days=expected_lag_days)


def source_states(
    db: Database, registry: Registry, today: date, *, configs: list[SourceConfig] | None = None,
) -> list[SourceState]:
    """Every configured source (file order), then every other source seen in facts or runs (by name).
    `configs`: the KPI file's sources when the caller parsed them once already."""
    configs_by_name = {config.name: config for config in _configs(registry, configs)}
    with db.session() as session:
        newest = newest_date_by_source(session)
        runs = run_summaries(session)
    others = sorted((set(newest) | set(runs)) - set(configs_by_name))
    states = []
    for name in [*configs_by_name, *others]:
        config = configs_by_name.get(name)
        run = runs.get(name)
        lag = config.expected_lag_days if config else DEFAULT_EXPECTED_LAG_DAYS
        states.append(SourceState(
            name=name,
            kind=config.kind if config else (run.kind if run else "-"),
            last_success=run.last_success if run else None,
            newest_date=newest.get(name),
            stale=is_stale(newest.get(name), today, lag),
            last_error=run.last_error if run else None,
            failing_streak=run.failing_streak if run else 0,
            expected_lag_days=lag,
            configured=config is not None,
            last_run_at=run.last_run_at if run else None,
        ))
    return states


def stale_sources_for(
    db: Database, registry: Registry, metrics: list[str], today: date, *, configs: list[SourceConfig] | None = None,
) -> list[str]:
    """Names of stale sources that fed any of `metrics` in the last FEEDING_LOOKBACK_DAYS days, in the
    order `source_states` lists them. Asked on every answer, so it reads only what staleness needs: each
    source's newest date (an index probe per source), then — only if one is stale — whether it fed these."""
    lags = {config.name: config.expected_lag_days for config in _configs(registry, configs)}
    with db.session() as session:
        newest = newest_date_by_source(session)
        stale = [name for name, day in newest.items()
                 if is_stale(day, today, lags.get(name, DEFAULT_EXPECTED_LAG_DAYS))]
        if not stale:
            return []
        since = today - timedelta(days=FEEDING_LOOKBACK_DAYS)
        feeding = set(sources_for_metrics(session, metrics, since, today, among=stale))
    return [name for name in lags if name in feeding] + sorted(feeding - set(lags))


def _configs(registry: Registry, configs: list[SourceConfig] | None) -> list[SourceConfig]:
    return configs if configs is not None else configured_sources(registry)
