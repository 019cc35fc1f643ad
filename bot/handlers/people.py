"""Roles and admins (writes are admin-only and audited)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import identity
from bot.core.request import MENTION_TOKEN, CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.present.reply import Reply, Table
from storage.repositories import audit as audit_repo
from storage.repositories import members as member_repo


def role_subject(ctx: Context, session: Session, cmd: c.RoleAssign) -> str:
    who = ctx.user_label(cmd.user) if cmd.user else (cmd.member_key or "?")
    return f"role {cmd.role} {who}" + (f" as {cmd.member_key}" if cmd.member_key else "")


def role_assign(ctx: Context, cmd: c.RoleAssign) -> Reply:
    action = "role.remove" if cmd.remove else "role.assign"
    who = ctx.user_label(cmd.user) if cmd.user else (cmd.member_key or "?")
    with ctx.session() as session:
        if cmd.user is not None:
            member = identity.ensure_member_for_user(session, cmd.user, cmd.member_key)
        else:
            member = member_repo.ensure_member(session, cmd.member_key or "")
        role_label = ctx.role_label(cmd.role)
        if cmd.remove:
            changed = member_repo.unassign_role(session, member, cmd.role)
            if changed:
                audit_repo.record(session, ctx.actor, action, f"role {cmd.role} {member.key}", old=cmd.role, new=None)
            key = "role_removed" if changed else "role_not_held"
            return ctx.confirmation("role_removed_title", ctx.t(key, user=who, role=role_label))
        changed = member_repo.assign_role(session, member, cmd.role)
        if changed:
            audit_repo.record(session, ctx.actor, action, f"role {cmd.role} {member.key}", old=None, new=cmd.role)
            return ctx.confirmation("role_assigned_title",
                                    ctx.t("role_assigned", user=who, role=role_label, key=member.key))
        return ctx.confirmation("role_assigned_title", ctx.t("role_already", user=who, role=role_label))


def role_list(ctx: Context, cmd: c.RoleList) -> Reply:
    with ctx.session() as session:
        mapping = member_repo.role_map(session)
        names = member_repo.display_names(session, list(mapping))
    if not mapping:
        return Reply(title=ctx.t("roles_title"), lang=ctx.lang, text=ctx.t("roles_empty"))
    body = [[names.get(key, key), key, ", ".join(ctx.role_label(r) for r in roles)] for key, roles in mapping.items()]
    table = Table([ctx.t("col_member"), ctx.t("col_key"), ctx.t("col_roles")], body)
    return Reply(title=ctx.t("roles_title"), lang=ctx.lang, tables=[table])


def admin_change(ctx: Context, cmd: c.AdminChange) -> Reply:
    action = "admin.add" if cmd.add else "admin.remove"
    who = ctx.user_label(cmd.user)
    with ctx.session() as session:
        member = identity.ensure_member_for_user(session, cmd.user)
        old = member.is_admin
        member.is_admin = cmd.add
        session.add(member)
        if old == cmd.add:
            return ctx.confirmation("admin_added_title" if cmd.add else "admin_removed_title",
                                    ctx.t("admin_unchanged", user=who))
        audit_repo.record(session, ctx.actor, action, f"admin {member.key}", old=old, new=cmd.add)
    key = "admin_added" if cmd.add else "admin_removed"
    return ctx.confirmation(f"{key}_title", ctx.t(key, user=who))


def admin_list(ctx: Context, cmd: c.AdminList) -> Reply:
    with ctx.session() as session:
        added = [m.display_name or m.email or m.key for m in member_repo.admins(session)]
    none = ctx.t("none")
    text = "\n".join([
        ctx.t("admins_configured", list=", ".join(ctx.services.settings.admin_list) or none),
        ctx.t("admins_added", list=", ".join(added) or none),
    ])
    return Reply(title=ctx.t("admins_title"), lang=ctx.lang, text=text)


# --- reading the words -------------------------------------------------------------------------

def read_role_change(parser: Parser, words: list[str], request: CommandRequest, *, remove: bool) -> c.RoleAssign:
    rest, member_key = list(words), None
    lowered = [w.lower() for w in rest]
    for marker in ("as", "为", "作为"):
        if marker in lowered:
            index = lowered.index(marker)
            if index + 1 >= len(rest):
                raise c.ParseError("missing_member_key", {}, "role")
            member_key = rest[index + 1].removeprefix("member:")
            rest = rest[:index] + rest[index + 2:]
            break
    found = parser.scan(rest, request)
    users = [s.user for s in found.scopes if s.kind == "user"]
    if not users and member_key is None:
        raise c.ParseError("missing_user", {}, "role")
    roles = found.roles or [s.key for s in found.scopes if s.kind == "role"]
    if not roles and found.unknown:
        raise c.ParseError("unknown_role", {"word": found.unknown[0], "roles": parser.role_list()}, "role")
    if not roles:
        raise c.ParseError("missing_role", {"roles": parser.role_list()}, "role")
    parser.reject_unknown(found, "role")
    kind = c.RoleRemove if remove else c.RoleAssign
    return kind(user=users[0] if users else None, role=roles[0], member_key=member_key, remove=remove)


def read_role_assign(parser: Parser, words: list[str], request: CommandRequest) -> c.RoleAssign:
    return read_role_change(parser, words, request, remove=False)


def read_role_remove(parser: Parser, words: list[str], request: CommandRequest) -> c.RoleAssign:
    return read_role_change(parser, words, request, remove=True)


def read_role_list(parser: Parser, words: list[str], request: CommandRequest) -> c.RoleList:
    return c.RoleList()


def read_admin_change(words: list[str], request: CommandRequest, *, add: bool) -> c.AdminChange:
    users = [request.mentions[int(m[1])] for w in words if (m := MENTION_TOKEN.fullmatch(w))
             and int(m[1]) < len(request.mentions)]
    if not users:
        raise c.ParseError("missing_user", {}, "admin")
    return c.AdminChange(user=users[0], add=True) if add else c.AdminRemove(user=users[0])


def read_admin_add(parser: Parser, words: list[str], request: CommandRequest) -> c.AdminChange:
    return read_admin_change(words, request, add=True)


def read_admin_remove(parser: Parser, words: list[str], request: CommandRequest) -> c.AdminChange:
    return read_admin_change(words, request, add=False)


def read_admin_list(parser: Parser, words: list[str], request: CommandRequest) -> c.AdminList:
    return c.AdminList()


def admin_subject(ctx: Context, session: Session, cmd: c.AdminChange) -> str:
    return f"admin {ctx.user_label(cmd.user)}"


COMMANDS = [
    CommandGroup(
        name="role", words=("roles", "角色"), order=50, default="list",
        summary=Bilingual("Link chat users to data members and roles (admins).",
                          "把聊天成员关联到数据成员与角色（管理员）。"),
        subcommands=(
            Subcommand(c.RoleAssign, read_role_assign, role_assign, name="assign", words=("分配", "设置"),
                       admin=True, audit="role.assign", subject=role_subject,
                       usage=Bilingual("role assign @user ROLE [as MEMBER_KEY]", "角色 分配 @成员 角色 [as 成员标识]")),
            Subcommand(c.RoleList, read_role_list, role_list, name="list", words=("列表", "查看"),
                       usage=Bilingual("role list", "角色 列表")),
            Subcommand(c.RoleRemove, read_role_remove, role_assign, name="remove", words=("unassign", "rm", "移除"),
                       admin=True, audit="role.remove", subject=role_subject,
                       usage=Bilingual("role remove @user ROLE", "角色 移除 @成员 角色")),
        ),
        examples=Bilingual("role assign @alice host as alice@shop.com · role list · role remove @alice host",
                           "角色 分配 @alice host · 角色 列表"),
    ),
    CommandGroup(
        name="admin", words=("admins", "管理员"), order=95, default="list",
        summary=Bilingual("Who may change things.", "管理员名单与变更。"),
        subcommands=(
            Subcommand(c.AdminChange, read_admin_add, admin_change, name="add", words=("添加",), admin=True,
                       audit="admin.add", subject=admin_subject,
                       usage=Bilingual("admin add @user", "管理员 添加 @成员")),
            Subcommand(c.AdminRemove, read_admin_remove, admin_change, name="remove", words=("rm", "移除", "删除"),
                       admin=True, audit="admin.remove", subject=admin_subject,
                       usage=Bilingual("admin remove @user", "管理员 移除 @成员")),
            Subcommand(c.AdminList, read_admin_list, admin_list, name="list", words=("列表", "查看"),
                       usage=Bilingual("admin list", "管理员 列表")),
        ),
        examples=Bilingual("admin add @alice · admin list · admin remove @alice", "管理员 列表"),
    ),
]
