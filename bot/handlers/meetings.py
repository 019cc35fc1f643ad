"""Review-meeting commands: action items (行动项), the funnel review (漏斗), the growth flywheel (飞轮).

Anyone adds actions and closes their own (owned or created by them); admins close any. Every change is
audited (storage/repositories/actions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import identity
from bot.core.request import MENTION_TOKEN, CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.digest.funnel import funnel_config
from jobs.meetings.actions import ACTION_ITEM_DONE, ActionLine, actions_table, create_action, due_period
from jobs.meetings.flywheel import flywheel
from jobs.meetings.flywheel_reply import flywheel_chart, flywheel_notes, flywheel_table
from jobs.meetings.funnel import funnel_by_role, funnel_by_shop, funnel_review
from jobs.meetings.funnel_reply import funnel_chart, funnel_table, leak_sentence, missing_notes, radar_chart
from jobs.meetings.messages import T as RT
from jobs.present.formatting import period_label
from jobs.present.i18n import Catalog, has_chinese
from jobs.present.reply import Action, Reply, ReplyKind, Table
from jobs.timing import utc_now
from storage.kpi.periods import Period
from storage.repositories import actions as action_repo
from storage.repositories import members as member_repo

T = Catalog({
    "added_title": ("Action added", "已添加行动项"),
    "added": ("#{id} for {owner}: {text}{due}", "#{id} 负责人 {owner}：{text}{due}"),
    "due_suffix": (" (by {due})", "（截止 {due}）"),
    "closed_title": ("Action updated", "行动项已更新"),
    "done": ("#{id} marked done.", "#{id} 已标记完成。"),
    "dropped": ("#{id} dropped.", "#{id} 已放弃。"),
    "unknown": ("There is no open action #{id} (see `action list`).", "没有进行中的行动项 #{id}（见 `行动 列表`）。"),
    "not_yours": ("#{id} belongs to {owner}: only they, whoever added it, or an admin can close it.",
                  "#{id} 属于 {owner}：只有负责人、创建者或管理员可以关闭。"),
    "list_title": ("Actions · {state}", "行动项 · {state}"),
    "list_empty": ("No {state} actions.", "没有{state}的行动项。"),
    "all": ("all", "全部"),
    "done_button": ("Done #{id}", "完成 #{id}"),
    "unlinked": ("I don't know who you are in the data yet: ask an admin to `role assign` you first.",
                 "数据中还没有你的成员记录：请管理员先用 `role assign` 关联你。"),
})
STATE_WORDS = {"open": "open", "done": "done", "overdue": "overdue", "dropped": "dropped", "all": "all",
               "进行中": "open", "未完成": "open", "已完成": "done", "完成": "done", "逾期": "overdue",
               "已逾期": "overdue", "放弃": "dropped", "已放弃": "dropped", "全部": "all"}
DUE_WORDS = ("by", "due", "截止", "截至", "之前")
BY_ROLE_WORDS = ("role", "roles", "角色")
BY_WORDS = ("by", "按")
MAX_BUTTONS = 5  # one button per open item, the oldest first


# --- action items ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionAdd(c.Command):
    text: str
    owner: c.ScopeRef | None = None  # None: the asker
    due: Period | None = None
    kpi: str | None = None


@dataclass(frozen=True)
class ActionList(c.Command):
    owner: c.ScopeRef | None = None
    state: str = "open"


@dataclass(frozen=True)
class ActionClose(c.Command):
    action_id: int
    status: str = "done"
    note: str = ""


@dataclass(frozen=True)
class ActionDone(ActionClose):
    pass


@dataclass(frozen=True)
class ActionDrop(ActionClose):
    pass


def _join(words: list[str]) -> str:
    """Words back into text: no space between two Chinese words (the tokenizer split them)."""
    out = ""
    for word in words:
        if out and not (has_chinese(out[-1]) and has_chinese(word[0])):
            out += " "
        out += word
    return out


def _mention(word: str, request: CommandRequest) -> c.ScopeRef | None:
    if (m := MENTION_TOKEN.fullmatch(word)) and int(m[1]) < len(request.mentions):
        return c.ScopeRef("user", user=request.mentions[int(m[1])])
    if word.lower().startswith("member:") and word[7:].strip():
        return c.ScopeRef("member", word[7:].strip())
    return None


def read_action_add(parser: Parser, words: list[str], request: CommandRequest) -> ActionAdd:
    owner: c.ScopeRef | None = None
    due: Period | None = None
    kpi: str | None = None
    text: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if owner is None and (ref := _mention(word, request)) is not None:
            owner = ref
        elif word.lower().startswith("kpi:"):
            found = parser.registry.kpi(word[4:])
            if found is None:
                kpis = ", ".join(sorted(parser.registry.kpis))
                raise c.ParseError("action_bad_kpi", {"word": word[4:], "kpis": kpis}, "action")
            kpi = found.id
        elif word.lower() in DUE_WORDS and index + 1 < len(words):
            due, used = _due(parser, words[index + 1:])
            index += used
        else:
            text.append(word)
        index += 1
    if not text:
        raise c.ParseError("action_no_text", {}, "action")
    return ActionAdd(text=_join(text), owner=owner, due=due, kpi=kpi)


def _due(parser: Parser, rest: list[str]) -> tuple[Period, int]:
    """The due period and how many words it took (第50周 may arrive as 第 / 50 / 周)."""
    for size in (3, 2, 1):  # longest first, so 第 / 50 / 周 is read whole
        try:
            return due_period(parser.calendar, "".join(rest[:size]), parser.today()), size
        except ValueError:
            continue
    raise c.ParseError("action_bad_due", {"word": rest[0]}, "action")


def read_action_list(parser: Parser, words: list[str], request: CommandRequest) -> ActionList:
    owner, state = None, "open"
    for word in words:
        if (ref := _mention(word, request)) is not None:
            owner = ref
        elif word.lower() in STATE_WORDS:
            state = STATE_WORDS[word.lower()]
        else:
            raise c.ParseError("unknown_word", {"word": word, "suggestion": parser.suggest(word)}, "action")
    return ActionList(owner=owner, state=state)


def _read_close(kind: type[ActionClose], status: str):  # type: ignore[no-untyped-def]
    def read(parser: Parser, words: list[str], request: CommandRequest) -> ActionClose:
        if not words or not words[0].lstrip("#").isdigit():
            raise c.ParseError("missing_id", {}, "action")
        return kind(action_id=int(words[0].lstrip("#")), status=status, note=_join(words[1:]))
    return read


def _owner_key(ctx: Context, session, ref: c.ScopeRef | None) -> str | None:  # type: ignore[no-untyped-def]
    if ref is None:
        member = identity.find_member(session, ctx.user)
        return member.key if member else None
    return ctx.resolve_scope(session, ref).key


def action_add(ctx: Context, cmd: ActionAdd) -> Reply:
    with ctx.session() as session:
        owner = _owner_key(ctx, session, cmd.owner)
    if owner is None:
        return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=T("unlinked", ctx.lang))
    try:
        item = create_action(ctx.services.engine, ctx.actor, owner=owner, text=cmd.text, now=utc_now(),
                             due=cmd.due, kpi_id=cmd.kpi)
    except ValueError as error:
        return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=str(error))
    with ctx.session() as session:
        name = member_repo.display_names(session, [owner]).get(owner, owner)
    due = T("due_suffix", ctx.lang, due=item.due_label) if item.due_label else ""
    return Reply(title=T("added_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.CONFIRMATION,
                 text=T("added", ctx.lang, id=item.id, owner=name, text=item.text, due=due),
                 actions=[Action(ACTION_ITEM_DONE, T("done_button", ctx.lang, id=item.id), str(item.id), "primary")])


def action_list(ctx: Context, cmd: ActionList) -> Reply:
    today = ctx.services.today()
    with ctx.session() as session:
        owner = ctx.resolve_scope(session, cmd.owner).key if cmd.owner else None
        items = action_repo.list_actions(session, today=today, owner=owner, state=cmd.state)
        names = member_repo.display_names(session, sorted({i.owner for i in items}))
    state_word = T("all", ctx.lang) if cmd.state == "all" else RT(f"state_{cmd.state}", ctx.lang)
    title = T("list_title", ctx.lang, state=state_word)
    if not items:
        return Reply(title=title, lang=ctx.lang, text=T("list_empty", ctx.lang, state=state_word))
    registry = ctx.services.registry
    lines = [ActionLine(i, "overdue" if action_repo.is_overdue(i, today) else i.status,
                        registry.kpis.get(i.kpi or ""), None) for i in items]
    table = actions_table(lines, names, ctx.lang, ctx.services.settings.currency)
    buttons = [Action(ACTION_ITEM_DONE, T("done_button", ctx.lang, id=i.id), str(i.id), "primary")
               for i in items if i.status == "open"][:MAX_BUTTONS]
    return Reply(title=title, lang=ctx.lang, tables=[Table(table.columns[:5], [r[:5] for r in table.rows],
                                                           table.marks)], actions=buttons)


def action_close(ctx: Context, cmd: ActionClose) -> Reply:
    with ctx.session() as session:
        item = action_repo.get_action(session, cmd.action_id)
        if item is None or item.status != "open":
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=T("unknown", ctx.lang, id=cmd.action_id))
        member = identity.find_member(session, ctx.user)
        is_admin = identity.is_admin(session, ctx.services.settings, ctx.user)
        mine = (member is not None and member.key == item.owner) or item.created_by == str(ctx.actor)
        if not (mine or is_admin):
            from storage.repositories import audit as audit_repo

            audit_repo.record(session, ctx.actor, f"action.{cmd.status}", f"action:{item.id}", outcome="refused")
            owner = member_repo.display_names(session, [item.owner]).get(item.owner, item.owner)
            return Reply(title=ctx.t("refused_title"), lang=ctx.lang, kind=ReplyKind.REFUSAL,
                         text=T("not_yours", ctx.lang, id=item.id, owner=owner))
        action_repo.close_action(session, ctx.actor, item.id or 0, status=cmd.status, now=utc_now(),
                                 note=cmd.note or None)
    return Reply(title=T("closed_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.CONFIRMATION,
                 text=T(cmd.status, ctx.lang, id=cmd.action_id))


# --- funnel and flywheel ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FunnelCommand(c.Command):
    scope: c.ScopeRef
    period: Period
    by: str = ""  # '' | role | shop: side by side

    @property
    def by_role(self) -> bool:
        return self.by == "role"


@dataclass(frozen=True)
class FlywheelCommand(c.Command):
    period: Period


# How people ask for it: `show me the funnel`, `what does the funnel look like`, `给我看看漏斗`, `看下上周的漏斗`.
FUNNEL_FILLERS = {"show", "give", "the", "a", "our", "what", "what's", "whats", "does", "do", "is", "look", "looks",
                  "like", "please", "pls", "let", "let's", "see", "how's", "hows", "for", "of", "in",
                  "给我", "给我看看", "看看", "看下", "看一下", "我看看", "看", "的", "一下", "下", "呢", "吧",
                  "请", "查看"}
ASKING_VERBS = {"show", "give", "let"}  # `show me` / `give me`: the reader, not the asker's own funnel
BY_SHOP_WORDS = ("shop", "shops", "store", "stores", "店铺", "门店")
JOINED_BY = {"按角色": "role", "分角色": "role", "各角色": "role", "按店铺": "shop", "分店铺": "shop", "各店铺": "shop"}


def _funnel_words(words: list[str]) -> tuple[list[str], str]:
    """(the words that name a scope or period, `role` / `shop` / '' for side by side). `last week` is read
    as one period word; `by role`, `按角色`, `分 角色`, `各 店铺` ask for the comparison."""
    out: list[str] = []
    by = ""
    low = [w.lower() for w in words]
    for index, word in enumerate(low):
        before = low[index - 1] if index else ""
        if word in JOINED_BY:
            by = JOINED_BY[word]
        elif before in (*BY_WORDS, "分", "各") and (word in BY_ROLE_WORDS or word in BY_SHOP_WORDS):
            by = "role" if word in BY_ROLE_WORDS else "shop"
        elif word in (*BY_WORDS, "分", "各") and index + 1 < len(low) and \
                (low[index + 1] in BY_ROLE_WORDS or low[index + 1] in BY_SHOP_WORDS):
            continue
        elif out and out[-1].lower() in ("last", "this") and word in ("week", "month", "quarter"):
            out[-1] = f"{out[-1].lower()}-{word}"
        elif word in ("me", "us") and before in ASKING_VERBS:
            continue
        elif word not in FUNNEL_FILLERS:
            out.append(words[index])
    return out, by


def read_funnel(parser: Parser, words: list[str], request: CommandRequest) -> FunnelCommand:
    rest, by = _funnel_words(words)
    found = parser.scan(rest, request)
    parser.reject_unknown(found, "funnel")
    period = parser.one_period(found, "funnel")
    return FunnelCommand(scope=parser.one_scope(found, "funnel"), period=period, by=by)


def funnel(ctx: Context, cmd: FunnelCommand) -> Reply:
    services, lang = ctx.services, ctx.lang
    period_text = period_label(cmd.period, lang)
    if cmd.by:
        compare = funnel_by_role if cmd.by == "role" else funnel_by_shop
        reviews = compare(services.engine, services.registry, cmd.period, lang)
        who = RT(f"by_{cmd.by}", lang)
        title = RT("funnel_compare_title", lang, by=who, period=period_text)
    else:
        with ctx.session() as session:
            scope = ctx.resolve_scope(session, cmd.scope)
            who = ctx.scope_label(scope, session)
        reviews = [r for r in [funnel_review(services.engine, services.registry, scope, cmd.period, who)] if r.stages]
        title = RT("funnel_title", lang, who=who, period=period_text)
    if not reviews:
        stages = ", ".join(funnel_config(services.registry).stages)
        return Reply(title=title, lang=lang, text=RT("no_funnel", lang, stages=stages, who=who, period=period_text))
    reply = Reply(title=title, lang=lang)
    for review in reviews:
        reply.tables.append(funnel_table(review, services.registry, lang, title=review.label))
        reply.footnotes.append(f"{review.label}: {leak_sentence(review, services.registry, lang)}"
                               if cmd.by else leak_sentence(review, services.registry, lang))
    reply.footnotes.extend(missing_notes(reviews[0], services.registry, lang))
    if not cmd.by:
        reply.charts.append(funnel_chart(reviews[0], services.registry, lang, title))
    reply.charts.append(radar_chart(reviews, services.registry, lang,
                                    RT("radar_title", lang, who=reviews[0].label if not cmd.by else who,
                                       period=period_text)))
    return reply


def read_flywheel(parser: Parser, words: list[str], request: CommandRequest) -> FlywheelCommand:
    found = parser.scan(words, request)
    parser.reject_unknown(found, "flywheel")
    periods = list(dict.fromkeys(found.periods))
    if len(periods) > 1:
        raise c.ParseError("two_periods", {}, "flywheel")
    # Default: the last complete month (a flywheel review looks back at finished months).
    month = parser.calendar.month(periods[0].end) if periods else \
        parser.calendar.previous(parser.calendar.month(parser.today()))
    return FlywheelCommand(period=month)


def flywheel_answer(ctx: Context, cmd: FlywheelCommand) -> Reply:
    services, lang, currency = ctx.services, ctx.lang, ctx.services.settings.currency
    wheel = flywheel(services.engine, services.registry, cmd.period)
    title = RT("flywheel_title", lang, months=len(wheel.months), period=period_label(cmd.period, lang))
    if wheel.empty:
        return Reply(title=title, lang=lang, text=flywheel_notes(wheel, lang)[0])
    table = flywheel_table(wheel, lang, currency)
    return Reply(title=title, lang=lang, tables=[table], footnotes=flywheel_notes(wheel, lang),
                 charts=[flywheel_chart(wheel, lang, currency)])


COMMANDS = [
    CommandGroup(
        name="action", words=("action", "actions", "行动", "行动项"), order=75, default="list",
        summary=Bilingual("Who does what by when, checked at the next review.",
                          "行动项：谁在何时前做什么，下次复盘检查。"),
        subcommands=(
            Subcommand(ActionAdd, read_action_add, action_add, name="add", words=("添加", "新增"),
                       usage=Bilingual("action add [@who] TEXT [by PERIOD] [kpi:KPI]",
                                       "行动 添加 [@成员] 内容 [截止 时间] [kpi:指标]")),
            Subcommand(ActionList, read_action_list, action_list, name="list", words=("列表", "查看"),
                       usage=Bilingual("action list [@who] [open|done|overdue|all]",
                                       "行动 列表 [@成员] [进行中|已完成|逾期|全部]")),
            Subcommand(ActionDone, _read_close(ActionDone, "done"), action_close, name="done", words=("完成",),
                       usage=Bilingual("action done ID [note]", "行动 完成 编号 [备注]")),
            Subcommand(ActionDrop, _read_close(ActionDrop, "dropped"), action_close, name="drop",
                       words=("放弃", "取消"),
                       usage=Bilingual("action drop ID", "行动 放弃 编号")),
        ),
        examples=Bilingual("action add raise hook rate to 40% by 2026-W50 kpi:hook_rate_3s · action list all",
                           "行动 添加 提升完播率 截止 第50周 · 行动 列表"),
    ),
    CommandGroup(
        name="funnel", words=("funnel", "漏斗", "转化漏斗"), order=45, anywhere=True,
        summary=Bilingual("The funnel stage by stage: rates against thresholds, scores, the biggest leak.",
                          "逐环节看转化漏斗：转化率对比阈值、得分、最大漏损。"),
        subcommands=(Subcommand(FunnelCommand, read_funnel, funnel,
                                usage=Bilingual("funnel [SCOPE] [PERIOD] · funnel by role|shop [PERIOD]",
                                                "漏斗 [范围] [时间] · 漏斗 按角色|按店铺 [时间]")),),
        examples=Bilingual("funnel · funnel last week · show me the funnel · funnel by role · funnel by shop",
                           "漏斗 · 给我看看漏斗 · 本周漏斗 · 漏斗 按角色 · 漏斗 按店铺"),
    ),
    CommandGroup(
        name="flywheel", words=("flywheel", "飞轮", "增长飞轮"), order=46,
        summary=Bilingual("CAC, conversion, AOV, repeat rate, NPS and LTV over the last 6 months.",
                          "近6个月的获客成本、转化率、客单价、复购率、NPS 和 LTV。"),
        subcommands=(Subcommand(FlywheelCommand, read_flywheel, flywheel_answer,
                                usage=Bilingual("flywheel [MONTH]", "飞轮 [月份]")),),
        examples=Bilingual("flywheel · flywheel last-month", "飞轮 · 飞轮 上月"),
    ),
]
