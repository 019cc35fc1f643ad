"""`audit` and `sources`: what changed, and where the data comes from."""

from __future__ import annotations

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.present.reply import Reply, Table
from storage.repositories import audit as audit_repo


def audit(ctx: Context, cmd: c.Audit) -> Reply:
    with ctx.session() as session:
        entries = audit_repo.latest(session, cmd.limit)
    if not entries:
        return Reply(title=ctx.t("audit_title"), lang=ctx.lang, text=ctx.t("audit_empty"))
    tz = ctx.services.settings.tz
    body = [[
        entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        entry.actor_email or f"{entry.actor_platform}:{entry.actor_id}",
        f"{entry.action} · {entry.subject}",
        f"{entry.old or '—'} → {entry.new or '—'}",
        ctx.t(f"outcome_{entry.outcome}"),
    ] for entry in entries]
    columns = [ctx.t("col_when"), ctx.t("col_who"), ctx.t("col_what"), ctx.t("col_change"), ctx.t("col_outcome")]
    return Reply(title=ctx.t("audit_title"), lang=ctx.lang, tables=[Table(columns, body)])


def sources(ctx: Context, cmd: c.Sources) -> Reply:
    states = ctx.services.source_states()
    if not states:
        return Reply(title=ctx.t("sources_title"), lang=ctx.lang, text=ctx.t("sources_empty"))
    tz = ctx.services.settings.tz
    body = []
    for state in states:
        condition = "failing" if state.failing_streak else ("stale" if state.stale else "fresh")
        body.append([
            state.name, state.kind,
            state.last_success.astimezone(tz).strftime("%Y-%m-%d %H:%M") if state.last_success else "—",
            state.newest_date.isoformat() if state.newest_date else "—",
            ctx.t(condition),
        ])
    columns = [ctx.t("col_source"), ctx.t("col_kind"), ctx.t("col_last_sync"), ctx.t("col_newest"), ctx.t("col_state")]
    return Reply(title=ctx.t("sources_title"), lang=ctx.lang, tables=[Table(columns, body)])


def read_sources(parser: Parser, words: list[str], request: CommandRequest) -> c.Sources:
    return c.Sources()


def read_audit(parser: Parser, words: list[str], request: CommandRequest) -> c.Audit:
    if not words:
        return c.Audit()
    if not words[0].isdigit() or not 1 <= int(words[0]) <= 100:
        raise c.ParseError("bad_count", {"word": words[0]}, "audit")
    return c.Audit(limit=int(words[0]))


COMMANDS = [
    CommandGroup(
        name="sources", words=("source", "数据源"), order=80,
        summary=Bilingual("Connected data sources and how fresh each is.", "已接入的数据源及其新鲜度。"),
        subcommands=(Subcommand(c.Sources, read_sources, sources, usage=Bilingual("sources", "数据源")),),
        examples=Bilingual("sources", "数据源"),
    ),
    CommandGroup(
        name="audit", words=("审计", "操作记录"), order=90,
        summary=Bilingual("Recent changes: who, when, what, old → new.", "最近的更改：谁、何时、什么、原值 → 新值。"),
        subcommands=(Subcommand(c.Audit, read_audit, audit, usage=Bilingual("audit [N]", "审计 [条数]")),),
        examples=Bilingual("audit · audit 20", "审计 · 操作记录 5"),
    ),
]
