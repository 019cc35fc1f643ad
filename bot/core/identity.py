"""Who is asking: a chat user linked to a data member (by platform id, else by email), and
whether they may change things."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.request import UserRef
from storage.models import Member
from storage.repositories import members as member_repo
from storage.repositories.audit import Actor
from storage.settings import Settings


def actor_of(user: UserRef) -> Actor:
    return Actor(platform=user.platform, user_id=user.user_id, email=user.email)


def find_member(session: Session, user: UserRef) -> Member | None:
    """The member this chat user is; links the chat id on first sight when the email matches."""
    member = member_by_user(session, user)
    if member is None and user.email:
        member = member_repo.member_by_email(session, user.email) or member_repo.member_by_key(session, user.email)
        if member is not None:
            member_repo.link_user(session, member, user.platform, user.user_id, user.email)
    return member


def member_by_user(session: Session, user: UserRef) -> Member | None:
    return member_repo.member_by_platform_id(session, user.platform, user.user_id)


def ensure_member_for_user(session: Session, user: UserRef, key: str | None = None) -> Member:
    """The member for a chat user, created when unknown: key = given key, else email, else platform:id."""
    if key:
        member = member_repo.ensure_member(session, key, email=user.email if key == user.email else None,
                                           display_name=user.display_name)
        member_repo.link_user(session, member, user.platform, user.user_id, user.email)
        return member
    existing = find_member(session, user)
    if existing is not None:
        return existing
    member = member_repo.ensure_member(session, user.email or f"{user.platform}:{user.user_id}",
                                       email=user.email, display_name=user.display_name)
    member_repo.link_user(session, member, user.platform, user.user_id, user.email)
    return member


def is_admin(session: Session, settings: Settings, user: UserRef) -> bool:
    if user.operator:  # the local operator of `kpibot console` (not `console --as someone`)
        return True
    configured = {entry.lower() for entry in settings.admin_list}
    if f"{user.platform}:{user.user_id}".lower() in configured:
        return True
    if user.email and user.email.lower() in configured:
        return True
    member = find_member(session, user)
    return bool(member and member.is_admin)
