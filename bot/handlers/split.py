"""`target split KPI TOTAL [PERIOD] role:R | by shop  equally | by last-month | by weights a,b,c [preview]`
(目标拆解 … 平均 / 按上月占比 / 按权重): one target per member of the role (or per shop) that sums exactly
to the total, the remainder of rounding to cents going to the largest share. Admins only; each target
written is audited; `preview` shows the split and writes nothing. Declared in bot/handlers/targets.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from jobs.present.formatting import period_label
from jobs.present.i18n import Catalog
from jobs.present.reply import Reply, ReplyKind, Table
from storage.kpi.periods import Period
from storage.kpi.scope import Scope
from storage.kpi.split import split_to_cents
from storage.repositories import audit as audit_repo
from storage.repositories import facts as fact_repo
from storage.repositories import members as member_repo
from storage.repositories import targets as target_repo

T = Catalog({
    "title": ("Target split · {kpi} · {period}", "目标拆解 · {kpi} · {period}"),
    "preview_title": ("Target split (preview, nothing written) · {kpi} · {period}",
                      "目标拆解（预览，未写入）· {kpi} · {period}"),
    "written": ("{count} targets written, {total} in all ({how}).", "已写入 {count} 个目标，合计 {total}（{how}）。"),
    "preview": ("{count} targets would be written, {total} in all ({how}). "
                "Run it again without preview to write them.",
                "将写入 {count} 个目标，合计 {total}（{how}）。去掉“预览”再发一次即写入。"),
    "equal": ("equally", "平均"),
    "last_month": ("by last month's {kpi}", "按上月{kpi}占比"),
    "weights": ("by weights {weights}", "按权重 {weights}"),
    "col_who": ("Who", "对象"),
    "col_shop": ("Shop", "店铺"),
    "shops": ("Shops", "各店铺"),
    "col_share": ("Share", "占比"),
    "col_target": ("Target", "目标"),
    "bad_title": ("I couldn't split that", "无法拆解"),
    "need_whom": ("Say whom to split between: role:ROLE or by shop. Usage: {usage}",
                  "请说明拆给谁：role:角色 或 按店铺。用法：{usage}"),
    "nobody": ("Nobody to split between: {whom} has no members or shops yet.",
               "没有可拆分的对象：{whom} 暂无成员或店铺。"),
    "weights_count": ("{given} weights for {count} ({names}); give one weight for each, in this order.",
                      "给了 {given} 个权重，但有 {count} 个对象（{names}）；"
                      "请按此顺序每个给一个权重。"),
    "no_history": ("Nobody has {kpi} last month ({period}), so there is nothing to split by; "
                   "split equally or by weights instead.",
                   "上月（{period}）没有任何 {kpi} 数据，无法按上月占比拆解；请改用平均或按权重。"),
    "additive_only": ("{kpi} is a ratio: its target is not split into parts that add up; set it per member instead.",
                      "{kpi} 是比率指标，目标不能拆成相加的部分；请逐个成员设置。"),
})

USAGE_ZH = "目标拆解 指标 总额 [时间] role:角色|按店铺 平均|按上月占比|按权重 40,35,25 [预览]"
USAGE = "target split KPI TOTAL [PERIOD] role:ROLE|by shop  equally|by last-month|by weights 40,35,25 [preview]"
EQUAL_WORDS = {"equally", "evenly", "equal", "平均", "均分"}
LAST_MONTH_WORDS = {"last-month", "last_month", "lastmonth", "按上月占比", "上月占比"}
WEIGHT_WORDS = {"weights", "weight", "按权重", "权重"}
SHOP_WORDS = {"shop", "shops", "店铺", "按店铺"}
PREVIEW_WORDS = {"preview", "预览", "dry-run"}
FILLER_WORDS = {"by", "按"}
# Chinese words the tokenizer must keep whole (English ones are split on spaces anyway)
SPLIT_WORDS = tuple(sorted(w for w in EQUAL_WORDS | LAST_MONTH_WORDS | WEIGHT_WORDS | PREVIEW_WORDS | SHOP_WORDS
                           if not w.isascii()))
_WEIGHTS = re.compile(r"\d+(?:\.\d+)?(?:[,，]\d+(?:\.\d+)?)*")


@dataclass(frozen=True)
class TargetSplit(c.Command):
    kpi: str
    total: float
    period: Period
    role: str | None  # None: by shop
    how: str  # equal | last_month | weights
    weights: tuple[float, ...] = ()
    preview: bool = False
    shop: str = ""  # a role's members inside one shop: their targets in that shop


def read_split(parser: Parser, words: list[str], request: CommandRequest) -> TargetSplit:
    weights: tuple[float, ...] = ()
    how, by_shop, preview, rest = "equal", False, False, []
    for index, word in enumerate(words):
        low = word.lower()
        if low in EQUAL_WORDS:
            how = "equal"
        elif low in LAST_MONTH_WORDS:
            how = "last_month"
        elif low in WEIGHT_WORDS:
            how = "weights"
        elif how == "weights" and not weights and _WEIGHTS.fullmatch(word) and index > 0 \
                and words[index - 1].lower() in WEIGHT_WORDS:
            weights = tuple(float(part) for part in re.split(r"[,，]", word))
        elif low in SHOP_WORDS:
            by_shop = True
        elif low in PREVIEW_WORDS:
            preview = True
        elif low not in FILLER_WORDS:
            rest.append(word)
    found = parser.scan(rest, request)
    kpi_id = parser.one_kpi(found, default=False, topic="target")
    parser.reject_unknown(found, "target")
    total = parser.target_value(found, kpi_id)
    period = parser.one_period(found, "target")
    role = None if by_shop else parser.board_role(found)
    shops = list(dict.fromkeys(found.shops))
    if len(shops) > 1 or (shops and role is None):  # in a shop: its role's members (`by shop` splits across shops)
        raise c.ParseError("two_scopes", {}, "target")
    if how == "weights" and not weights:
        raise c.ParseError("missing_value", {"example": "target split gmv 300k month role:host by weights 40,35,25"},
                           "target")
    return TargetSplit(kpi=kpi_id, total=total.value, period=period, role=role or ("" if not by_shop else None),
                       how=how, weights=weights, preview=preview, shop=shops[0] if shops else "")


def split_subject(ctx: Context, session: Session, cmd: TargetSplit) -> str:
    whom = "shops" if cmd.role is None else f"role:{cmd.role}" + (f" shop:{cmd.shop}" if cmd.shop else "")
    return f"target split {cmd.kpi} {whom} {cmd.period.key}"


def target_split(ctx: Context, cmd: TargetSplit) -> Reply:
    registry = ctx.services.registry
    kpi = registry.kpis[cmd.kpi]
    if not kpi.additive:
        return bad_input(ctx, T("additive_only", ctx.lang, kpi=kpi.label(ctx.lang)))
    if cmd.role == "":
        return bad_input(ctx, T("need_whom", ctx.lang, usage=USAGE))
    with ctx.session() as session:
        whom = _whom(ctx, session, cmd)
        if not whom:
            label = ctx.role_label(cmd.role) if cmd.role else T("col_who", ctx.lang)
            return bad_input(ctx, T("nobody", ctx.lang, whom=label))
        weights = _weights(ctx, cmd, whom)
        if isinstance(weights, str):
            return bad_input(ctx, weights)
        shares = split_to_cents(cmd.total, weights)
        if not cmd.preview:
            for key, value in shares.items():
                scope = Scope.of_shop(key) if cmd.role is None else Scope.member(key).in_shop(cmd.shop)
                old = target_repo.set_target(session, cmd.kpi, scope, cmd.period, value, str(ctx.actor))
                audit_repo.record(session, ctx.actor, "target.split", f"target {cmd.kpi} {scope} {cmd.period.key}",
                                  old=old, new=value)
    return _reply(ctx, cmd, whom, weights, shares)


def _whom(ctx: Context, session: Session, cmd: TargetSplit) -> dict[str, str]:
    """key → display name, in key order: the role's members, or every shop (declared or with data)."""
    if cmd.role is None:
        shops = ctx.services.registry.shops
        keys = sorted(set(shops) | set(fact_repo.shops_with_data(session)))
        return {key: shops[key].name if key in shops else key for key in keys}
    keys = sorted(key for key, roles in member_repo.role_map(session).items() if cmd.role in roles)
    names = member_repo.display_names(session, keys)
    return {key: names.get(key, key) for key in keys}


def _weights(ctx: Context, cmd: TargetSplit, whom: dict[str, str]) -> dict[str, float] | str:
    if cmd.how == "weights":
        if len(cmd.weights) != len(whom) or not any(w > 0 for w in cmd.weights):
            return T("weights_count", ctx.lang, given=len(cmd.weights), count=len(whom), names=", ".join(whom.values()))
        return dict(zip(whom, cmd.weights, strict=True))
    if cmd.how == "last_month":
        engine = ctx.services.engine
        kpi = ctx.services.registry.kpis[cmd.kpi]
        last = engine.calendar.previous(engine.calendar.month(cmd.period.start))
        rows = engine.shop_board(kpi, last) if cmd.role is None else engine.board(kpi, cmd.role, last, cmd.shop)
        actual = {row.member: row.status.actual or 0.0 for row in rows}
        weights = {key: max(0.0, actual.get(key, 0.0)) for key in whom}
        if not any(weights.values()):
            return T("no_history", ctx.lang, kpi=kpi.label(ctx.lang), period=period_label(last, ctx.lang))
        return weights
    return dict.fromkeys(whom, 1.0)


def _reply(ctx: Context, cmd: TargetSplit, whom: dict[str, str], weights: dict[str, float],
           shares: dict[str, float]) -> Reply:
    kpi_label, period = ctx.kpi_label(cmd.kpi), period_label(cmd.period, ctx.lang)
    whole = sum(w for w in weights.values() if w > 0)
    rows = [[whom[key], f"{max(weights[key], 0) / whole:.1%}", ctx.value(cmd.kpi, shares[key])] for key in whom]
    how = T(cmd.how, ctx.lang, kpi=kpi_label, weights=",".join(f"{w:g}" for w in cmd.weights))
    values = {"count": len(shares), "total": ctx.value(cmd.kpi, sum(shares.values())), "how": how}
    columns = [T("col_who", ctx.lang), T("col_share", ctx.lang), T("col_target", ctx.lang)]
    return Reply(
        title=T("preview_title" if cmd.preview else "title", ctx.lang, kpi=kpi_label, period=period),
        lang=ctx.lang, kind=ReplyKind.ANSWER if cmd.preview else ReplyKind.CONFIRMATION,
        text=T("preview" if cmd.preview else "written", ctx.lang, **values), tables=[Table(columns, rows)],
    )


def bad_input(ctx: Context, text: str, title: str = "bad_title") -> Reply:
    return Reply(title=T(title, ctx.lang), lang=ctx.lang, kind=ReplyKind.ERROR, text=text)
