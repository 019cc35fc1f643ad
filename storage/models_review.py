"""Tables of the review partner (issue 15): notes on operational changes and events, named baselines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from storage.models import TableBase, _ts, utcnow


class Note(TableBase, table=True):
    """An operational change or event on a day (or days): a price change, a promo, a new host.

    `kpis` is a comma-separated list of KPI ids it may affect ('' = any); `promo` marks sale days, which
    unusual-day history leaves out."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_dates", "start_date", "end_date"),)

    id: int | None = Field(default=None, primary_key=True)
    start_date: date
    end_date: date
    text: str = Field(sa_column=Column(Text, nullable=False))
    kpis: str = Field(default="", max_length=500)
    scope_kind: str = Field(default="team", max_length=8)
    scope_key: str = Field(default="", max_length=200)
    promo: bool = False
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())

    @property
    def kpi_ids(self) -> list[str]:
        return [k for k in self.kpis.split(",") if k]


class Baseline(TableBase, table=True):
    """A named reference period per KPI and scope (`baseline set gmv 2026-10`): later figures are compared
    with that period's value (per day for summed KPIs)."""

    __tablename__ = "baseline"
    __table_args__ = (UniqueConstraint("kpi", "scope_kind", "scope_key", name="uq_baseline"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi: str = Field(max_length=64)
    scope_kind: str = Field(max_length=8)
    scope_key: str = Field(default="", max_length=200)
    period_kind: str = Field(max_length=8)
    period_key: str = Field(max_length=16)
    period_start: date
    period_end: date
    set_by: str = Field(max_length=320)
    set_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
