"""Members, their chat identities and their roles."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, bindparam
from sqlmodel import Session, col, delete, select

from storage.models import Identity, Member, RoleAssignment


def member_by_key(session: Session, key: str) -> Member | None:
    return session.exec(select(Member).where(Member.key == key)).first()


def member_by_platform_id(session: Session, platform: str, user_id: str) -> Member | None:
    """The member linked to this chat identity, else the member keyed `platform:user_id`."""
    member = session.exec(
        select(Member).join(Identity, col(Identity.member_id) == Member.id)
        .where(Identity.platform == platform, Identity.user_id == user_id)
    ).first()
    return member or member_by_key(session, f"{platform}:{user_id}")


def identities_of(session: Session, member_ids: list[int]) -> list[Identity]:
    """Every chat identity of these members (e.g. where to reach admins directly)."""
    if not member_ids:
        return []
    return list(session.exec(
        select(Identity).where(col(Identity.member_id).in_(member_ids)).order_by(Identity.platform, col(Identity.id))
    ))


def member_by_email(session: Session, email: str) -> Member | None:
    return session.exec(select(Member).where(col(Member.email).ilike(email.strip()))).first()


def ensure_member(session: Session, key: str, *, email: str | None = None, display_name: str | None = None) -> Member:
    member = member_by_key(session, key)
    if member is None:
        member = Member(key=key, email=email or (key if "@" in key else None), display_name=display_name)
        session.add(member)
        session.flush()
    else:
        if email and not member.email:
            member.email = email
        if display_name and not member.display_name:
            member.display_name = display_name
    return member


def link_user(session: Session, member: Member, platform: str, user_id: str, email: str | None) -> None:
    """Point a chat identity at `member` and, when the member has no email yet, give it this one."""
    if email and not member.email and member_by_email(session, email) is None:
        member.email = email
        session.add(member)
    link_platform_id(session, member, platform, user_id)


def link_platform_id(session: Session, member: Member, platform: str, user_id: str) -> None:
    """Point a platform user id at `member`, moving it away from any other member."""
    assert member.id is not None
    identity = session.exec(
        select(Identity).where(Identity.platform == platform, Identity.user_id == user_id)
    ).first()
    if identity is None:
        session.add(Identity(platform=platform, user_id=user_id, member_id=member.id))
    elif identity.member_id != member.id:
        identity.member_id = member.id
        session.add(identity)
    session.flush()


def roles_of(session: Session, member_id: int) -> list[str]:
    return list(session.exec(
        select(RoleAssignment.role).where(RoleAssignment.member_id == member_id).order_by(RoleAssignment.role)
    ))


def assign_role(session: Session, member: Member, role: str) -> bool:
    """True when the role was new for this member."""
    assert member.id is not None
    if role in roles_of(session, member.id):
        return False
    session.add(RoleAssignment(member_id=member.id, role=role))
    session.flush()
    return True


def unassign_role(session: Session, member: Member, role: str) -> bool:
    result = cast(CursorResult[Any], session.execute(  # a DELETE's result has rowcount
        delete(RoleAssignment).where(col(RoleAssignment.member_id) == member.id, col(RoleAssignment.role) == role)
    ))
    return bool(result.rowcount)


# Built once: constructing an ORM select costs more than running these small indexed reads (review questions
# make several per answer).
_ROLE_MAP = (select(Member.key, RoleAssignment.role).join(RoleAssignment, RoleAssignment.member_id == Member.id)  # type: ignore[arg-type]
             .order_by(Member.key, RoleAssignment.role))
_DISPLAY_NAMES = select(Member.key, Member.display_name).where(col(Member.key).in_(bindparam("keys", expanding=True)))


def role_map(session: Session) -> dict[str, list[str]]:
    """member key → roles, for every member holding a role."""
    out: dict[str, list[str]] = {}
    for key, role in session.exec(_ROLE_MAP):
        out.setdefault(key, []).append(role)
    return out


def display_names(session: Session, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    rows = session.exec(_DISPLAY_NAMES, params={"keys": keys})
    return {key: name for key, name in rows if name}


def admins(session: Session) -> list[Member]:
    return list(session.exec(select(Member).where(Member.is_admin == True).order_by(Member.key)))  # noqa: E712
