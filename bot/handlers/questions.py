"""Question shapes of issue 13 beyond status / me / board: someone's KPIs (a person or the team),
a role's KPIs one row per member, the run-rate, a comparison, a trend with its chart. Each is read
by the question reader (bot/language/questions.py) from the whole message, so `trend gmv`,
`GMV走势` and `how is the gmv trend looking` are the same command.

When the period asked about is still running and has no data yet (a Monday with T+1 data asking
about "this week"), the answer is last period's, introduced by "No data yet this week (data runs
through Sunday). Last week:".
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from bot.handlers.context import Context
from bot.handlers.fallback import with_fallback
from bot.handlers.reading import member_kpis_reply
from bot.language import commands as c
from bot.language.parser import read_question
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from bot.language.spoken_periods import SpokenCalendar
from jobs.meetings.composite_radar import composite_radar, role_series
from jobs.meetings.messages import T as RT
from jobs.present.answers import compare_reply, role_reply, runrate_reply, trend_reply
from jobs.present.formatting import period_label
from jobs.present.reply import Reply, ReplyKind
from jobs.present.status import T as STATUS_T
from jobs.present.status import statuses_table
from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo

# --- answers ----------------------------------------------------------------------------------------

def overview(ctx: Context, cmd: c.Overview) -> Reply:
    if cmd.scope.kind == "team":
        return with_fallback(ctx, cmd.period, lambda period: _team_overview(ctx, period))
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        member = member_repo.member_by_key(session, scope.key) if scope.kind == "member" else None
        if member is None:
            return Reply(title=ctx.t("home_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("unknown_member", key=scope.key))
        roles = member_repo.roles_of(session, member.id)  # type: ignore[arg-type]  # a stored member has an id
        name, key = member.display_name or member.key, member.key

    def answer(period: Period) -> Reply:
        title = ctx.t("kpis_title", name=name, period=period_label(period, ctx.lang))
        if not roles:
            return Reply(title=title, lang=ctx.lang, text=ctx.t("me_no_roles", name=name))
        return member_kpis_reply(ctx, key, roles, period, title)

    return with_fallback(ctx, cmd.period, answer)


def _team_overview(ctx: Context, period: Period) -> Reply:
    registry = ctx.services.registry
    kpis = [registry.kpis[k] for k in registry.team_kpis if k in registry.kpis]
    results = ctx.services.engine.statuses(kpis, Scope.team(), period)
    title = ctx.t("kpis_title", name=ctx.t("team"), period=period_label(period, ctx.lang))
    table = statuses_table([(r.kpi.label(ctx.lang), r) for r in results], ctx.lang, ctx.services.settings.currency,
                           first_column=ctx.t("col_kpi"))
    through = max((r.data_through for r in results if r.data_through), default=None)
    notes = [STATUS_T("through", ctx.lang, day=through.isoformat())] if through else []
    return Reply(title=title, lang=ctx.lang, tables=[table], footnotes=notes)


def role_kpis(ctx: Context, cmd: c.RoleKpis) -> Reply:
    registry = ctx.services.registry
    role = registry.roles[cmd.role]
    kpis = [registry.kpis[k] for k in role.kpis if k in registry.kpis]

    def answer(period: Period) -> Reply:
        scores = ctx.services.engine.member_scores(kpis, role.id, period, role.kpis)
        reply = role_reply(role, kpis, scores, period, lang=ctx.lang, currency=ctx.services.settings.currency)
        series = role_series(scores)
        title = RT("role_radar", ctx.lang, role=role.label(ctx.lang), period=period_label(period, ctx.lang))
        if radar := composite_radar(series, ctx.lang, title, name=f"composite-radar-{role.id}.png"):
            reply.charts.append(radar)
            drawn = sum(1 for s in scores if any(st.pace_attainment is not None for st in s.statuses))
            if drawn > len(series):
                reply.footnotes.append(RT("role_radar_more", ctx.lang, shown=len(series), total=drawn))
        return reply

    return with_fallback(ctx, cmd.period, answer)


def run_rate(ctx: Context, cmd: c.RunRate) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    scope, label = _scope(ctx, cmd.scope)
    result = ctx.services.engine.status(kpi, scope, cmd.period)
    return runrate_reply(result, scope_label=label, lang=ctx.lang, currency=ctx.services.settings.currency)


def compare(ctx: Context, cmd: c.Compare) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    calendar = cast(SpokenCalendar, ctx.services.engine.calendar)  # the core builds the engine with it
    scope, label = _scope(ctx, cmd.scope)
    engine = ctx.services.engine
    now = engine.status(kpi, scope, cmd.period)
    base_period = calendar.year_before(cmd.period) if cmd.against == "year" else calendar.previous(cmd.period)
    same_days = None
    base_asked = base_period
    if not now.finished and now.data_through is not None:
        # Like for like: as many days of the base as the current period has data for.
        same_days = (now.data_through - cmd.period.start).days + 1
        cut = min(base_period.start + timedelta(days=same_days - 1), base_period.end)
        base_asked = calendar.span(base_period.start, cut)
    base = engine.status(kpi, scope, base_asked)
    return compare_reply(now, base, base_period=base_period, scope_label=label, lang=ctx.lang,
                         currency=ctx.services.settings.currency, same_days=same_days)


def trend(ctx: Context, cmd: c.Trend) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    scope, label = _scope(ctx, cmd.scope)
    daily = ctx.services.engine.daily(kpi, scope, cmd.period)
    through = max(daily, default=None)
    return trend_reply(kpi, cmd.period, daily, through, scope_label=label, lang=ctx.lang,
                       currency=ctx.services.settings.currency)


def _scope(ctx: Context, ref: c.ScopeRef) -> tuple[Scope, str]:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, ref)
        return scope, ctx.scope_label(scope, session)


# --- reading: the whole message goes through the question reader ----------------------------------

def _example(en: str, zh: str) -> Bilingual:
    return Bilingual(en, zh)


COMMANDS = [
    CommandGroup(
        name="trend", words=("trends", "chart", "走势", "趋势"), order=40,
        summary=Bilingual("A KPI day by day (week by week for a quarter), with a chart.",
                          "指标逐日走势（季度按周），附图表。"),
        subcommands=(Subcommand(c.Trend, read_question, trend,
                                usage=Bilingual("trend [KPI] [SCOPE] [PERIOD]", "走势 [指标] [范围] [时间]")),),
        examples=_example("trend gmv · GMV trend last 30 days", "GMV走势 · 近30天投产比走势"),
    ),
    CommandGroup(
        name="runrate", words=("run-rate",), order=41,
        summary=Bilingual("What it takes per day to reach the target.", "每天还需要多少才能完成目标。"),
        subcommands=(Subcommand(c.RunRate, read_question, run_rate,
                                usage=Bilingual("runrate [KPI] [SCOPE] [PERIOD]",
                                                "每天还要多少 [指标] [范围] [时间]")),),
        examples=_example("how much do we need per day · runrate orders", "每天还要多少 · 本月还差多少能完成GMV目标"),
    ),
    CommandGroup(
        name="versus", words=("环比", "同比"), order=42,
        summary=Bilingual("A KPI against the previous period (like for like) or a year before.",
                          "指标环比（同期天数）或同比。"),
        subcommands=(Subcommand(c.Compare, read_question, compare,
                                usage=Bilingual("[KPI] vs last month | yoy", "[指标] 环比 | 同比")),),
        examples=_example("GMV vs last month · gmv last week vs the week before", "上周GMV环比 · GMV同比"),
    ),
    CommandGroup(
        name="overview", words=("kpis",), order=43,
        summary=Bilingual("Someone's KPIs, or a role's KPIs one row per member.",
                          "某人的全部指标，或某个角色每位成员的指标。"),
        subcommands=(Subcommand(c.Overview, read_question, overview,
                                usage=Bilingual("how is NAME doing · how are ROLE doing [PERIOD]",
                                                "NAME怎么样 · 角色表现怎么样 [时间]")),),
        extra_commands=(Subcommand(c.RoleKpis, read_question, role_kpis, name="role"),),
        examples=_example("how is Ben doing · how are hosts doing last week · how did the team do last week",
                          "Ben怎么样 · 主播表现怎么样 · 剪辑师上周表现怎么样"),
    ),
]

