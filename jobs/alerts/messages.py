"""What alerts say: fired, still firing (reminder), resolved — in English and Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from jobs.alerts.conditions import Observation
from jobs.alerts.snoozing import SNOOZE_CHOICES
from jobs.present.formatting import day_label, kpi_value, percent, period_label
from jobs.present.i18n import Catalog
from jobs.present.reply import Action, Figure, Mark, Reply, ReplyKind, Table
from jobs.present.status import status_figures
from storage.kpi.registry import KpiDef, Registry
from storage.models import AlertRule

# The same ids as bot.core.contracts (jobs/ may not import bot/): adapters route the buttons back by them.
ACTION_ALERT_ACK = "alert.ack"
ACTION_ALERT_SNOOZE = "alert.snooze"

T = Catalog({
    "fired": ("Alert · {condition} · {scope}", "告警 · {condition} · {scope}"),
    "reminder": ("Still firing · {condition} · {scope}", "仍在告警 · {condition} · {scope}"),
    "resolved": ("Resolved · {condition} · {scope}", "已恢复 · {condition} · {scope}"),
    "value_condition": ("{kpi} {op} {threshold} for {days} day(s)", "{kpi} {op} {threshold}（连续 {days} 天）"),
    "stoploss_condition": ("{kpi} {op} {threshold} once {guard} {guard_op} {guard_threshold} today",
                           "{kpi} {op} {threshold}（今天{guard} {guard_op} {guard_threshold} 时）"),
    "pace_condition": ("{kpi} pace {op} {threshold}", "{kpi} 进度达成率 {op} {threshold}"),
    "team": ("team", "团队"),
    "latest": ("Latest ({day})", "最新（{day}）"),
    "threshold": ("Threshold", "阈值"),
    "day": ("Day", "日期"),
    "value": ("Value", "数值"),
    "since": ("Firing since {time}", "自 {time} 起告警"),
    "was_since": ("Was firing since {time}", "告警始于 {time}"),
    "month": ("Month to date: {period}", "本月至今：{period}"),
    "through": ("Data through {day}", "数据截至 {day}"),
    "ack": ("Acknowledge", "知道了"),
    "snooze_1h": ("Snooze 1 hour", "暂停 1 小时"),
    "snooze_1d": ("Snooze 1 day", "暂停 1 天"),
    "snooze_1w": ("Snooze 1 week", "暂停 1 周"),
    "snooze_monday": ("Until Monday", "暂停到周一"),
    "status_acknowledged": ("Acknowledged by {user}: no more reminders until it clears.",
                            "{user} 已确认：恢复前不再提醒。"),
    "status_snoozed": ("Snoozed by {user} until {time}: no reminders until then.",
                       "{user} 已暂停提醒至 {time}，在此之前不再提醒。"),
    "status_snoozed_anon": ("Snoozed until {time}: no reminders until then.", "已暂停提醒至 {time}，在此之前不再提醒。"),
    "status_resolved": ("Resolved {time}.", "已于 {time} 恢复。"),
    "reference_hint": ("Acknowledge or snooze on the alert's card, or `alert ack {id}` / `alert snooze {id} 1d`.",
                       "可在该告警卡片上点“知道了”或暂停，或发送 `预警 确认 {id}` / `预警 暂停 {id} 1天`。"),
    "in_thread_hint": ("Acknowledge or snooze on the alert above, or `alert ack {id}` / `alert snooze {id} 1d`.",
                       "可在上方告警上点“知道了”或暂停，或发送 `预警 确认 {id}` / `预警 暂停 {id} 1天`。"),
    "about": ("Re: alert #{id} ({condition} · {scope}), posted {time}.",
              "关于告警 #{id}（{condition} · {scope}），发于 {time}。"),
    "stoploss_hint": ("Stop-loss: posted at most once a day per rule, on today's data so far.",
                      "止损预警：按今天截至目前的数据，每条规则每天最多提醒一次。"),
    "guard_today": ("{guard} today", "今日{guard}"),
    "hint": ("Reminders every {hours} h while it stays true; acknowledge to stop them until it clears, or snooze "
             "them. By chat: `alert ack {id}`, `alert snooze {id} 1h|1d|1w|monday`.",
             "条件持续期间每 {hours} 小时提醒一次；点“知道了”后恢复前不再提醒，也可暂停提醒。"
             "也可发送：`预警 确认 {id}`、`预警 暂停 {id} 1小时|1天|1周|到周一`。"),
    "rule": ("#{id} {condition} · {scope} → {channel}", "#{id} {condition} · {scope} → {channel}"),
})


@dataclass(frozen=True)
class AlertView:
    """Everything a message needs besides the observation."""

    rule: AlertRule
    kpi: KpiDef
    scope_label: str
    lang: str
    currency: str
    tz: tzinfo
    guard: KpiDef | None = None  # stoploss mode: the KPI whose volume today arms the rule


def scope_label(rule: AlertRule, registry: Registry, names: dict[str, str], lang: str) -> str:
    if rule.scope_kind in ("role", "member"):
        role = registry.roles.get(rule.scope_key)
        if rule.scope_kind == "role":
            whose = role.label(lang) if role else rule.scope_key
        else:
            whose = names.get(rule.scope_key, rule.scope_key)
        if not rule.shop:
            return whose
        shop = registry.shops.get(rule.shop)  # a role or member inside one shop
        return f"{whose} · {shop.name if shop else rule.shop}"
    if rule.scope_kind == "shop":
        shop = registry.shops.get(rule.scope_key)
        return shop.name if shop else rule.scope_key
    return T("team", lang)


def condition_text(rule: AlertRule, kpi: KpiDef, lang: str, currency: str, guard: KpiDef | None = None) -> str:
    if rule.mode == "unusual":
        from jobs.analysis.messages import T as REVIEW_T

        return REVIEW_T("alert_unusual_condition", lang, kpi=kpi.label(lang))
    if rule.mode == "pace":
        return T("pace_condition", lang, kpi=kpi.label(lang), op=rule.op, threshold=percent(rule.threshold))
    threshold = kpi_value(rule.threshold, kpi.unit, currency, lang)
    if rule.mode == "stoploss" and rule.guard_threshold is not None:
        guard_threshold = kpi_value(rule.guard_threshold, guard.unit if guard else "count", currency, lang)
        return T("stoploss_condition", lang, kpi=kpi.label(lang), op=rule.op, threshold=threshold,
                 guard=guard.label(lang) if guard else rule.guard_kpi, guard_op=rule.guard_op,
                 guard_threshold=guard_threshold)
    return T("value_condition", lang, kpi=kpi.label(lang), op=rule.op, threshold=threshold, days=rule.days)


def rule_summary(rule: AlertRule, registry: Registry, names: dict[str, str], lang: str, currency: str) -> str:
    """One line for `alert list`: `#3 ROAS < 2.00 for 3 day(s) · team → slack:C123`."""
    kpi = registry.kpis.get(rule.kpi)
    guard = registry.kpis.get(rule.guard_kpi) if rule.guard_kpi else None
    condition = condition_text(rule, kpi, lang, currency, guard) if kpi else f"{rule.kpi} {rule.op} {rule.threshold}"
    return T("rule", lang, id=rule.id, condition=condition, scope=scope_label(rule, registry, names, lang),
             channel=rule.channel)


@dataclass(frozen=True)
class AlertStatus:
    """What the original alert message says about its episode now (it is updated as this changes)."""

    kind: str = "firing"  # firing | acknowledged | snoozed | resolved
    by: str | None = None  # who acknowledged or snoozed (a display name)
    until: datetime | None = None  # snoozed until
    at: datetime | None = None  # resolved at


FIRING = AlertStatus()

# Where a reminder or resolved notice goes: in the original's thread (Slack, Feishu), as a new message
# that names the original (DingTalk: groups have no threads), or standalone when the original's message
# id is unknown (sent before ids were kept, or its send failed) — then it names the alert and has buttons.
THREAD, REFERENCE, STANDALONE = "thread", "reference", "standalone"


def fired_reply(view: AlertView, obs: Observation) -> Reply:
    return original_reply(view, obs, FIRING)


def original_reply(view: AlertView, obs: Observation, status: AlertStatus) -> Reply:
    """The alert message as first posted (status firing), and as it is updated once acknowledged, snoozed
    or resolved: the latest figures, a status line, and buttons while reminders can still come."""
    if status.kind == "resolved":
        reply = _base(view, obs, "resolved", Mark.ON_TRACK)
    else:
        reply = _base(view, obs, "fired", Mark.AT_RISK if status.kind == "acknowledged" else Mark.OFF_TRACK)
    if view.rule.mode == "stoploss":  # no episode: nothing to acknowledge or snooze, no reminders
        if view.guard is not None:
            reply.figures.append(Figure(T("guard_today", view.lang, guard=view.guard.label(view.lang)),
                                        kpi_value(obs.guard_value, view.guard.unit, view.currency, view.lang)))
        reply.footnotes.append(T("stoploss_hint", view.lang))
        return reply
    line = status_line(view, status)
    if line:
        reply.footnotes.insert(0, line)
    if status.kind in ("firing", "snoozed"):
        reply.actions = buttons(view)
        reply.footnotes.append(T("hint", view.lang, hours=f"{view.rule.cooldown_hours:g}", id=view.rule.id))
    return reply


def status_line(view: AlertView, status: AlertStatus) -> str | None:
    lang = view.lang
    if status.kind == "acknowledged":
        return T("status_acknowledged", lang, user=status.by or "?")
    if status.kind == "snoozed" and status.until is not None:
        when = until_text(status.until, view.tz, lang)
        if status.by:
            return T("status_snoozed", lang, user=status.by, time=when)
        return T("status_snoozed_anon", lang, time=when)
    if status.kind == "resolved" and status.at is not None:
        return T("status_resolved", lang, time=_when(status.at, view.tz))
    return None


def reminder_reply(view: AlertView, obs: Observation, since: datetime, where: str = STANDALONE) -> Reply:
    """In the thread: the title, the latest value and how to answer. Elsewhere it names the original;
    standalone it is the whole alert again, with its buttons."""
    reply = _base(view, obs, "reminder", Mark.OFF_TRACK, compact=where != STANDALONE)
    reply.footnotes.insert(0, T("since", view.lang, time=_when(since, view.tz)))
    if where == STANDALONE:
        reply.actions = buttons(view)
    else:
        reply.footnotes.append(T("in_thread_hint" if where == THREAD else "reference_hint", view.lang,
                                 id=view.rule.id))
    if where != THREAD:
        reply.text = _about(view, since)
    return reply


def resolved_reply(view: AlertView, obs: Observation, since: datetime | None, where: str = STANDALONE) -> Reply:
    reply = _base(view, obs, "resolved", Mark.ON_TRACK, compact=where != STANDALONE)
    if since is not None:
        reply.footnotes.insert(0, T("was_since", view.lang, time=_when(since, view.tz)))
        if where != THREAD:
            reply.text = _about(view, since)
    return reply


def _about(view: AlertView, since: datetime) -> str:
    condition = condition_text(view.rule, view.kpi, view.lang, view.currency, view.guard)
    return T("about", view.lang, id=view.rule.id, condition=condition, scope=view.scope_label,
             time=_when(since, view.tz))


def _base(view: AlertView, obs: Observation, title_key: str, mark: Mark, *, compact: bool = False) -> Reply:
    """Title, the latest value and the threshold; `compact` (a reply under the alert) leaves out the
    day-by-day table the alert itself shows."""
    lang, kpi = view.lang, view.kpi
    condition = condition_text(view.rule, kpi, lang, view.currency, view.guard)
    reply = Reply(title=T(title_key, lang, condition=condition, scope=view.scope_label), lang=lang,
                  kind=ReplyKind.NOTICE, mark=mark, public=True)
    if view.rule.mode == "pace" and obs.status is not None:
        reply.figures = status_figures(obs.status, lang, view.currency)
        reply.footnotes.append(T("month", lang, period=period_label(obs.status.period, lang)))
    else:
        if obs.daily:
            last_day, last_value = obs.daily[-1]
            reply.figures.append(Figure(T("latest", lang, day=day_label(last_day)),
                                        kpi_value(last_value, kpi.unit, view.currency, lang), mark))
        reply.figures.append(Figure(T("threshold", lang),
                                    f"{view.rule.op} {kpi_value(view.rule.threshold, kpi.unit, view.currency, lang)}"))
        if len(obs.daily) > 1 and not compact:
            reply.tables.append(Table(
                columns=[T("day", lang), T("value", lang)],
                rows=[[day_label(day), kpi_value(value, kpi.unit, view.currency, lang)] for day, value in obs.daily],
            ))
    if obs.data_through is not None:
        reply.footnotes.append(T("through", lang, day=day_label(obs.data_through)))
    return reply


def buttons(view: AlertView) -> list[Action]:
    """Acknowledge, and one snooze button per choice (value `RULE:CHOICE`; a bare `RULE` is a day)."""
    rule_id = str(view.rule.id)
    return [Action(ACTION_ALERT_ACK, T("ack", view.lang), rule_id, "primary"),
            *(Action(ACTION_ALERT_SNOOZE, T(f"snooze_{choice}", view.lang), f"{rule_id}:{choice}")
              for choice in SNOOZE_CHOICES)]


WEEKDAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日")}


def until_text(moment: datetime, tz: tzinfo, lang: str) -> str:
    """`Mon 2026-11-30 09:00 CST` / `2026-11-30（周一）09:00 CST`: the weekday matters for a snooze."""
    local = moment.astimezone(tz)
    day = WEEKDAYS["zh" if lang == "zh" else "en"][local.weekday()]
    zone = local.tzname() or ""
    if lang == "zh":
        return f"{local:%Y-%m-%d}（{day}）{local:%H:%M} {zone}".strip()
    return f"{day} {local:%Y-%m-%d %H:%M} {zone}".strip()


def _when(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()
