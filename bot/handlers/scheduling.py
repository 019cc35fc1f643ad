"""Alerts and digest subscriptions (writes are admin-only and audited); `digest now`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from bot.core.request import CommandRequest
from bot.handlers.alert_answers import ALERT_ANSWER_COMMANDS, alert_state_text
from bot.handlers.context import Context
from bot.handlers.deliveries import digest_resend, digest_sends, read_digest_resend, read_digest_sends
from bot.handlers.digest_options import (
    DIGEST_HISTORY_COMMANDS,
    read_subscription_extras,
    subscription_scope,
    subscription_scope_text,
)
from bot.language import commands as c
from bot.language.parser import Found, Parser, check_value_unit, is_channel, one_id
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from bot.language.spoken_periods import NUMBERS_EN, chinese_number
from bot.language.values import ParsedValue
from bot.language.vocabulary import CADENCE_WORDS, OPERATORS, PACE_WORDS, WEEKDAY_WORDS
from jobs.alerts.conditions import rule_scope
from jobs.present.formatting import percent
from jobs.present.reply import Reply, ReplyKind, Table
from storage.models import AlertRule, DigestSubscription
from storage.repositories import alerts as alert_repo
from storage.repositories import audit as audit_repo
from storage.repositories import subscriptions as subscription_repo


def invalid(ctx: Context, error: ValueError) -> Reply:
    """The repositories' last word on a schedule or rule (their messages name the field)."""
    return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=str(error))


UNUSUAL_WORDS = {"unusual", "anomaly", "anomalies", "异常"}  # alert add gmv unusual: storage/kpi/unusual.py decides
WHEN_WORDS = {"when", "once", "当", "当天"}  # alert add roas < 1.5 when ad_spend >= 500 today: a stop-loss
TODAY_WORDS = {"today", "今天", "今日"}


def rule_text(ctx: Context, rule: AlertRule, scope_label: str) -> str:
    if rule.mode == "unusual":
        return ctx.t("rule_unusual", kpi=ctx.kpi_label(rule.kpi), scope=scope_label)
    if rule.mode == "stoploss":
        return ctx.t("rule_stoploss", kpi=ctx.kpi_label(rule.kpi), scope=scope_label, op=rule.op,
                     value=ctx.value(rule.kpi, rule.threshold), guard=ctx.kpi_label(rule.guard_kpi or ""),
                     guard_op=rule.guard_op, guard_value=ctx.value(rule.guard_kpi or "", rule.guard_threshold or 0.0))
    if rule.mode == "pace":
        return ctx.t("rule_pace", kpi=ctx.kpi_label(rule.kpi), scope=scope_label, value=percent(rule.threshold))
    return ctx.t("rule_value", kpi=ctx.kpi_label(rule.kpi), scope=scope_label, op=rule.op,
                 value=ctx.value(rule.kpi, rule.threshold), days=rule.days)


def alert_subject(ctx: Context, session: Session, cmd: c.AlertAdd) -> str:
    scope = ctx.resolve_scope(session, cmd.scope)
    guard = f" when {cmd.guard.kpi} {cmd.guard.op} {cmd.guard.value.value} today" if cmd.guard else ""
    return f"alert {cmd.kpi} {scope} {cmd.mode} {cmd.op} {cmd.value.value}{guard}"


def alert_add(ctx: Context, cmd: c.AlertAdd) -> Reply:
    channel = cmd.channel or ctx.channel
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        what = alert_subject(ctx, session, cmd)
        if channel is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("no_channel"))
        try:
            rule = alert_repo.add_rule(
                session, kpi=cmd.kpi, scope_kind=scope.kind, scope_key=scope.key, mode=cmd.mode, op=cmd.op,
                threshold=cmd.value.value, days=cmd.days, channel=f"{ctx.user.platform}:{channel}", lang=ctx.lang,
                created_by=str(ctx.actor),
                guard=(cmd.guard.kpi, cmd.guard.op, cmd.guard.value.value) if cmd.guard else None,
                shop=scope.inner_shop,
            )
        except ValueError as error:
            return invalid(ctx, error)
        audit_repo.record(session, ctx.actor, "alert.add", f"alert #{rule.id}", new=what)
        text = ctx.t("alert_added", id=rule.id, rule=rule_text(ctx, rule, ctx.scope_label(scope, session)),
                     channel=channel)
    ctx.schedule_changed()
    return ctx.confirmation("alert_added_title", text)


def alert_list(ctx: Context, cmd: c.AlertList) -> Reply:
    with ctx.session() as session:
        rules = alert_repo.list_rules(session)
        states = alert_repo.states(session, [rule.id for rule in rules if rule.id is not None])
        body = []
        for rule in rules:
            label = ctx.scope_label(rule_scope(rule), session)
            body.append([f"#{rule.id}", rule_text(ctx, rule, label), rule.channel,
                         alert_state_text(ctx, states.get(rule.id or 0))])
    if not rules:
        return Reply(title=ctx.t("alerts_title"), lang=ctx.lang, text=ctx.t("alerts_empty"))
    table = Table([ctx.t("col_id"), ctx.t("col_rule"), ctx.t("col_channel"), ctx.t("col_alert_state")], body)
    return Reply(title=ctx.t("alerts_title"), lang=ctx.lang, tables=[table])


def alert_remove(ctx: Context, cmd: c.AlertRemove) -> Reply:
    with ctx.session() as session:
        rule = alert_repo.deactivate_rule(session, cmd.rule_id)
        if rule is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("alert_unknown", id=cmd.rule_id))
        audit_repo.record(session, ctx.actor, "alert.rm", f"alert #{rule.id}", old="active", new="removed")
    ctx.schedule_changed()
    return ctx.confirmation("alert_removed_title", ctx.t("alert_removed", id=cmd.rule_id))


ZH_WEEKDAYS = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六", "sun": "日"}


def schedule_text(ctx: Context, sub: DigestSubscription) -> str:
    if sub.cadence == "daily":
        return ctx.t("daily_at", time=sub.time)
    if sub.cadence == "monthly":
        return ctx.t("monthly_at", day=sub.day, time=sub.time)
    day = ZH_WEEKDAYS.get(sub.day, sub.day) if ctx.lang == "zh" else sub.day
    return ctx.t("weekly_at", day=day, time=sub.time)


def digest_subject(ctx: Context, session: Session, cmd: c.DigestSubscribe) -> str:
    where = "me" if cmd.me else (cmd.channel or ctx.channel)
    return f"digest {where} {cmd.cadence} {cmd.day} {cmd.time}".replace("  ", " ")


def digest_subscribe(ctx: Context, cmd: c.DigestSubscribe) -> Reply:
    """`me`: anyone, for themselves, as a direct message; a channel: admins only."""
    channel = ctx.user.user_id if cmd.me else (cmd.channel or ctx.channel)
    with ctx.session() as session:
        what = digest_subject(ctx, session, cmd)
        if not cmd.me and (refusal := ctx.refuse_unless_admin(session, ctx.t("what_digest"), "digest.subscribe", what)):
            return refusal
        if channel is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("no_channel"))
        scope = subscription_scope(ctx, session, cmd)
        if scope is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("unknown_user", user=ctx.user_label(ctx.user)))
        try:
            sub = subscription_repo.add_subscription(
                session, platform=ctx.user.platform, channel=channel, cadence=cmd.cadence, day=cmd.day,
                time=cmd.time, timezone=cmd.timezone or ctx.services.settings.timezone, lang=ctx.lang,
                created_by=str(ctx.actor), direct=cmd.me, scope_kind=scope.kind, scope_key=scope.key, kpis=cmd.kpis,
            )
        except ValueError as error:
            return invalid(ctx, error)
        audit_repo.record(session, ctx.actor, "digest.subscribe", f"digest #{sub.id}", new=what)
        text = ctx.t("digest_subscribed", id=sub.id, schedule=schedule_text(ctx, sub), tz=sub.timezone,
                     channel=ctx.t("to_me") if cmd.me else channel)
    ctx.schedule_changed()
    return ctx.confirmation("digest_subscribed_title", text)


def digest_list(ctx: Context, cmd: c.DigestList) -> Reply:
    with ctx.session() as session:
        subs = subscription_repo.list_subscriptions(session)
    if not subs:
        return Reply(title=ctx.t("digests_title"), lang=ctx.lang, text=ctx.t("digests_empty"))
    body = [[f"#{s.id}", f"{ctx.t('dm') + ' · ' if s.direct else ''}{s.platform}:{s.channel}",
             f"{schedule_text(ctx, s)} ({s.timezone})", subscription_scope_text(s), s.lang] for s in subs]
    table = Table([ctx.t("col_id"), ctx.t("col_channel"), ctx.t("col_schedule"), ctx.t("col_scope_kpis"),
                   ctx.t("col_lang")], body)
    return Reply(title=ctx.t("digests_title"), lang=ctx.lang, tables=[table])


def digest_unsubscribe(ctx: Context, cmd: c.DigestUnsubscribe) -> Reply:
    """Anyone may end their own direct-message subscription; everything else needs an admin."""
    with ctx.session() as session:
        what = f"digest #{cmd.subscription_id}"
        existing = subscription_repo.get_subscription(session, cmd.subscription_id)
        own = (existing is not None and existing.direct and existing.platform == ctx.user.platform
               and existing.channel == ctx.user.user_id)
        if not own and (refusal := ctx.refuse_unless_admin(session, ctx.t("what_digest"), "digest.unsubscribe", what)):
            return refusal
        sub = subscription_repo.deactivate_subscription(session, cmd.subscription_id)
        if sub is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("digest_unknown", id=cmd.subscription_id))
        audit_repo.record(session, ctx.actor, "digest.unsubscribe", what, old="active", new="removed")
    ctx.schedule_changed()
    return ctx.confirmation("digest_removed_title", ctx.t("digest_removed", id=cmd.subscription_id))


def digest_now(ctx: Context, cmd: c.DigestNow) -> Reply:
    channel = cmd.channel or ctx.channel
    if channel is None:
        return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("no_channel"))
    sent = ctx.services.send_digest_now(ctx.user.platform, channel, ctx.lang)
    if sent is None:
        return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("digest_unavailable"))
    return ctx.confirmation("digest_sent_title", ctx.t("digest_sent", channel=channel))


# --- reading the words -------------------------------------------------------------------------

def read_alert_add(parser: Parser, words: list[str], request: CommandRequest) -> c.AlertAdd:
    if when := [i for i, w in enumerate(words) if w.lower() in WHEN_WORDS]:
        return read_stop_loss(parser, words, when[0], request)
    days, rest = alert_days(words)
    if any(w.lower() in UNUSUAL_WORDS for w in rest):  # alert add gmv unusual [scope] [in #ch]: no threshold
        found = parser.scan([w for w in rest if w.lower() not in UNUSUAL_WORDS], request)
        kpi_id = parser.one_kpi(found, default=False, topic="alert")
        parser.reject_unknown(found, "alert")
        return c.AlertAdd(kpi=kpi_id, mode="unusual", op=">=", value=ParsedValue(3.5, False, False, "3.5"),
                          scope=parser.one_scope(found, "alert"), days=1,
                          channel=found.channels[0] if found.channels else None)
    mode = "pace" if any(w.lower() in PACE_WORDS for w in rest) else "value"
    rest = [w for w in rest if w.lower() not in PACE_WORDS]
    ops = [OPERATORS[w] for w in rest if w in OPERATORS]
    rest = [w for w in rest if w not in OPERATORS]
    found = parser.scan(rest, request)
    if found.periods:  # an alert watches every day; a period (and above all "today") is refused, not reinterpreted
        today = parser.today()
        is_today = any(p.kind == "day" and p.start == today for p in found.periods)
        said = TODAY_WORD.search(request.text) if is_today else None
        raise c.ParseError("alert_today" if is_today else "alert_period",
                           {"word": said.group(0) if said else found.periods[0].key}, "alert")
    kpi_id = parser.one_kpi(found, default=False, topic="alert")
    parser.reject_unknown(found, "alert")
    if len(ops) != 1:
        raise c.ParseError("missing_operator", {}, "alert")
    if not found.values:
        raise c.ParseError("missing_value", {"example": "alert add roas < 2 for 3 days"}, "alert")
    value = found.values[0]
    if mode == "pace":
        if ops[0] not in ("<", "<="):
            raise c.ParseError("pace_operator", {}, "alert")
        if not value.is_percent:
            raise c.ParseError("pace_percent", {"word": value.text}, "alert")
    else:
        check_value_unit(parser.registry, kpi_id, value, allow_zero=True)
    if days < 1 or days > 90:
        raise c.ParseError("bad_days", {}, "alert")
    return c.AlertAdd(kpi=kpi_id, mode=mode, op=ops[0], value=value, scope=parser.one_scope(found, "alert"),
                      days=days, channel=found.channels[0] if found.channels else None)


def read_stop_loss(parser: Parser, words: list[str], at: int, request: CommandRequest) -> c.AlertAdd:
    """alert add roas < 1.5 when ad_spend >= 500 today [SCOPE] [in #ch] — the condition before `when`,
    the guard after it; both on today's rows, so `today` may be left out but no other period is taken."""
    today = parser.today()

    def says_today(word: str) -> bool:  # `today` may reach here already read as today's date
        period = parser.period(word)
        return word.lower() in TODAY_WORDS or (period is not None and period.kind == "day" and period.start == today)

    condition = read_comparison(parser, [w for w in words[:at] if not says_today(w)], request)
    guard = read_comparison(parser, [w for w in words[at + 1:] if not says_today(w)], request)
    if condition.found.periods or guard.found.periods:
        raise c.ParseError("stoploss_today", {}, "alert")
    found = Found(scopes=condition.found.scopes + guard.found.scopes, roles=condition.found.roles + guard.found.roles,
                  shops=condition.found.shops + guard.found.shops)
    channels = condition.found.channels + guard.found.channels
    return c.AlertAdd(kpi=condition.kpi, mode="stoploss", op=condition.op, value=condition.value,
                      scope=parser.one_scope(found, "alert"), days=1, channel=channels[0] if channels else None,
                      guard=c.AlertGuard(guard.kpi, guard.op, guard.value))


@dataclass(frozen=True)
class Comparison:
    kpi: str
    op: str
    value: ParsedValue
    found: Found


def read_comparison(parser: Parser, words: list[str], request: CommandRequest) -> Comparison:
    """`KPI OP VALUE` among scope and channel words (one side of a stop-loss); each part named when missing."""
    ops = [OPERATORS[w] for w in words if w in OPERATORS]
    found = parser.scan([w for w in words if w not in OPERATORS], request)
    kpi_id = parser.one_kpi(found, default=False, topic="alert")
    parser.reject_unknown(found, "alert")
    if len(ops) != 1:
        raise c.ParseError("missing_operator", {}, "alert")
    if not found.values:
        raise c.ParseError("missing_value", {"example": "alert add roas < 1.5 when ad_spend >= 500 today"}, "alert")
    check_value_unit(parser.registry, kpi_id, found.values[0], allow_zero=True)
    return Comparison(kpi_id, ops[0], found.values[0], found)


TODAY_WORD = re.compile(r"(?<![A-Za-z])(?:today|tdy)(?![A-Za-z])|今天|今日", re.IGNORECASE)
_DAY_UNITS = {"day", "days", "天", "日"}
_CHINESE_DAYS = re.compile(r"(连续)?([0-9一二两三四五六七八九十]{1,3})[天日]")


def alert_days(words: list[str]) -> tuple[int, list[str]]:
    """How many days in a row an alert must hold, as written anywhere in the words: `for 3 days`,
    `3 days in a row`, `3 days`, `for five days`, `连续3天`, `连续 3 天`, `连续五天`, `3天`. Default 1."""
    low = [w.lower() for w in words]
    for i, word in enumerate(low):
        if match := _CHINESE_DAYS.fullmatch(word):  # one piece: 连续五天
            count = chinese_number(match[2])
            if count is not None:
                return count, words[:i] + words[i + 1:]
        count = _count(word)
        if count is None or i + 1 >= len(low) or low[i + 1] not in _DAY_UNITS:
            continue
        start = i - 1 if i > 0 and low[i - 1] in ("for", "连续") else i
        end = i + 2
        if low[end:end + 3] == ["in", "a", "row"]:
            end += 3
        return count, words[:start] + words[end:]
    return 1, list(words)


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBERS_EN.get(word) if word != "a" else None


def read_alert_list(parser: Parser, words: list[str], request: CommandRequest) -> c.AlertList:
    return c.AlertList()


def read_alert_remove(parser: Parser, words: list[str], request: CommandRequest) -> c.AlertRemove:
    return c.AlertRemove(rule_id=one_id(words, "alert"))


def _channels(parser: Parser, words: list[str], request: CommandRequest) -> tuple[list[str], list[str]]:
    """(channels named, the other words)."""
    return [parser.channel(w, request) for w in words if is_channel(w)], [w for w in words if not is_channel(w)]


def read_digest_subscribe(parser: Parser, words: list[str], request: CommandRequest) -> c.DigestSubscribe:
    channels, rest = _channels(parser, words, request)
    cadence, day, time = "weekly", "mon", "09:00"
    extra = read_subscription_extras(parser, rest, request)
    rest = extra.rest
    for word in rest:
        low = word.lower()
        if low in CADENCE_WORDS:
            cadence = CADENCE_WORDS[low]
        elif low in WEEKDAY_WORDS:
            day = WEEKDAY_WORDS[low]
        elif re.fullmatch(r"\d{1,2}:\d{2}", word):
            hours, minutes = (int(p) for p in word.split(":"))
            if hours > 23 or minutes > 59:
                raise c.ParseError("bad_time", {"word": word}, "digest")
            time = f"{hours:02d}:{minutes:02d}"
        elif word.isdigit() or re.fullmatch(r"(\d{1,2})[号日]", word):
            day = str(int(re.sub(r"\D", "", word)))
        else:
            raise c.ParseError("unknown_word", {"word": word, "suggestion": parser.suggest(word)}, "digest")
    if cadence == "monthly":
        if not day.isdigit() or not 1 <= int(day) <= 28:
            raise c.ParseError("bad_month_day", {"word": day}, "digest")
    elif cadence == "daily":
        day = ""
    elif day not in WEEKDAY_WORDS.values():
        raise c.ParseError("bad_weekday", {"word": day}, "digest")
    return c.DigestSubscribe(channel=channels[0] if channels else None, cadence=cadence, day=day, time=time,
                             me=extra.me, scope=extra.scope, kpis=extra.kpis, timezone=extra.timezone)


def read_digest_list(parser: Parser, words: list[str], request: CommandRequest) -> c.DigestList:
    return c.DigestList()


def read_digest_unsubscribe(parser: Parser, words: list[str], request: CommandRequest) -> c.DigestUnsubscribe:
    return c.DigestUnsubscribe(subscription_id=one_id(words, "digest"))


def read_digest_now(parser: Parser, words: list[str], request: CommandRequest) -> c.DigestNow:
    channels, rest = _channels(parser, words, request)
    if rest:
        raise c.ParseError("unknown_word", {"word": rest[0], "suggestion": ""}, "digest")
    return c.DigestNow(channel=channels[0] if channels else None)


COMMANDS = [
    CommandGroup(
        name="alert", words=("alerts", "告警", "预警"), order=60, default="list",
        summary=Bilingual("Threshold and pace alerts posted to a channel (rules: admins; acknowledge and snooze: "
                          "team members).", "阈值和进度告警，发送到频道（规则需管理员；确认和暂停：团队成员）。"),
        subcommands=(
            Subcommand(c.AlertAdd, read_alert_add, alert_add, name="add", words=("添加", "新增"), admin=True,
                       audit="alert.add", subject=alert_subject,
                       usage=Bilingual("alert add KPI OP VALUE [SCOPE] [for N days] [in #channel] · "
                                       "alert add KPI pace < PERCENT [SCOPE] · "
                                       "alert add KPI unusual [SCOPE] [in #channel] · "
                                       "alert add KPI OP VALUE when KPI OP VALUE today [SCOPE] [in #channel]",
                                       "告警 添加 指标 比较符 数值 [范围] [连续N天] [in #频道] · "
                                       "告警 添加 指标 进度 < 百分比 [范围] · 告警 添加 指标 异常 [范围] · "
                                       "预警 添加 指标 比较符 数值 当 指标 比较符 数值 今天 [范围] [in #频道]")),
            Subcommand(c.AlertList, read_alert_list, alert_list, name="list", words=("列表", "查看"),
                       usage=Bilingual("alert list", "告警 列表")),
            Subcommand(c.AlertRemove, read_alert_remove, alert_remove, name="rm", words=("remove", "delete", "删除"),
                       admin=True, audit="alert.rm", subject=lambda ctx, session, cmd: f"alert #{cmd.rule_id}",
                       usage=Bilingual("alert rm ID", "告警 删除 编号")),
            *ALERT_ANSWER_COMMANDS,
        ),
        examples=Bilingual("alert add roas < 2 for 3 days · alert add ad_spend > 5000 for 1 days · "
                           "alert add gmv pace < 90% · alert add gmv unusual role:host · "
                           "alert add roas < 1.5 when ad_spend >= 500 today · alert list · alert snooze 1 monday · "
                           "alert ack 1 · alert rm 1",
                           "告警 添加 roas < 2 连续3天 · 告警 添加 gmv 异常 · 告警 列表"),
    ),
    CommandGroup(
        name="digest", words=("digests", "周报"), order=70, default="list",
        summary=Bilingual("Weekly review digests with charts (subscribing: admins).", "带图表的周报（订阅需管理员）。"),
        subcommands=(
            Subcommand(c.DigestSubscribe, read_digest_subscribe, digest_subscribe, name="subscribe", words=("订阅",),
                       usage=Bilingual("digest subscribe [#channel|me] [daily HH:MM | weekly DAY HH:MM | monthly DAY "
                                       "HH:MM] [role:R|shop:S|@who] [kpis:a,b] [tz:Area/City] (a channel: admins)",
                                       "周报 订阅 [#频道|我] [每天 HH:MM | 每周 星期 HH:MM | 每月 日期 HH:MM] "
                                       "[role:角色|shop:店铺|@成员] [kpis:a,b] [tz:时区]（频道需管理员）")),
            Subcommand(c.DigestList, read_digest_list, digest_list, name="list", words=("列表", "查看"),
                       usage=Bilingual("digest list", "周报 列表")),
            Subcommand(c.DigestUnsubscribe, read_digest_unsubscribe, digest_unsubscribe, name="unsubscribe",
                       words=("取消订阅", "退订"),
                       usage=Bilingual("digest unsubscribe ID", "周报 退订 编号")),
            *DIGEST_HISTORY_COMMANDS,
            Subcommand(c.DigestNow, read_digest_now, digest_now, name="now", words=("立即", "现在", "马上"),
                       usage=Bilingual("digest now [#channel]", "周报 立即 [#频道]")),
            Subcommand(c.DigestSends, read_digest_sends, digest_sends, name="sends",
                       words=("发送记录",), usage=Bilingual("digest sends", "周报 发送记录")),
            Subcommand(c.DigestResend, read_digest_resend, digest_resend, name="resend", words=("重发",),
                       admin=True, audit="digest.resend", subject=lambda ctx, session, cmd: f"send #{cmd.delivery_id}",
                       usage=Bilingual("digest resend ID", "周报 重发 编号")),
        ),
        examples=Bilingual("digest subscribe weekly mon 09:00 · digest list · digest now · digest unsubscribe 1 · "
                           "digest history · digest sends · digest resend 1",
                           "周报 订阅 每周 周一 09:00 · 周报 立即 · 周报 记录 · 周报 发送记录"),
    ),
]
