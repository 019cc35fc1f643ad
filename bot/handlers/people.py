"""Roles and admins (writes are admin-only and audited)."""

from __future__ import annotations

from bot.core import identity
from bot.handlers.context import Context
from bot.language import commands as c
from jobs.present.reply import Reply, Table
from storage.repositories import audit as audit_repo
from storage.repositories import members as member_repo


def role_assign(ctx: Context, cmd: c.RoleAssign) -> Reply:
    action = "role.remove" if cmd.remove else "role.assign"
    who = ctx.user_label(cmd.user) if cmd.user else (cmd.member_key or "?")
    with ctx.session() as session:
        what = f"role {cmd.role} {who}" + (f" as {cmd.member_key}" if cmd.member_key else "")
        if refusal := ctx.refuse_unless_admin(session, "role", action, what):
            return refusal
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
        if refusal := ctx.refuse_unless_admin(session, "admin", action, f"admin {who}"):
            return refusal
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
        ctx.t("admins_configured", list=", ".join(ctx.bot.settings.admin_list) or none),
        ctx.t("admins_added", list=", ".join(added) or none),
    ])
    return Reply(title=ctx.t("admins_title"), lang=ctx.lang, text=text)
