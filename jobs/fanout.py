"""Sends to many channels at once: concurrent across channels (bounded), one after another within a channel.

Platforms pace per channel (Slack ~1 message/s in a channel, Feishu 5/s per chat); the outboxes keep that
pace, so a catch-up of a hundred digests to a hundred channels no longer waits for each in turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

MAX_CHANNELS_AT_ONCE = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


def by_channel(
    items: Iterable[Item], channel_of: Callable[[Item], str], send: Callable[[Item], Result | None],
    *, workers: int = MAX_CHANNELS_AT_ONCE,
) -> list[Result]:
    """`send(item)` for every item; items of one channel in their order, channels concurrently."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(channel_of(item), []).append(item)
    if not groups:
        return []

    def run(group: list[Item]) -> list[Result]:
        results = []
        for item in group:
            try:
                result = send(item)
            except Exception:
                log.exception("a send of the fan-out failed")
                continue
            if result is not None:
                results.append(result)
        return results

    if len(groups) == 1:
        return run(next(iter(groups.values())))
    with ThreadPoolExecutor(max_workers=min(workers, len(groups)), thread_name_prefix="kpibot-fanout") as pool:
        return [result for results in pool.map(run, groups.values()) for result in results]
