"""Connected data sources (SPEC §6): SQL queries, Feishu Bitable tables and drop folders, synced on
a schedule; plus how fresh every source (the push API and imports included) is.

The scheduler calls `configured_sources` and, on each source's `schedule`, `sync_source`. The names below load
their submodule when first used (jobs/lazy.py): an answer reads freshness, only a sync needs the readers.
"""

from typing import TYPE_CHECKING

from jobs.lazy import lazy_exports

if TYPE_CHECKING:
    from jobs.sources.bitable import BitableFetch
    from jobs.sources.config import DEFAULT_SCHEDULE, SourceConfig, check_sources_config, configured_sources
    from jobs.sources.freshness import SourceState, source_states, stale_sources_for
    from jobs.sources.sync import SyncOutcome, UnknownSource, sync_source

__getattr__ = lazy_exports(__name__, {
    "bitable": ("BitableFetch",),
    "config": ("DEFAULT_SCHEDULE", "SourceConfig", "check_sources_config", "configured_sources"),
    "freshness": ("SourceState", "source_states", "stale_sources_for"),
    "sync": ("SyncOutcome", "UnknownSource", "sync_source"),
})

__all__ = [
    "DEFAULT_SCHEDULE",
    "BitableFetch",
    "SourceConfig",
    "SourceState",
    "SyncOutcome",
    "UnknownSource",
    "check_sources_config",
    "configured_sources",
    "source_states",
    "stale_sources_for",
    "sync_source",
]
