"""Shared by the storm and replica-kill tests: due digest subscriptions and the figures of a run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.repositories.subscriptions import WEEKDAYS, add_subscription


def due_subscriptions(db: Database, platform: str, channels: list[str], *, minutes_ago: int = 10) -> list[int]:
    """Weekly UTC subscriptions, one per channel, whose latest fire time was `minutes_ago` minutes ago."""
    fire = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    ids = []
    with db.session() as session:
        for channel in channels:
            sub = add_subscription(session, platform=platform, channel=channel, cadence="weekly",
                                   day=WEEKDAYS[fire.weekday()], time=f"{fire:%H:%M}", timezone="UTC", lang="en",
                                   created_by="test")
            sub.created_at = fire - timedelta(days=1)
            session.add(sub)
            session.flush()
            assert sub.id is not None
            ids.append(sub.id)
    return ids


@dataclass
class Figures:
    """What a run did, for every digest channel: `sends` messages that arrived, `duplicates` extra copies,
    `lost` channels with no digest whose loss no admin was told of, `told` admin notes."""

    sends: int
    duplicates: int
    lost: int
    told: int
    unconfirmed: int = 0

    def line(self, run: str) -> str:
        return (f"{run}: sends={self.sends} duplicates={self.duplicates} lost={self.lost} "
                f"told-to-admins={self.told} unconfirmed={self.unconfirmed}")


def figures(arrived_channels: list[str], digest_channels: list[str], told_about: set[str], told: int,
            unconfirmed: int = 0) -> Figures:
    """`arrived_channels`: the channel of every digest message that arrived (repeats = duplicates);
    `told_about`: channels an admin was told may be missing."""
    counts = Counter(channel for channel in arrived_channels if channel in digest_channels)
    lost = sum(1 for channel in digest_channels if counts[channel] == 0 and channel not in told_about)
    return Figures(sends=sum(counts.values()), duplicates=sum(n - 1 for n in counts.values() if n > 1),
                   lost=lost, told=told, unconfirmed=unconfirmed)
