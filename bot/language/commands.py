"""Parsed commands: what the parser hands to the handlers. Periods are already resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.request import UserRef
from bot.language.values import ParsedValue
from storage.kpi.periods import Period


@dataclass(frozen=True)
class ScopeRef:
    """A scope as written: team, role:ROLE, member:KEY, or a mentioned user (resolved later)."""

    kind: str  # team | role | member | user | shop
    key: str = ""
    user: UserRef | None = None
    shop: str = ""  # shop:KEY with a role or member: only that shop's rows


TEAM = ScopeRef("team")


@dataclass(frozen=True)
class Command:
    public: bool = field(default=False, kw_only=True)
    # The question it was read from (bot.language.questions.Question), remembered for follow-ups.
    question: Any = field(default=None, kw_only=True, compare=False, repr=False)


@dataclass(frozen=True)
class Help(Command):
    topic: str | None = None


@dataclass(frozen=True)
class Status(Command):
    kpi: str
    scope: ScopeRef
    period: Period


@dataclass(frozen=True)
class Me(Command):
    period: Period


@dataclass(frozen=True)
class Board(Command):
    kpi: str
    role: str | None
    period: Period
    by_shop: bool = False  # shops side by side instead of members
    shop: str = ""  # shop:KEY: the members' rows and targets in that shop only
    order: str = "top"  # top | bottom (who sold the least, 谁最低)


@dataclass(frozen=True)
class Overview(Command):
    """Someone's KPIs: a member's (all their roles), or the team's headline KPIs."""

    scope: ScopeRef
    period: Period


@dataclass(frozen=True)
class RoleKpis(Command):
    """A role's KPIs, one row per member."""

    role: str
    period: Period


@dataclass(frozen=True)
class RunRate(Command):
    kpi: str
    scope: ScopeRef
    period: Period


@dataclass(frozen=True)
class Compare(Command):
    kpi: str
    scope: ScopeRef
    period: Period
    against: str  # previous | year


@dataclass(frozen=True)
class Trend(Command):
    kpi: str
    scope: ScopeRef
    period: Period


@dataclass(frozen=True)
class TargetSet(Command):
    kpi: str
    value: ParsedValue
    scope: ScopeRef
    period: Period


@dataclass(frozen=True)
class TargetList(Command):
    scope: ScopeRef | None
    period: Period


@dataclass(frozen=True)
class TargetClear(Command):
    kpi: str
    scope: ScopeRef
    period: Period


@dataclass(frozen=True)
class TargetForm(Command):
    pass


@dataclass(frozen=True)
class RoleAssign(Command):
    user: UserRef | None
    role: str
    member_key: str | None
    remove: bool = False


@dataclass(frozen=True)
class RoleRemove(RoleAssign):
    remove: bool = True


@dataclass(frozen=True)
class RoleList(Command):
    pass


@dataclass(frozen=True)
class AlertGuard:
    """A stop-loss rule's minimum volume today: `when ad_spend >= 500 today`."""

    kpi: str
    op: str
    value: ParsedValue


@dataclass(frozen=True)
class AlertAdd(Command):
    kpi: str
    mode: str  # value | pace | unusual | stoploss
    op: str
    value: ParsedValue
    scope: ScopeRef
    days: int
    channel: str | None
    guard: AlertGuard | None = None


@dataclass(frozen=True)
class AlertList(Command):
    pass


@dataclass(frozen=True)
class AlertRemove(Command):
    rule_id: int


@dataclass(frozen=True)
class DigestSubscribe(Command):
    channel: str | None
    cadence: str
    day: str
    time: str
    me: bool = False  # a direct message to the asker (anyone may); a channel needs an admin
    scope: ScopeRef | None = None  # None: the team (or, for `me`, the asker)
    kpis: tuple[str, ...] = ()
    timezone: str | None = None  # None: the team's


@dataclass(frozen=True)
class DigestList(Command):
    pass


@dataclass(frozen=True)
class DigestUnsubscribe(Command):
    subscription_id: int


@dataclass(frozen=True)
class DigestNow(Command):
    channel: str | None


@dataclass(frozen=True)
class DigestResend(Command):
    delivery_id: int


@dataclass(frozen=True)
class DigestSends(Command):
    pass


@dataclass(frozen=True)
class Sources(Command):
    pass


@dataclass(frozen=True)
class Audit(Command):
    limit: int = 10


@dataclass(frozen=True)
class AdminChange(Command):
    user: UserRef
    add: bool


@dataclass(frozen=True)
class AdminRemove(AdminChange):
    add: bool = False


@dataclass(frozen=True)
class AdminList(Command):
    pass


@dataclass
class ParseError(Exception):
    """Bad input: a message key of the command catalogue and its values."""

    key: str
    values: dict[str, object] = field(default_factory=dict)
    topic: str | None = None  # the command whose usage to show


@dataclass
class NotUnderstood(Exception):
    """Nothing recognisable: answer with the closest commands."""

    words: list[str] = field(default_factory=list)
