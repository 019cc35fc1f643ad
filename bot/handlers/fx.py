"""`fx set CUR RATE PERIOD` (admins, audited) and `fx list` (汇率 设置 / 汇率 列表): exchange rates into
the reporting currency, by month (covers its days) or by day (wins over its month)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.present.i18n import Catalog
from jobs.present.reply import Reply, ReplyKind, Table
from storage.repositories import audit as audit_repo
from storage.repositories.fx import FxProblem, rate_span, rates_in_force, set_rates

T = Catalog({
    "set_title": ("Exchange rate set", "汇率已设置"),
    "set": ("1 {currency} = {rate} {reporting} for {period}{old}.",
            "{period} 1 {currency} = {rate} {reporting}{old}。"),
    "old": (" (was {rate})", "（原为 {rate}）"),
    "list_title": ("Exchange rates in force · {day}", "当前汇率 · {day}"),
    "none": ("No rates in force today. Add one: fx set CNY 0.1385 2026-11",
             "今天没有生效的汇率。添加：汇率 设置 CNY 0.1385 2026-11"),
    "bad_title": ("I couldn't set that rate", "无法设置汇率"),
    "usage": ("Usage: fx set CURRENCY RATE PERIOD, e.g. fx set CNY 0.1385 2026-11 (a month or a day)",
              "用法：汇率 设置 币种 汇率 时间，例如 汇率 设置 CNY 0.1385 2026-11（月份或某一天）"),
    "bad_rate": ("Rate must be a positive number, got {given!r}.", "汇率须为正数，收到 {given!r}。"),
    "bad_currency": ("Currency must be a three-letter code such as CNY, got {given!r}.",
                     "币种须为三位字母代码，例如 CNY，收到 {given!r}。"),
    "bad_period": ("Period must be a month YYYY-MM or a day YYYY-MM-DD, got {given!r}.",
                   "时间须为月份 YYYY-MM 或日期 YYYY-MM-DD，收到 {given!r}。"),
    "same": ("{currency} is the reporting currency: its rate is always 1.", "{currency} 就是报表币种，汇率恒为 1。"),
    "col_currency": ("Currency", "币种"),
    "col_rate": ("Rate into {reporting}", "兑 {reporting} 汇率"),
    "col_period": ("For", "适用"),
})


@dataclass(frozen=True)
class FxSet(c.Command):
    words: tuple[str, ...]  # as written: CURRENCY RATE PERIOD (checked by the handler, which names what is wrong)


@dataclass(frozen=True)
class FxList(c.Command):
    pass


def read_set(parser: Parser, words: list[str], request: CommandRequest) -> FxSet:
    return FxSet(tuple(words))


def read_list(parser: Parser, words: list[str], request: CommandRequest) -> FxList:
    return FxList()


def fx_subject(ctx: Context, session: object, cmd: FxSet) -> str:
    return "fx " + " ".join(cmd.words)


def fx_set(ctx: Context, cmd: FxSet) -> Reply:
    reporting = ctx.services.settings.currency
    if len(cmd.words) != 3:
        return _bad(ctx, T("usage", ctx.lang))
    currency, rate_text, period = cmd.words
    try:
        rate = float(rate_text.replace(",", ""))
    except ValueError:
        return _bad(ctx, T("bad_rate", ctx.lang, given=rate_text))
    try:
        span = rate_span(currency, period, rate)
    except FxProblem as problem:
        return _bad(ctx, f"{T(f'bad_{problem.field}', ctx.lang, given=problem.given)} {T('usage', ctx.lang)}")
    if span.currency == reporting:
        return _bad(ctx, T("same", ctx.lang, currency=reporting))
    with ctx.session() as session:
        before = {s.currency: s.rate for s in rates_in_force(session, span.start) if s.period_key == span.period_key}
        set_rates(session, [span], set_by=str(ctx.actor))
        audit_repo.record(session, ctx.actor, "fx.set", f"fx {span.currency} {span.period_key}",
                          old=before.get(span.currency), new=span.rate)
    old = before.get(span.currency)
    text = T("set", ctx.lang, currency=span.currency, rate=f"{span.rate:g}", reporting=reporting,
             period=span.period_key, old=T("old", ctx.lang, rate=f"{old:g}") if old is not None else "")
    return Reply(title=T("set_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.CONFIRMATION, text=text)


def fx_list(ctx: Context, cmd: FxList) -> Reply:
    today = ctx.services.engine.today()
    reporting = ctx.services.settings.currency
    with ctx.session() as session:
        spans = rates_in_force(session, today)
    title = T("list_title", ctx.lang, day=today.isoformat())
    if not spans:
        return Reply(title=title, lang=ctx.lang, text=T("none", ctx.lang))
    columns = [T("col_currency", ctx.lang), T("col_rate", ctx.lang, reporting=reporting), T("col_period", ctx.lang)]
    return Reply(title=title, lang=ctx.lang,
                 tables=[Table(columns, [[s.currency, f"{s.rate:g}", s.period_key] for s in spans])])


def _bad(ctx: Context, text: str) -> Reply:
    return Reply(title=T("bad_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.ERROR, text=text)


COMMANDS = [CommandGroup(
    name="fx", words=("汇率", "rates"), order=45, default="list",
    summary=Bilingual("Exchange rates into the reporting currency (setting: admins).",
                      "换算成报表币种的汇率（设置需管理员）。"),
    subcommands=(
        Subcommand(FxSet, read_set, fx_set, name="set", words=("设置", "设定"), admin=True, audit="fx.set",
                   subject=fx_subject, what="fx",
                   usage=Bilingual("fx set CURRENCY RATE PERIOD", "汇率 设置 币种 汇率 时间")),
        Subcommand(FxList, read_list, fx_list, name="list", words=("列表", "查看", "show"),
                   usage=Bilingual("fx list", "汇率 列表")),
    ),
    examples=Bilingual("fx set CNY 0.1385 2026-11 · fx list", "汇率 设置 CNY 0.1385 2026-11 · 汇率 列表"),
)]
