"""Targets: set, list, clear (writes are admin-only and audited)."""

from __future__ import annotations

from bot.handlers.context import Context
from bot.language import commands as c
from jobs.present.formatting import period_label
from jobs.present.reply import Reply, Table
from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.repositories import audit as audit_repo
from storage.repositories import targets as target_repo


def subject(kpi: str, scope: Scope, period: Period) -> str:
    return f"target {kpi} {scope} {period.key}"


def target_set(ctx: Context, cmd: c.TargetSet) -> Reply:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        what = subject(cmd.kpi, scope, cmd.period)
        if refusal := ctx.refuse_unless_admin(session, "target", "target.set", what):
            return refusal
        old = target_repo.set_target(session, cmd.kpi, scope, cmd.period, cmd.value.value, str(ctx.actor))
        audit_repo.record(session, ctx.actor, "target.set", what, old=old, new=cmd.value.value)
        scope_label = ctx.scope_label(scope, session)
    old_text = ctx.t("target_old", old=ctx.value(cmd.kpi, old)) if old is not None else ""
    return ctx.confirmation("target_set_title", ctx.t(
        "target_set", kpi=ctx.kpi_label(cmd.kpi), scope=scope_label, period=period_label(cmd.period, ctx.lang),
        value=ctx.value(cmd.kpi, cmd.value.value), old=old_text,
    ))


def target_clear(ctx: Context, cmd: c.TargetClear) -> Reply:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        what = subject(cmd.kpi, scope, cmd.period)
        if refusal := ctx.refuse_unless_admin(session, "target", "target.clear", what):
            return refusal
        old = target_repo.clear_target(session, cmd.kpi, scope, cmd.period)
        scope_label = ctx.scope_label(scope, session)
        values = {"kpi": ctx.kpi_label(cmd.kpi), "scope": scope_label, "period": period_label(cmd.period, ctx.lang)}
        if old is None:
            return ctx.confirmation("target_cleared_title", ctx.t("target_none", **values))
        audit_repo.record(session, ctx.actor, "target.clear", what, old=old, new=None)
    return ctx.confirmation("target_cleared_title", ctx.t("target_cleared", old=ctx.value(cmd.kpi, old), **values))


def target_list(ctx: Context, cmd: c.TargetList) -> Reply:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope) if cmd.scope else None
        rows = target_repo.list_targets(session, scope, cmd.period.start, cmd.period.end)
        labels = {}
        for row in rows:
            row_scope = Scope(row.scope_kind, row.scope_key)  # type: ignore[arg-type]
            labels[row.id] = ctx.scope_label(row_scope, session)
        scope_label = ctx.scope_label(scope, session) if scope else ctx.t("targets_all")
    title = ctx.t("targets_title", scope=scope_label, period=period_label(cmd.period, ctx.lang))
    if not rows:
        return Reply(title=title, lang=ctx.lang, text=ctx.t("targets_empty"))
    calendar = ctx.bot.engine.calendar
    body = []
    for row in rows:
        period = calendar.from_key(row.period_key)
        body.append([
            ctx.kpi_label(row.kpi), labels[row.id], period_label(period, ctx.lang) if period else row.period_key,
            ctx.value(row.kpi, row.value) if row.kpi in ctx.bot.registry.kpis else str(row.value), row.set_by,
        ])
    columns = [ctx.t("col_kpi"), ctx.t("col_scope"), ctx.t("col_period"), ctx.t("col_target"), ctx.t("col_set_by")]
    return Reply(title=title, lang=ctx.lang, tables=[Table(columns, body)])
