"""What a handler needs: the services (built once at start-up), who asks, in which language, and
small helpers. Handlers get everything through the context and never import the dispatcher."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from bot.core import identity, memory
from bot.core.messages import T
from bot.core.request import UserRef
from bot.language.commands import ParseError, ScopeRef
from bot.language.registry import CommandRegistry
from jobs import digest
from jobs.outbox import Outbox
from jobs.present.formatting import kpi_value
from jobs.present.reply import Reply, ReplyKind
from jobs.sources import SourceState, source_states, stale_sources_for
from jobs.sources.config import SourceConfig, configured_sources
from jobs.timing import Clock, utc_now
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry
from storage.kpi.scope import Scope
from storage.repositories import audit as audit_repo
from storage.repositories import members as member_repo
from storage.settings import Settings


@dataclass
class Services:
    """Everything handlers use, built once at start-up by the core."""

    settings: Settings
    db: Database
    registry: Registry
    engine: KpiEngine
    commands: CommandRegistry
    outboxes: dict[str, Outbox] = field(default_factory=dict)  # platform → outbox (+ "file")
    on_schedule_change: list[Callable[[], None]] = field(default_factory=list)
    clock: Clock = utc_now  # UTC now for handlers that stamp a moment (an alert's snooze end); tests set it

    def today(self) -> date:
        """The engine's clock: today in the team's zone."""
        return self.engine.today()

    def data_through(self) -> date | None:
        """The newest day with data in the workspace (an empty current period answers last period's)."""
        return memory.data_through(self.db, self.engine.today())

    def schedule_changed(self) -> None:
        for callback in self.on_schedule_change:
            callback()

    def __post_init__(self) -> None:
        self.sources: list[SourceConfig] = configured_sources(self.registry)  # parsed once, at start-up

    def stale_sources(self, metrics: list[str]) -> list[str]:
        return stale_sources_for(self.db, self.registry, metrics, self.engine.today(), configs=self.sources)

    def source_states(self) -> list[SourceState]:
        return source_states(self.db, self.registry, self.engine.today(), configs=self.sources)

    def send_digest_now(self, platform: str, channel: str, lang: str) -> str | None:
        outbox = self.outboxes.get(platform) or self.outboxes.get("file")
        if outbox is None:
            return None
        return digest.send_weekly_digest(self.engine, self.registry, outbox, channel, lang=lang,
                                         currency=self.settings.currency)


@dataclass
class Context:
    services: Services
    user: UserRef
    lang: str
    channel: str | None = None
    schedule_touched: bool = False  # a handler changed alerts or digests: reschedule once committed

    def t(self, message: str, /, **values: object) -> str:
        return T(message, self.lang, **values)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """The question's one unit of work, shared with the engine and freshness reads it makes
        (the core opens it around the handler and commits it when the answer is ready)."""
        with self.services.db.shared_session() as session:
            yield session

    def schedule_changed(self) -> None:
        """Alerts or digests changed: the scheduler re-reads them after this question commits."""
        self.schedule_touched = True

    @property
    def actor(self) -> audit_repo.Actor:
        return identity.actor_of(self.user)

    def value(self, kpi_id: str, value: float | None) -> str:
        kpi = self.services.registry.kpis[kpi_id]
        return kpi_value(value, kpi.unit, self.services.settings.currency, self.lang)

    def kpi_label(self, kpi_id: str) -> str:
        kpi = self.services.registry.kpis.get(kpi_id)
        return kpi.label(self.lang) if kpi else kpi_id

    def role_label(self, role_id: str) -> str:
        role = self.services.registry.roles.get(role_id)
        return role.label(self.lang) if role else role_id

    # --- scopes --------------------------------------------------------------------------

    def resolve_scope(self, session: Session, ref: ScopeRef) -> Scope:
        """A written scope → a data scope; a mentioned user must be linked to a member."""
        scope = self._resolve_scope(session, ref)
        return scope.in_shop(ref.shop) if ref.shop else scope

    def _resolve_scope(self, session: Session, ref: ScopeRef) -> Scope:
        if ref.kind == "shop":
            return Scope.of_shop(ref.key)
        if ref.kind == "team":
            return Scope.team()
        if ref.kind == "role":
            return Scope.role(ref.key)
        if ref.kind == "member":
            return Scope.member(ref.key)
        assert ref.user is not None
        member = identity.find_member(session, ref.user)
        if member is None:
            raise ParseError("unknown_user", {"user": self.user_label(ref.user)})
        return Scope.member(member.key)

    def scope_label(self, scope: Scope, session: Session | None = None) -> str:
        if scope.shop:
            shop = self.services.registry.shops.get(scope.shop)
            name = shop.name if shop else scope.shop
            if scope.kind == "shop":
                return name
            return f"{self.scope_label(Scope(scope.kind, scope.key), session)} · {name}"
        if scope.kind == "team":
            return self.t("team")
        if scope.kind == "role":
            return self.role_label(scope.key)
        if session is not None:
            names = member_repo.display_names(session, [scope.key])
            return names.get(scope.key, scope.key)
        return scope.key

    def user_label(self, user: UserRef) -> str:
        return user.display_name or user.email or user.user_id

    # --- writes --------------------------------------------------------------------------

    def refuse_unless_admin(self, session: Session, what: str, action: str, subject: str) -> Reply | None:
        """`what`: what the refused command changes, in the asker's language ("targets", "目标")."""
        """None for an admin; otherwise the refusal (audited as refused)."""
        if identity.is_admin(session, self.services.settings, self.user):
            return None
        audit_repo.record(session, self.actor, action, subject, outcome="refused")
        admins = self.services.settings.admin_list + [m.email or m.key for m in member_repo.admins(session)]
        text = (self.t("refused", what=what, admins=", ".join(admins)) if admins
                else self.t("refused_nobody", what=what))
        return Reply(title=self.t("refused_title"), lang=self.lang, kind=ReplyKind.REFUSAL, text=text)

    def confirmation(self, title_key: str, text: str) -> Reply:
        return Reply(title=self.t(title_key), lang=self.lang, kind=ReplyKind.CONFIRMATION, text=text)
