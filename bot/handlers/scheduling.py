"""Alerts and digest subscriptions (writes are admin-only and audited); `digest now`."""

from __future__ import annotations

from bot.handlers.context import Context
from bot.language import commands as c
from jobs.present.formatting import percent
from jobs.present.reply import Reply, ReplyKind, Table
from storage.kpi.scope import Scope
from storage.models import AlertRule, DigestSubscription
from storage.repositories import alerts as alert_repo
from storage.repositories import audit as audit_repo
from storage.repositories import subscriptions as subscription_repo


def invalid(ctx: Context, error: ValueError) -> Reply:
    """The repositories' last word on a schedule or rule (their messages name the field)."""
    return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=str(error))


def rule_text(ctx: Context, rule: AlertRule, scope_label: str) -> str:
    if rule.mode == "pace":
        return ctx.t("rule_pace", kpi=ctx.kpi_label(rule.kpi), scope=scope_label, value=percent(rule.threshold))
    return ctx.t("rule_value", kpi=ctx.kpi_label(rule.kpi), scope=scope_label, op=rule.op,
                 value=ctx.value(rule.kpi, rule.threshold), days=rule.days)


def alert_add(ctx: Context, cmd: c.AlertAdd) -> Reply:
    channel = cmd.channel or ctx.channel
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        what = f"alert {cmd.kpi} {scope} {cmd.mode} {cmd.op} {cmd.value.value}"
        if refusal := ctx.refuse_unless_admin(session, "alert", "alert.add", what):
            return refusal
        if channel is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("no_channel"))
        try:
            rule = alert_repo.add_rule(
                session, kpi=cmd.kpi, scope_kind=scope.kind, scope_key=scope.key, mode=cmd.mode, op=cmd.op,
                threshold=cmd.value.value, days=cmd.days, channel=f"{ctx.user.platform}:{channel}", lang=ctx.lang,
                created_by=str(ctx.actor),
            )
        except ValueError as error:
            return invalid(ctx, error)
        audit_repo.record(session, ctx.actor, "alert.add", f"alert #{rule.id}", new=what)
        text = ctx.t("alert_added", id=rule.id, rule=rule_text(ctx, rule, ctx.scope_label(scope, session)),
                     channel=channel)
    ctx.bot.schedule_changed()
    return ctx.confirmation("alert_added_title", text)


def alert_list(ctx: Context, cmd: c.AlertList) -> Reply:
    with ctx.session() as session:
        rules = alert_repo.list_rules(session)
        body = []
        for rule in rules:
            label = ctx.scope_label(Scope(rule.scope_kind, rule.scope_key), session)  # type: ignore[arg-type]
            body.append([f"#{rule.id}", rule_text(ctx, rule, label), rule.channel])
    if not rules:
        return Reply(title=ctx.t("alerts_title"), lang=ctx.lang, text=ctx.t("alerts_empty"))
    table = Table([ctx.t("col_id"), ctx.t("col_rule"), ctx.t("col_channel")], body)
    return Reply(title=ctx.t("alerts_title"), lang=ctx.lang, tables=[table])


def alert_remove(ctx: Context, cmd: c.AlertRemove) -> Reply:
    with ctx.session() as session:
        if refusal := ctx.refuse_unless_admin(session, "alert", "alert.rm", f"alert #{cmd.rule_id}"):
            return refusal
        rule = alert_repo.deactivate_rule(session, cmd.rule_id)
        if rule is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("alert_unknown", id=cmd.rule_id))
        audit_repo.record(session, ctx.actor, "alert.rm", f"alert #{rule.id}", old="active", new="removed")
    ctx.bot.schedule_changed()
    return ctx.confirmation("alert_removed_title", ctx.t("alert_removed", id=cmd.rule_id))


ZH_WEEKDAYS = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六", "sun": "日"}


def schedule_text(ctx: Context, sub: DigestSubscription) -> str:
    if sub.cadence == "monthly":
        return ctx.t("monthly_at", day=sub.day, time=sub.time)
    day = ZH_WEEKDAYS.get(sub.day, sub.day) if ctx.lang == "zh" else sub.day
    return ctx.t("weekly_at", day=day, time=sub.time)


def digest_subscribe(ctx: Context, cmd: c.DigestSubscribe) -> Reply:
    channel = cmd.channel or ctx.channel
    with ctx.session() as session:
        what = f"digest {channel} {cmd.cadence} {cmd.day} {cmd.time}"
        if refusal := ctx.refuse_unless_admin(session, "digest", "digest.subscribe", what):
            return refusal
        if channel is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("no_channel"))
        try:
            sub = subscription_repo.add_subscription(
                session, platform=ctx.user.platform, channel=channel, cadence=cmd.cadence, day=cmd.day,
                time=cmd.time, timezone=ctx.bot.settings.timezone, lang=ctx.lang, created_by=str(ctx.actor),
            )
        except ValueError as error:
            return invalid(ctx, error)
        audit_repo.record(session, ctx.actor, "digest.subscribe", f"digest #{sub.id}", new=what)
        text = ctx.t("digest_subscribed", id=sub.id, schedule=schedule_text(ctx, sub), tz=sub.timezone,
                     channel=channel)
    ctx.bot.schedule_changed()
    return ctx.confirmation("digest_subscribed_title", text)


def digest_list(ctx: Context, cmd: c.DigestList) -> Reply:
    with ctx.session() as session:
        subs = subscription_repo.list_subscriptions(session)
    if not subs:
        return Reply(title=ctx.t("digests_title"), lang=ctx.lang, text=ctx.t("digests_empty"))
    body = [[f"#{s.id}", f"{s.platform}:{s.channel}", f"{schedule_text(ctx, s)} ({s.timezone})", s.lang] for s in subs]
    table = Table([ctx.t("col_id"), ctx.t("col_channel"), ctx.t("col_schedule"), ctx.t("col_lang")], body)
    return Reply(title=ctx.t("digests_title"), lang=ctx.lang, tables=[table])


def digest_unsubscribe(ctx: Context, cmd: c.DigestUnsubscribe) -> Reply:
    with ctx.session() as session:
        what = f"digest #{cmd.subscription_id}"
        if refusal := ctx.refuse_unless_admin(session, "digest", "digest.unsubscribe", what):
            return refusal
        sub = subscription_repo.deactivate_subscription(session, cmd.subscription_id)
        if sub is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("digest_unknown", id=cmd.subscription_id))
        audit_repo.record(session, ctx.actor, "digest.unsubscribe", what, old="active", new="removed")
    ctx.bot.schedule_changed()
    return ctx.confirmation("digest_removed_title", ctx.t("digest_removed", id=cmd.subscription_id))


def digest_now(ctx: Context, cmd: c.DigestNow) -> Reply:
    channel = cmd.channel or ctx.channel
    if channel is None:
        return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("no_channel"))
    sent = ctx.bot.send_digest_now(ctx.user.platform, channel, ctx.lang)
    if sent is None:
        return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=ctx.t("digest_unavailable"))
    return ctx.confirmation("digest_sent_title", ctx.t("digest_sent", channel=channel))
