"""Questions: status of one KPI, my KPIs, leaderboards."""

from __future__ import annotations

from bot.core import identity
from bot.handlers.context import Context
from bot.language import commands as c
from jobs.present.formatting import kpi_value, percent, period_label
from jobs.present.reply import Figure, Mark, Reply, ReplyKind, Table
from jobs.present.status import T as STATUS_T
from jobs.present.status import mark_of, status_reply, status_word, statuses_table
from storage.kpi.attainment import KpiStatus, Status, composite_score
from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo


def status(ctx: Context, cmd: c.Status) -> Reply:
    kpi = ctx.bot.registry.kpis[cmd.kpi]
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        scope_label = ctx.scope_label(scope, session)
    result = ctx.bot.engine.status(kpi, scope, cmd.period)
    stale = ctx.bot.stale_sources(kpi.metrics)
    return status_reply(result, scope_label=scope_label, lang=ctx.lang, currency=ctx.bot.settings.currency,
                        stale_sources=stale)


def me(ctx: Context, cmd: c.Me) -> Reply:
    with ctx.session() as session:
        member = identity.find_member(session, ctx.user)
        if member is None:
            return Reply(title=ctx.t("home_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("unknown_me"))
        roles = member_repo.roles_of(session, member.id)  # type: ignore[arg-type]
        name = member.display_name or member.key
        key = member.key
    title = ctx.t("me_title", name=name, period=period_label(cmd.period, ctx.lang))
    if not roles:
        return Reply(title=title, lang=ctx.lang, text=ctx.t("me_no_roles", name=name))
    return member_kpis_reply(ctx, key, roles, cmd.period, title)


def member_kpis_reply(ctx: Context, member_key: str, roles: list[str], period: Period, title: str) -> Reply:
    """One table per role: the member's own figures, or the team's for a team-measured role."""
    registry = ctx.bot.registry
    tables, notes, everything = [], [], []
    for role_id in roles:
        role = registry.roles[role_id]
        kpis = [registry.kpis[k] for k in role.kpis if k in registry.kpis]
        scope = Scope.team() if role.measured_on == "team" else Scope.member(member_key)
        results = ctx.bot.engine.statuses(kpis, scope, period)
        everything.extend(results)
        table_title = ctx.role_label(role_id) if len(roles) > 1 else None
        tables.append(statuses_table([(r.kpi.label(ctx.lang), r) for r in results], ctx.lang,
                                     ctx.bot.settings.currency, first_column=ctx.t("col_kpi"), title=table_title))
        score = composite_score(results, role.kpis)
        if score is not None:
            notes.append(ctx.t("composite", role=ctx.role_label(role_id), score=percent(score)))
    through = max((r.data_through for r in everything if r.data_through), default=None)
    if through:
        notes.append(STATUS_T("through", ctx.lang, day=through.isoformat()))
    return Reply(title=title, lang=ctx.lang, mark=_worst_mark(everything), tables=tables, footnotes=notes)


def board(ctx: Context, cmd: c.Board) -> Reply:
    kpi = ctx.bot.registry.kpis[cmd.kpi]
    rows = ctx.bot.engine.board(kpi, cmd.role, cmd.period)
    scope = ctx.role_label(cmd.role) if cmd.role else ctx.t("everyone")
    title = ctx.t("board_title", kpi=kpi.label(ctx.lang), scope=scope, period=period_label(cmd.period, ctx.lang))
    if not any(row.status.actual is not None for row in rows):
        return Reply(title=title, lang=ctx.lang, text=ctx.t("board_empty", kpi=kpi.label(ctx.lang)))
    currency = ctx.bot.settings.currency
    columns = ["#", ctx.t("col_member"), kpi.label(ctx.lang), ctx.t("col_target"),
               STATUS_T("attainment", ctx.lang), STATUS_T("status", ctx.lang)]
    body, marks = [], []
    for rank, row in enumerate(rows, start=1):
        st = row.status
        body.append([
            str(rank) if st.actual is not None else "–", row.display_name,
            kpi_value(st.actual, kpi.unit, currency, ctx.lang),
            kpi_value(st.target.value if st.target else None, kpi.unit, currency, ctx.lang),
            percent(st.attainment) if st.attainment is not None else "—",
            status_word(st.status, ctx.lang),
        ])
        marks.append(mark_of(st.status))
    through = max((r.status.data_through for r in rows if r.status.data_through), default=None)
    notes = [STATUS_T("through", ctx.lang, day=through.isoformat())] if through else []
    leader = rows[0]
    figures = [Figure("🥇", f"{leader.display_name} · {kpi_value(leader.status.actual, kpi.unit, currency, ctx.lang)}")]
    return Reply(title=title, lang=ctx.lang, figures=figures, tables=[Table(columns, body, marks)], footnotes=notes)


def _worst_mark(results: list[KpiStatus]) -> Mark | None:
    order = [Status.OFF_TRACK, Status.AT_RISK, Status.ON_TRACK]
    for status in order:
        if any(r.status == status for r in results):
            return mark_of(status)
    return None
