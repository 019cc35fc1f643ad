"""Questions: status of one KPI, my KPIs, leaderboards."""

from __future__ import annotations

from dataclasses import replace

from bot.core import identity
from bot.handlers.context import Context
from bot.handlers.fallback import CALENDAR_KINDS, with_fallback
from bot.handlers.split import T as SPLIT_T
from bot.language import commands as c
from bot.language.parser import read_question
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.analysis.extras import status_extras
from jobs.meetings.composite_radar import composite_radar
from jobs.present.formatting import kpi_value, percent, period_label
from jobs.present.reply import Figure, Mark, Reply, ReplyKind, Table
from jobs.present.status import T as STATUS_T
from jobs.present.status import mark_of, rows_through_note, status_reply, status_word, statuses_table
from storage.kpi.attainment import KpiStatus, Status, composite_score
from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo


def status(ctx: Context, cmd: c.Status) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        scope_label = ctx.scope_label(scope, session)
    stale = ctx.services.stale_sources(kpi.metrics)
    currency = ctx.services.settings.currency

    def answer(period: Period) -> Reply:
        result = ctx.services.engine.status(kpi, scope, period)
        reply = status_reply(result, scope_label=scope_label, lang=ctx.lang, currency=currency, stale_sources=stale)
        if period.kind in CALENDAR_KINDS:  # baselines step by calendar periods; a rolling window has none
            reply.figures.extend(status_extras(ctx.services.engine, kpi, scope, period, lang=ctx.lang,
                                               currency=currency))
        return reply

    return with_fallback(ctx, cmd.period, answer)


def me(ctx: Context, cmd: c.Me) -> Reply:
    with ctx.session() as session:
        member = identity.find_member(session, ctx.user)
        if member is None:
            return Reply(title=ctx.t("home_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("unknown_me"))
        roles = member_repo.roles_of(session, member.id)  # type: ignore[arg-type]
        name = member.display_name or member.key
        key = member.key

    def answer(period: Period) -> Reply:
        title = ctx.t("me_title", name=name, period=period_label(period, ctx.lang))
        if not roles:
            return Reply(title=title, lang=ctx.lang, text=ctx.t("me_no_roles", name=name))
        return member_kpis_reply(ctx, key, roles, period, title)

    return with_fallback(ctx, cmd.period, answer)


def member_kpis_reply(ctx: Context, member_key: str, roles: list[str], period: Period, title: str) -> Reply:
    """One table per role: the member's own figures, or the team's for a team-measured role."""
    registry = ctx.services.registry
    tables, notes, everything = [], [], []
    for role_id in roles:
        role = registry.roles[role_id]
        kpis = [registry.kpis[k] for k in role.kpis if k in registry.kpis]
        scope = Scope.team() if role.measured_on == "team" else Scope.member(member_key)
        results = ctx.services.engine.statuses(kpis, scope, period)
        everything.extend(results)
        table_title = ctx.role_label(role_id) if len(roles) > 1 else None
        tables.append(statuses_table([(r.kpi.label(ctx.lang), r) for r in results], ctx.lang,
                                     ctx.services.settings.currency, first_column=ctx.t("col_kpi"), title=table_title))
        score = composite_score(results, role.kpis)
        if score is not None:
            notes.append(ctx.t("composite", role=ctx.role_label(role_id), score=percent(score)))
    through = max((r.data_through for r in everything if r.data_through), default=None)
    if through:
        notes.append(STATUS_T("through", ctx.lang, day=through.isoformat()))
    reply = Reply(title=title, lang=ctx.lang, mark=_worst_mark(everything), tables=tables, footnotes=notes)
    if len(roles) == 1 and (radar := composite_radar([(ctx.role_label(roles[0]), everything)], ctx.lang, title)):
        reply.charts.append(radar)
    return reply


def board(ctx: Context, cmd: c.Board) -> Reply:
    return with_fallback(ctx, cmd.period, lambda period: _board(ctx, replace(cmd, period=period)))


def _board(ctx: Context, cmd: c.Board) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    if cmd.by_shop:
        rows = ctx.services.engine.shop_board(kpi, cmd.period)
        scope = SPLIT_T("shops", ctx.lang)
    else:
        rows = ctx.services.engine.board(kpi, cmd.role, cmd.period, shop=cmd.shop)
        scope = ctx.role_label(cmd.role) if cmd.role else ctx.t("everyone")
        scope = f"{scope} · {cmd.shop}" if cmd.shop else scope
    if cmd.order == "bottom":  # who sold the least / 谁最低: the weakest first, those without data still last
        rows = [r for r in rows if r.status.actual is not None][::-1] + [r for r in rows if r.status.actual is None]
    title = ctx.t("board_title", kpi=kpi.label(ctx.lang), scope=scope, period=period_label(cmd.period, ctx.lang))
    if not any(row.status.actual is not None for row in rows):
        return Reply(title=title, lang=ctx.lang, text=ctx.t("board_empty", kpi=kpi.label(ctx.lang)))
    currency = ctx.services.settings.currency
    columns = ["#", SPLIT_T("col_shop", ctx.lang) if cmd.by_shop else ctx.t("col_member"), kpi.label(ctx.lang),
               ctx.t("col_target"),
               STATUS_T("attainment", ctx.lang), STATUS_T("status", ctx.lang)]
    body, marks = [], []
    for rank, row in enumerate(rows, start=1):
        st = row.status
        body.append([
            str(rank) if st.actual is not None else "–", row.display_name,
            kpi_value(st.actual, kpi.unit, currency, ctx.lang),
            kpi_value(st.target.value if st.target else None, kpi.unit, currency, ctx.lang),
            percent(st.attainment) if st.attainment is not None else "—",
            status_word(st, ctx.lang),
        ])
        marks.append(mark_of(st.status))
    through = rows_through_note([(row.display_name, [row.status]) for row in rows], ctx.lang)
    notes = [through] if through else []
    leader = rows[0]
    medal = "🥇" if cmd.order == "top" else "🔻"
    leading = kpi_value(leader.status.actual, kpi.unit, currency, ctx.lang)
    figures = [Figure(medal, f"{leader.display_name} · {leading}")]
    return Reply(title=title, lang=ctx.lang, figures=figures, tables=[Table(columns, body, marks)], footnotes=notes)


def _worst_mark(results: list[KpiStatus]) -> Mark | None:
    order = [Status.OFF_TRACK, Status.AT_RISK, Status.ON_TRACK]
    for status in order:
        if any(r.status == status for r in results):
            return mark_of(status)
    return None


# --- reading the words -------------------------------------------------------------------------

COMMANDS = [
    CommandGroup(
        name="status", words=("状态",), order=10,
        summary=Bilingual("Attainment of one KPI (default: team GMV, this month).",
                          "查看某个 KPI 的达成情况（默认：团队 GMV，本月）。"),
        subcommands=(Subcommand(c.Status, read_question, status,
                                usage=Bilingual("[status] [KPI] [SCOPE] [PERIOD]", "[状态] [指标] [范围] [时间]")),),
        examples=Bilingual("gmv month · roas role:ad_buyer last-week · status gmv role:host week",
                           "GMV达成率多少 · 上月GMV达成率多少 · 状态 gmv 本周"),
    ),
    CommandGroup(
        name="me", words=("my", "mine", "我的"), order=20,
        summary=Bilingual("Your own KPIs.", "查看自己的 KPI。"),
        subcommands=(Subcommand(c.Me, read_question, me, usage=Bilingual("me [PERIOD]", "我的 [时间]")),),
        examples=Bilingual("me · me last-month", "我的KPI · 我的 上月"),
    ),
    CommandGroup(
        name="board", words=("leaderboard", "rank", "ranking", "rankings", "top", "排名", "排行", "排行榜", "榜单"),
        order=30,
        summary=Bilingual("Leaderboard of a KPI.", "某个 KPI 的排名。"),
        subcommands=(Subcommand(c.Board, read_question, board,
                                usage=Bilingual("board KPI [role:ROLE] [PERIOD]", "排名 指标 [role:角色] [时间]")),),
        examples=Bilingual("board gmv role:host week", "本周主播排名 · 排名 gmv 本月"),
    ),
]
