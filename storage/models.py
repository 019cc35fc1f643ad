"""Tables. Timestamps are UTC and timezone-aware on every database (see `UtcDateTime`).

Facts use `member = ''` (not NULL) for team-level rows so that the unique key
(metric, date, member, source) holds on every database (NULLs never collide in a UNIQUE).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; gives them back aware (SQLite returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TableBase(SQLModel):
    """The base of every table. Pydantic builds a table's validator when one is first needed, not when the
    class is defined: rows are built and read through SQLAlchemy, which never calls it, and building all of
    them took a third of importing this module (a tenth of a second of every `kpibot` start)."""

    model_config = {**SQLModel.model_config, "defer_build": True}


def _ts(nullable: bool = False) -> Column:
    return Column(UtcDateTime(), nullable=nullable)


class Member(TableBase, table=True):
    """A person on the team. `key` is how data sources name them (often the email)."""

    __tablename__ = "member"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True, index=True)
    email: str | None = Field(default=None, max_length=320, index=True)
    display_name: str | None = Field(default=None, max_length=200)
    is_admin: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Identity(TableBase, table=True):
    """A chat user (platform, user id: Slack user id, Feishu open_id, DingTalk staffId …) → the member."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_identity_platform_user"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    user_id: str = Field(max_length=128)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Role(TableBase, table=True):
    """Roles in force (built-in plus the KPI file), mirrored from the registry at start."""

    __tablename__ = "role"
    id: str = Field(primary_key=True, max_length=64)
    label_en: str = Field(max_length=200)
    label_zh: str = Field(max_length=200)


class RoleAssignment(TableBase, table=True):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("member_id", "role", name="uq_role_assignment"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=64, index=True)
    assigned_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class KpiDefinition(TableBase, table=True):
    """KPIs in force, mirrored from the registry at start (the registry is the source of truth)."""

    __tablename__ = "kpi_definition"
    id: str = Field(primary_key=True, max_length=64)
    label_en: str = Field(max_length=200)
    label_zh: str = Field(max_length=200)
    formula: str = Field(max_length=500)
    unit: str = Field(max_length=16)
    direction: str = Field(max_length=8)
    warn: float = 0.9


class Target(TableBase, table=True):
    __tablename__ = "target"
    __table_args__ = (
        UniqueConstraint("kpi", "scope_kind", "scope_key", "shop", "period_key", name="uq_target"),
        Index("ix_target_lookup", "kpi", "period_start", "period_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kpi: str = Field(max_length=64)
    scope_kind: str = Field(max_length=8)  # team | role | member
    scope_key: str = Field(default="", max_length=200)  # '' | role id | member key
    shop: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})  # role/member in one shop
    period_kind: str = Field(max_length=8)  # day | week | month | quarter
    period_key: str = Field(max_length=16)  # 2026-11-23 | 2026-W48 | 2026-11 | 2026-Q4
    period_start: date
    period_end: date
    value: float
    set_by: str = Field(max_length=320)
    set_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Fact(TableBase, table=True):
    __tablename__ = "fact"
    __table_args__ = (
        UniqueConstraint("metric", "date", "member", "shop", "source", name="uq_fact"),
        Index("ix_fact_member_metric_date", "member", "metric", "date"),
        Index("ix_fact_source_date", "source", "date"),
        Index("ix_fact_shop_metric_date", "shop", "metric", "date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=64)
    date: date
    member: str = Field(default="", max_length=200)  # '' = team-level row
    shop: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})  # '' = no shop named
    source: str = Field(default="api", max_length=64)
    value: float  # in the reporting currency for money metrics
    original_value: float | None = None  # money converted on the way in: the amount as it came
    original_currency: str | None = Field(default=None, max_length=3)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class FxRate(TableBase, table=True):
    """Units of the reporting currency per unit of `currency`, for a day or a whole month."""

    __tablename__ = "fx_rate"
    __table_args__ = (UniqueConstraint("currency", "period_key", name="uq_fx_rate"),)

    id: int | None = Field(default=None, primary_key=True)
    currency: str = Field(max_length=3)
    period_key: str = Field(max_length=10)  # 2026-11 (a month) or 2026-11-05 (a day)
    start: date
    end: date
    rate: float
    set_by: str = Field(default="", max_length=320)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AuditEntry(TableBase, table=True):
    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    actor_platform: str = Field(max_length=16)
    actor_id: str = Field(max_length=128)
    actor_email: str | None = Field(default=None, max_length=320)
    action: str = Field(max_length=64, index=True)  # target.set, role.assign, alert.add …
    subject: str = Field(max_length=500)
    old: str | None = Field(default=None, sa_column=Column(Text))
    new: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str = Field(default="ok", max_length=16)  # ok | refused


class ProcessedEvent(TableBase, table=True):
    """Dedupe of redelivered platform events (Slack event_id, Feishu event_id / message_id)."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("platform", "event_id", name="uq_processed_event"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    event_id: str = Field(max_length=200)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DeliveryLedger(TableBase, table=True):
    """Exactly-once record of every scheduled send: claimed before sending, updated after."""

    __tablename__ = "delivery_ledger"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "period_key", "channel", name="uq_delivery"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # digest | alert | alert_resolved | alert_reminder | source_warning | send_failed
    ref_id: str = Field(max_length=64)  # subscription id / rule id
    period_key: str = Field(max_length=64)
    channel: str = Field(max_length=200)  # platform:channel
    status: str = Field(default="claimed", max_length=16)  # claimed | sent | failed | missed | unconfirmed
    attempts: int = 0
    message_id: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text))
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    heartbeat_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # sender last alive


class AlertRule(TableBase, table=True):
    __tablename__ = "alert_rule"
    id: int | None = Field(default=None, primary_key=True)
    kpi: str = Field(max_length=64)
    scope_kind: str = Field(max_length=8)
    scope_key: str = Field(default="", max_length=200)
    shop: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})  # role/member in one shop
    mode: str = Field(default="value", max_length=8)  # value | pace | unusual | stoploss
    op: str = Field(max_length=2)  # < <= > >=
    threshold: float
    days: int = 1  # value mode: condition over each of the last N complete days
    channel: str = Field(max_length=200)  # platform:channel
    lang: str = Field(default="en", max_length=2)
    cooldown_hours: float = 24.0
    # stoploss mode: the condition counts only once today's guard KPI reaches OP threshold (ad_spend >= 500)
    guard_kpi: str | None = Field(default=None, max_length=64)
    guard_op: str | None = Field(default=None, max_length=2)
    guard_threshold: float | None = None
    active: bool = True
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AlertState(TableBase, table=True):
    __tablename__ = "alert_state"
    rule_id: int = Field(primary_key=True, foreign_key="alert_rule.id", ondelete="CASCADE")
    state: str = Field(default="clear", max_length=8)  # clear | firing
    since: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_notified_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_value: float | None = None
    clear_streak: int = 0
    acknowledged_by: str | None = Field(default=None, max_length=320)
    snoozed_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    message_id: str | None = Field(default=None, max_length=200)


class DigestSubscription(TableBase, table=True):
    __tablename__ = "digest_subscription"
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    channel: str = Field(max_length=200)
    cadence: str = Field(default="weekly", max_length=8)  # daily | weekly | monthly
    day: str = Field(default="mon", max_length=8)  # weekday name, day of month for monthly, '' for daily
    time: str = Field(default="09:00", max_length=5)  # HH:MM in `timezone`
    timezone: str = Field(max_length=64)
    lang: str = Field(default="en", max_length=2)
    active: bool = True
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # `me` subscriptions: `channel` is the subscriber's user id on `platform`, sent as a direct message.
    direct: bool = False
    scope_kind: str = Field(default="team", max_length=8)  # team | role | shop | member
    scope_key: str = Field(default="", max_length=200)
    kpis: str = Field(default="", max_length=500)  # comma-separated KPI ids; '' = the scope's own


class DigestPost(TableBase, table=True):
    """What a digest send posted (digest history): where, when, which period, and the reply's text and tables
    as JSON so it can be shown again or exported; charts are not kept."""

    __tablename__ = "digest_post"
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int | None = Field(default=None, index=True)
    cadence: str = Field(max_length=8)
    channel: str = Field(max_length=200)  # platform:channel
    period_key: str = Field(max_length=64)
    status: str = Field(max_length=16)  # sent | failed
    message_id: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=500)
    content: str = Field(sa_column=Column(Text, nullable=False))  # the Reply as JSON (no charts)
    posted_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ActionItem(TableBase, table=True):
    """Who does what by when, agreed in a review; the next review checks it (行动项)."""

    __tablename__ = "action_item"
    __table_args__ = (Index("ix_action_item_status_due", "status", "due"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=200, index=True)  # member key
    text: str = Field(sa_column=Column(Text, nullable=False))
    due: date | None = None  # last day of the `by` period
    due_label: str = Field(default="", max_length=16)  # the period as given: 2026-W50, 2026-12, 2026-12-15
    kpi: str | None = Field(default=None, max_length=64)
    kpi_baseline: float | None = None  # the KPI's value for the owner's scope when the action was created
    kpi_baseline_period: str | None = Field(default=None, max_length=16)
    status: str = Field(default="open", max_length=8)  # open | done | dropped
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    closed_by: str | None = Field(default=None, max_length=320)
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class SourceSyncRun(TableBase, table=True):
    __tablename__ = "source_sync_run"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)  # api | import | sql | bitable | folder
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    rows_read: int = 0
    rows_written: int = 0
    newest_date: date | None = None
    ok: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text))


class ImportedFile(TableBase, table=True):
    """Drop-folder memory: each file (by name and content hash) is imported once."""

    __tablename__ = "imported_file"
    __table_args__ = (UniqueConstraint("source", "name", "sha256", name="uq_imported_file"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    name: str = Field(max_length=500)
    sha256: str = Field(max_length=64)
    status: str = Field(max_length=8)  # done | failed
    imported_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ConversationMemory(TableBase, table=True):
    """The last question a person asked in one conversation (a DM, a thread, a console session), so a
    follow-up (`and last week?`, `那上周呢`) answered by any replica inherits what it leaves out."""

    __tablename__ = "conversation_memory"
    __table_args__ = (
        UniqueConstraint("platform", "conversation", "user_id", name="uq_conversation_memory"),
        Index("ix_conversation_memory_asked_at", "asked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    conversation: str = Field(max_length=255)  # channel id + thread id (or the DM / session id)
    user_id: str = Field(max_length=128)
    question: str = Field(sa_column=Column(Text, nullable=False))  # JSON, see bot/language/memory.py
    asked_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
