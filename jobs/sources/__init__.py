"""Connected data sources (SPEC §6): SQL queries, Feishu Bitable tables and drop folders, synced on
a schedule; plus how fresh every source (the push API and imports included) is.

The scheduler calls `configured_sources` and, on each source's `schedule`, `sync_source`.
"""

from jobs.sources.bitable import BitableFetch
from jobs.sources.config import DEFAULT_SCHEDULE, SourceConfig, check_sources_config, configured_sources
from jobs.sources.freshness import SourceState, source_states, stale_sources_for
from jobs.sources.sync import SyncOutcome, UnknownSource, sync_source

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
