"""`audit` and `sources`: what changed, and where the data comes from."""

from __future__ import annotations

from bot.handlers.context import Context
from bot.language import commands as c
from jobs.present.reply import Reply, Table
from storage.repositories import audit as audit_repo


def audit(ctx: Context, cmd: c.Audit) -> Reply:
    with ctx.session() as session:
        entries = audit_repo.latest(session, cmd.limit)
    if not entries:
        return Reply(title=ctx.t("audit_title"), lang=ctx.lang, text=ctx.t("audit_empty"))
    tz = ctx.bot.settings.tz
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
    states = ctx.bot.source_states()
    if not states:
        return Reply(title=ctx.t("sources_title"), lang=ctx.lang, text=ctx.t("sources_empty"))
    tz = ctx.bot.settings.tz
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
