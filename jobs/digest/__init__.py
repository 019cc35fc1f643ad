"""The review digest: the last complete week (or month) per role and for the team, pacing to date, movers,
the at-risk list with required run-rates, the funnel, data freshness, and charts.

    build_weekly_digest(engine, registry, lang="zh", currency="USD") -> Reply
    write_demo_digest(engine, registry, folder, lang, currency) -> folder with markdown + PNGs

The names below load their submodule when first used (jobs/lazy.py): the chat commands that declare digest
options start with every process, the digest itself is built on a schedule or on `digest now`.
"""

from typing import TYPE_CHECKING

from jobs.lazy import lazy_exports

if TYPE_CHECKING:
    from jobs.digest.build import (
        build_digest,
        build_weekly_digest,
        collect_digest,
        send_weekly_digest,
        write_demo_digest,
    )
    from jobs.digest.data import DigestData, review_periods

__getattr__ = lazy_exports(__name__, {
    "build": ("build_digest", "build_weekly_digest", "collect_digest", "send_weekly_digest", "write_demo_digest"),
    "data": ("DigestData", "review_periods"),
})

__all__ = [
    "DigestData", "build_digest", "build_weekly_digest", "collect_digest", "review_periods", "send_weekly_digest",
    "write_demo_digest",
]
