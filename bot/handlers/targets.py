"""Targets: set, list, clear (writes are admin-only and audited)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.handlers.split import SPLIT_WORDS, USAGE, USAGE_ZH, TargetSplit, read_split, split_subject, target_split
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.present.formatting import period_label
from jobs.present.reply import Reply, Table
from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.repositories import audit as audit_repo
from storage.repositories import targets as target_repo


def subject(kpi: str, scope: Scope, period: Period) -> str:
    return f"target {kpi} {scope} {period.key}"


def target_subject(ctx: Context, session: Session, cmd: c.TargetSet | c.TargetClear) -> str:
    return subject(cmd.kpi, ctx.resolve_scope(session, cmd.scope), cmd.period)


def target_form(ctx: Context, cmd: c.TargetForm) -> Reply:
    return Reply(title=ctx.t("form_title"), lang=ctx.lang, form="target")


def target_set(ctx: Context, cmd: c.TargetSet) -> Reply:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        what = subject(cmd.kpi, scope, cmd.period)
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
            in_shop = row.scope_key if row.scope_kind == "shop" else row.shop
            row_scope = Scope(row.scope_kind, row.scope_key, in_shop)  # type: ignore[arg-type]
            labels[row.id] = ctx.scope_label(row_scope, session)
        scope_label = ctx.scope_label(scope, session) if scope else ctx.t("targets_all")
    title = ctx.t("targets_title", scope=scope_label, period=period_label(cmd.period, ctx.lang))
    if not rows:
        return Reply(title=title, lang=ctx.lang, text=ctx.t("targets_empty"))
    calendar = ctx.services.engine.calendar
    body = []
    for row in rows:
        period = calendar.from_key(row.period_key)
        body.append([
            ctx.kpi_label(row.kpi), labels[row.id], period_label(period, ctx.lang) if period else row.period_key,
            ctx.value(row.kpi, row.value) if row.kpi in ctx.services.registry.kpis else str(row.value), row.set_by,
        ])
    columns = [ctx.t("col_kpi"), ctx.t("col_scope"), ctx.t("col_period"), ctx.t("col_target"), ctx.t("col_set_by")]
    return Reply(title=title, lang=ctx.lang, tables=[Table(columns, body)])


# --- reading the words -------------------------------------------------------------------------

def read_set(parser: Parser, words: list[str], request: CommandRequest) -> c.TargetSet:
    found = parser.scan(words, request)
    kpi_id = parser.one_kpi(found, default=False, topic="target")
    parser.reject_unknown(found, "target")
    scope, period = parser.one_scope(found, "target"), parser.one_period(found, "target")
    return c.TargetSet(kpi=kpi_id, value=parser.target_value(found, kpi_id), scope=scope, period=period)


def read_clear(parser: Parser, words: list[str], request: CommandRequest) -> c.TargetClear:
    found = parser.scan(words, request)
    kpi_id = parser.one_kpi(found, default=False, topic="target")
    parser.reject_unknown(found, "target")
    return c.TargetClear(kpi=kpi_id, scope=parser.one_scope(found, "target"), period=parser.one_period(found, "target"))


def read_list(parser: Parser, words: list[str], request: CommandRequest) -> c.TargetList:
    found = parser.scan(words, request)
    parser.reject_unknown(found, "target")
    scope = parser.one_scope(found, "target") if found.scopes else None
    return c.TargetList(scope=scope, period=parser.one_period(found, "target"))


def read_form(parser: Parser, words: list[str], request: CommandRequest) -> c.TargetForm:
    return c.TargetForm()


COMMANDS = [CommandGroup(
    name="target", words=("targets", "目标"), order=40, default="form",
    summary=Bilingual("Set, list or clear targets (setting and clearing: admins).",
                      "设置、查看或清除目标（设置/清除需管理员）。"),
    subcommands=(
        Subcommand(c.TargetSet, read_set, target_set, name="set", words=("设置", "设定", "设"), admin=True,
                   audit="target.set", subject=target_subject,
                   usage=Bilingual("target set KPI VALUE [SCOPE] [PERIOD]", "目标 设置 指标 数值 [范围] [时间]")),
        Subcommand(c.TargetList, read_list, target_list, name="list", words=("列表", "查看", "show"),
                   usage=Bilingual("target list [SCOPE] [PERIOD]", "目标 列表 [范围] [时间]")),
        Subcommand(c.TargetClear, read_clear, target_clear, name="clear", words=("清除", "删除", "remove", "rm"),
                   admin=True, audit="target.clear", subject=target_subject,
                   usage=Bilingual("target clear KPI [SCOPE] [PERIOD]", "目标 清除 指标 [范围] [时间]")),
        # its own words (平均, 按上月占比 …) are listed so the tokenizer keeps them whole
        Subcommand(TargetSplit, read_split, target_split, name="split", words=("拆解", "拆分", *SPLIT_WORDS),
                   admin=True, audit="target.split", subject=split_subject,
                   usage=Bilingual(USAGE, USAGE_ZH)),
    ),
    extra_commands=(
        Subcommand(c.TargetForm, read_form, target_form, name="form", admin=True, audit="target.form",
                   subject=lambda ctx, session, cmd: "target form",
                   usage=Bilingual("target (form)", "目标（表单）")),
    ),
    examples=Bilingual("target set gmv 1.2m role:host month · target set return_rate 8% month · target list month · "
                       "target clear return_rate month · target split gmv 300k month role:host equally preview · "
                       "target split gmv 300k month role:host by weights 40,35,25 · target",
                       "设置目标 gmv 120万 本月 · 目标 列表 本月 · 清除目标 gmv 本月 · "
                       "目标拆解 gmv 30万 本月 主播 按上月占比 预览"),
)]
