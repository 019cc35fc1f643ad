"""What a handler needs: the bot's services, the request, the language, and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.core import identity
from bot.core.messages import T
from bot.core.request import UserRef
from bot.language.commands import ParseError, ScopeRef
from jobs.present.formatting import kpi_value
from jobs.present.reply import Reply, ReplyKind
from storage.kpi.scope import Scope
from storage.repositories import audit as audit_repo
from storage.repositories import members as member_repo

if TYPE_CHECKING:
    from bot.core.bot import KpiBot


@dataclass
class Context:
    bot: KpiBot
    user: UserRef
    lang: str
    channel: str | None = None

    def t(self, message: str, /, **values: object) -> str:
        return T(message, self.lang, **values)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.bot.db.session() as session:
            yield session

    @property
    def actor(self) -> audit_repo.Actor:
        return identity.actor_of(self.user)

    def value(self, kpi_id: str, value: float | None) -> str:
        kpi = self.bot.registry.kpis[kpi_id]
        return kpi_value(value, kpi.unit, self.bot.settings.currency, self.lang)

    def kpi_label(self, kpi_id: str) -> str:
        kpi = self.bot.registry.kpis.get(kpi_id)
        return kpi.label(self.lang) if kpi else kpi_id

    def role_label(self, role_id: str) -> str:
        role = self.bot.registry.roles.get(role_id)
        return role.label(self.lang) if role else role_id

    # --- scopes --------------------------------------------------------------------------

    def resolve_scope(self, session: Session, ref: ScopeRef) -> Scope:
        """A written scope → a data scope; a mentioned user must be linked to a member."""
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
        """None for an admin; otherwise the refusal (audited as refused)."""
        if identity.is_admin(session, self.bot.settings, self.user):
            return None
        audit_repo.record(session, self.actor, action, subject, outcome="refused")
        admins = self.bot.settings.admin_list + [m.email or m.key for m in member_repo.admins(session)]
        text = (self.t("refused", what=self.t(f"what_{what}"), admins=", ".join(admins)) if admins
                else self.t("refused_nobody", what=self.t(f"what_{what}")))
        return Reply(title=self.t("refused_title"), lang=self.lang, kind=ReplyKind.REFUSAL, text=text)

    def confirmation(self, title_key: str, text: str) -> Reply:
        return Reply(title=self.t(title_key), lang=self.lang, kind=ReplyKind.CONFIRMATION, text=text)
