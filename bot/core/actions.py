"""Buttons and forms: show my KPIs, the target form (spec and submission), alert acknowledge /
snooze, and the App Home view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core import identity
from bot.core.contracts import (
    ACTION_ALERT_ACK,
    ACTION_ALERT_SNOOZE,
    ACTION_ITEM_DONE,
    ACTION_ME,
    ACTION_OPEN_TARGET_FORM,
    ACTION_SUBMIT_TARGET,
    FIELD_KPI,
    FIELD_PERIOD,
    FIELD_SCOPE,
    FIELD_USER,
    FIELD_VALUE,
    ActionResult,
    Option,
    TargetFormSpec,
)
from bot.core.messages import T
from bot.core.request import ActionRequest, UserRef
from bot.handlers import meetings, reading
from bot.handlers.alert_answers import answer_alert
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import check_value_unit
from bot.language.values import parse_value
from jobs.alerts.snoozing import DEFAULT_SNOOZE, SNOOZE_CHOICES
from jobs.present.formatting import period_label
from jobs.present.reply import Action, Reply, ReplyKind
from storage.kpi.periods import resolve_token
from storage.repositories import facts as fact_repo
from storage.repositories import members as member_repo

if TYPE_CHECKING:
    from bot.core.bot import KpiBot

FORM_PERIODS = [("week", "period_week"), ("next-week", "period_next_week"), ("month", "period_month"),
                ("next-month", "period_next_month"), ("quarter", "period_quarter")]


def handle(bot: KpiBot, request: ActionRequest) -> ActionResult:
    lang = request.lang or bot.settings.locale
    ctx = bot.context(request.user, lang, request.channel)
    if request.action_id == ACTION_ME:
        this_month = bot.engine.calendar.month(bot.engine.today())
        return ActionResult(reply=bot.handle_command_object(ctx, c.Me(period=this_month)))
    if request.action_id == ACTION_OPEN_TARGET_FORM:
        return ActionResult(reply=bot.handle_command_object(ctx, c.TargetForm()))
    if request.action_id == ACTION_SUBMIT_TARGET:
        return submit_target(bot, ctx, request)
    if request.action_id in (ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE):
        return alert_action(ctx, request)
    if request.action_id == ACTION_ITEM_DONE and request.value.isdigit():
        reply = bot.handle_command_object(ctx, meetings.ActionDone(action_id=int(request.value)))
        if reply.kind in (ReplyKind.REFUSAL, ReplyKind.ERROR):  # told to the presser only; the message stays
            return ActionResult(toast=reply.text)
        return ActionResult(reply=reply, toast=reply.text)
    return ActionResult(toast=T("hint_title", lang))


def submit_target(bot: KpiBot, ctx: Context, request: ActionRequest) -> ActionResult:
    """Validate every field; on any error nothing is saved and each bad field says why."""
    fields = request.fields
    errors: dict[str, str] = {}
    kpi = bot.registry.kpi(fields.get(FIELD_KPI, "").strip())
    if kpi is None:
        errors[FIELD_KPI] = T("missing_kpi", ctx.lang, kpis=", ".join(sorted(bot.registry.kpis)))
    scope = _scope_from_fields(ctx, fields, errors)
    period_text = fields.get(FIELD_PERIOD, "").strip()
    period = resolve_token(period_text, bot.engine.today(), bot.engine.calendar) if period_text else None
    if period is None:
        errors[FIELD_PERIOD] = T("unknown_period", ctx.lang, word=period_text or "—")
    value_text = fields.get(FIELD_VALUE, "").strip()
    value = parse_value(value_text) if value_text else None
    if value is None:
        errors[FIELD_VALUE] = T("bad_value", ctx.lang, word=value_text) if value_text else T("field_required", ctx.lang)
    elif kpi is not None:
        try:
            check_value_unit(bot.registry, kpi.id, value, allow_zero=False)
        except c.ParseError as error:
            errors[FIELD_VALUE] = T(error.key, ctx.lang, **error.values)
    if errors:
        return ActionResult(field_errors=errors, toast=_toast(ctx, errors))
    assert kpi and scope and period and value
    try:
        reply = bot.handle_command_object(ctx, c.TargetSet(kpi=kpi.id, value=value, scope=scope, period=period))
    except c.ParseError as error:  # a picked person not linked to a member
        errors[FIELD_USER] = T(error.key, ctx.lang, **error.values)
        return ActionResult(field_errors=errors, toast=_toast(ctx, errors))
    return ActionResult(reply=reply, toast=reply.text)


def _toast(ctx: Context, errors: dict[str, str]) -> str:
    labels = {FIELD_KPI: "form_kpi", FIELD_SCOPE: "form_scope", FIELD_USER: "form_user", FIELD_PERIOD: "form_period",
              FIELD_VALUE: "form_value"}
    return " ".join(f"{T(labels[name], ctx.lang)}: {message}" for name, message in errors.items())


def _scope_from_fields(ctx: Context, fields: dict[str, str], errors: dict[str, str]) -> c.ScopeRef | None:
    scope_text = fields.get(FIELD_SCOPE, "team").strip() or "team"
    if scope_text == "team":
        return c.TEAM
    if scope_text == "user":
        user_id = fields.get(FIELD_USER, "").strip()
        if not user_id:
            errors[FIELD_USER] = T("field_pick_user", ctx.lang)
            return None
        return c.ScopeRef("user", user=UserRef(ctx.user.platform, user_id))
    shop = ""
    if scope_text.startswith("shop:"):  # a shop alone, or a role within it: "shop:KEY role:ROLE"
        shop, _, scope_text = scope_text[5:].partition(" ")
        if shop and not scope_text.strip():
            return c.ScopeRef("shop", shop)
        scope_text = scope_text.strip()
    if scope_text.startswith("role:") and (role := ctx.services.registry.role(scope_text[5:])) is not None:
        return c.ScopeRef("role", role.id, shop=shop)
    if scope_text.startswith("member:") and scope_text[7:].strip():
        return c.ScopeRef("member", scope_text[7:].strip())
    errors[FIELD_SCOPE] = T("two_scopes", ctx.lang)
    return None


def alert_action(ctx: Context, request: ActionRequest) -> ActionResult:
    """Acknowledge (value: the rule id) or snooze (value `RULE:CHOICE`, a bare rule id being a day). A refusal
    is a toast for the presser only (a reply would replace the alert message); on success the reply is the
    alert as it stands now, for the surface to put on the pressed message."""
    rule_text, _, choice = request.value.partition(":")
    if not rule_text.isdigit():
        return ActionResult(toast=T("missing_id", ctx.lang))
    if request.action_id == ACTION_ALERT_SNOOZE:
        choice = choice if choice in SNOOZE_CHOICES else DEFAULT_SNOOZE
    answer = answer_alert(ctx, int(rule_text), choice if request.action_id == ACTION_ALERT_SNOOZE else None,
                          pressed=request.message_id)
    if not answer.ok:
        return ActionResult(toast=answer.note)
    message = answer.message or Reply(title=answer.note, lang=ctx.lang, kind=ReplyKind.CONFIRMATION)
    return ActionResult(reply=message, toast=answer.note)


def target_form_spec(bot: KpiBot, lang: str) -> TargetFormSpec:
    kpis = [Option(kpi.id, kpi.label(lang)) for kpi in bot.registry.kpis.values()]
    scopes = [Option("team", T("team", lang))]
    scopes += [Option(f"role:{role.id}", role.label(lang)) for role in bot.registry.roles.values()]
    with bot.db.session() as session:  # shops declared or named by data, and each role within one
        shops = {key: shop.name for key, shop in bot.registry.shops.items()}
        shops |= {key: key for key in fact_repo.shops_with_data(session) if key not in shops}
    for key, name in sorted(shops.items()):
        scopes.append(Option(f"shop:{key}", name))
        scopes += [Option(f"shop:{key} role:{role.id}", f"{name} · {role.label(lang)}")
                   for role in bot.registry.roles.values()]
    scopes.append(Option("user", T("form_person_scope", lang)))
    periods = [Option(token, T(key, lang)) for token, key in FORM_PERIODS]
    labels = {FIELD_KPI: T("form_kpi", lang), FIELD_SCOPE: T("form_scope", lang), FIELD_USER: T("form_user", lang),
              FIELD_PERIOD: T("form_period", lang), FIELD_VALUE: T("form_value", lang)}
    return TargetFormSpec(title=T("form_title", lang), submit_label=T("form_submit", lang), labels=labels, kpis=kpis,
                          scopes=scopes, periods=periods, value_placeholder=T("form_value_placeholder", lang))


def home(bot: KpiBot, user: UserRef, lang: str) -> Reply:
    """The App Home: my KPIs this week and this month, my roles, and buttons."""
    ctx = bot.context(user, lang)
    with bot.db.session() as session:
        member = identity.find_member(session, user)
        roles = member_repo.roles_of(session, member.id) if member and member.id else []
        admin = identity.is_admin(session, bot.settings, user)
    actions = [Action(ACTION_ME, T("button_me", lang), "month", style="primary")]
    if admin:
        actions.append(Action(ACTION_OPEN_TARGET_FORM, T("button_set_target", lang), "form"))
    if member is None or not roles:
        name = member.display_name or member.key if member else ""
        text = T("unknown_me", lang) if member is None else T("me_no_roles", lang, name=name)
        return Reply(title=T("home_title", lang), lang=lang, text=text, actions=actions)
    today = bot.engine.today()
    tables = []
    footnotes: list[str] = []
    for period in (bot.engine.calendar.week(today), bot.engine.calendar.month(today)):
        part = reading.member_kpis_reply(ctx, member.key, roles, period, period_label(period, lang))
        tables.extend(_titled(part.tables, period_label(period, lang)))
        footnotes.extend(note for note in part.footnotes if note not in footnotes)
    role_names = ", ".join(ctx.role_label(r) for r in roles)
    return Reply(title=T("home_title", lang), lang=lang, text=T("home_role", lang, roles=role_names), tables=tables,
                 footnotes=footnotes, actions=actions)


def _titled(tables: list, title: str) -> list:
    from dataclasses import replace

    return [replace(table, title=title) for table in tables]
