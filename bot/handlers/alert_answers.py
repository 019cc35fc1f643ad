"""Answering an alert: acknowledge (no reminders until it clears) or snooze (1 hour, 1 day, 1 week, until
Monday 09:00 in the team's zone), by button on Slack, Feishu and DingTalk, or by chat anywhere:
`alert ack 3`, `alert snooze 3 1w` / `预警 确认 3`, `预警 暂停 3 到周一`.

Who may: any known member of the team (a chat account linked to a data member) or an admin; anyone else
is refused and the alert stays as it is. Every answer, accepted or refused, is audited. The original
alert message is updated to say who did what (jobs/alerts/original.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core import identity
from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, Subcommand
from jobs.alerts import DEFAULT_SNOOZE, acknowledge, refresh_original, snooze, snooze_until
from jobs.alerts.messages import until_text
from jobs.present.reply import Reply, ReplyKind
from storage.models import AlertState
from storage.repositories import alerts as alert_repo
from storage.repositories import audit as audit_repo

# Every way to say each snooze, English and Chinese (spaces removed before matching: `1 hour` = `1hour`).
SNOOZE_WORDS = {
    **dict.fromkeys(("1h", "1hour", "1hr", "an hour", "hour", "1小时", "一小时", "1个小时", "一个小时", "1钟头"), "1h"),
    **dict.fromkeys(("1d", "1day", "day", "aday", "tomorrow", "1天", "一天", "明天"), "1d"),
    **dict.fromkeys(("1w", "1week", "week", "aweek", "1周", "一周", "1星期", "一星期", "1个星期", "一个星期"), "1w"),
    **dict.fromkeys(("monday", "mon", "untilmonday", "tillmonday", "nextmonday", "周一", "到周一", "下周一",
                     "到下周一", "星期一", "到星期一"), "monday"),
}


@dataclass(frozen=True)
class AlertAck(c.Command):
    rule_id: int


@dataclass(frozen=True)
class AlertSnooze(c.Command):
    rule_id: int
    choice: str = DEFAULT_SNOOZE


@dataclass(frozen=True)
class AlertAnswer:
    """What answering did: `note` for the person (their language); `message` the alert as it stands now
    (the rule's language) for the surface to put on the message a button was pressed on."""

    ok: bool
    note: str
    message: Reply | None = None
    refused: bool = False  # not a member or admin
    not_firing: bool = False  # nothing to answer now (else a failure: no such alert)


def answer_alert(ctx: Context, rule_id: int, choice: str | None, *, pressed: str | None = None) -> AlertAnswer:
    """Acknowledge (`choice` None) or snooze alert `rule_id`. `pressed`: the platform id of the message whose
    button was pressed (the surface updates it; the original, if another message, is updated here)."""
    action = "alert.ack" if choice is None else "alert.snooze"
    subject = f"alert #{rule_id}"
    with ctx.session() as session:
        if not may_answer_alerts(ctx):
            audit_repo.record(session, ctx.actor, action, subject, outcome="refused")
            return AlertAnswer(False, ctx.t("alert_button_refused"), refused=True)
    services = ctx.services
    with ctx.session() as session:
        rule, state = alert_repo.get_rule(session, rule_id), alert_repo.get_state(session, rule_id)
        if rule is None or not rule.active:
            return AlertAnswer(False, ctx.t("alert_unknown", id=rule_id))
        if state is None or state.state != "firing":  # an episode's answer: the next one starts afresh
            return AlertAnswer(False, ctx.t("alert_not_firing", id=rule_id), not_firing=True)
    who = str(ctx.actor)
    name = ctx.user_label(ctx.user)
    now = services.clock()
    until = snooze_until(choice, now, services.engine.tz) if choice is not None else None
    done = acknowledge(services.db, rule_id, who) if until is None else snooze(services.db, rule_id, who,
                                                                               until=until)
    if not done:
        return AlertAnswer(False, ctx.t("alert_unknown", id=rule_id))
    with ctx.session() as session:
        audit_repo.record(session, ctx.actor, action, subject,
                          new="acknowledged" if until is None else f"snoozed until {until.isoformat()} ({choice})")
    message = refresh_original(services.db, services.engine, services.registry, services.outboxes, rule_id,
                               currency=services.settings.currency, by=name, skip_message_id=pressed, now=now)
    if until is None:
        return AlertAnswer(True, ctx.t("alert_ack", user=name, id=rule_id), message)
    when = until_text(until, services.engine.tz, ctx.lang)
    return AlertAnswer(True, ctx.t("alert_snoozed", user=name, id=rule_id, time=when), message)


def alert_state_text(ctx: Context, state: AlertState | None) -> str:
    """`alert list`'s state column: clear, or firing since when, and acknowledged / snoozed until when."""
    if state is None or state.state != "firing" or state.since is None:
        return ctx.t("alert_state_clear")
    tz = ctx.services.engine.tz
    text = ctx.t("alert_state_firing", time=f"{state.since.astimezone(tz):%Y-%m-%d %H:%M}")
    if state.acknowledged_by:
        return text + ctx.t("alert_state_acknowledged")
    if state.snoozed_until is not None and state.snoozed_until > ctx.services.clock():
        return text + ctx.t("alert_state_snoozed", time=until_text(state.snoozed_until, tz, ctx.lang))
    return text


def may_answer_alerts(ctx: Context) -> bool:
    """Acknowledge and snooze: any known member of the team (the directory links their chat account to a
    data member), or an admin. Changing alert rules stays admin-only."""
    with ctx.session() as session:
        return identity.find_member(session, ctx.user) is not None or identity.is_admin(
            session, ctx.services.settings, ctx.user)


def alert_ack(ctx: Context, cmd: AlertAck) -> Reply:
    return _reply(ctx, answer_alert(ctx, cmd.rule_id, None))


def alert_snooze(ctx: Context, cmd: AlertSnooze) -> Reply:
    return _reply(ctx, answer_alert(ctx, cmd.rule_id, cmd.choice))


def _reply(ctx: Context, answer: AlertAnswer) -> Reply:
    if answer.ok:
        return ctx.confirmation("alert_answered_title", answer.note)
    if answer.refused:
        return Reply(title=ctx.t("alert_refused_title"), lang=ctx.lang, kind=ReplyKind.REFUSAL, text=answer.note)
    if answer.not_firing:
        # A state, not a mistake: said plainly (like `digest resend` of a send that needs none).
        return Reply(title=ctx.t("alert_not_firing_title"), lang=ctx.lang, text=answer.note)
    return Reply(title=ctx.t("alert_unknown_title"), lang=ctx.lang, kind=ReplyKind.ERROR, text=answer.note)


def read_alert_ack(parser: Parser, words: list[str], request: CommandRequest) -> AlertAck:
    rule_id, rest = _rule_id(words)
    if rest:
        raise c.ParseError("unknown_word", {"word": rest[0], "suggestion": ""}, "alert")
    return AlertAck(rule_id=rule_id)


def read_alert_snooze(parser: Parser, words: list[str], request: CommandRequest) -> AlertSnooze:
    rule_id, rest = _rule_id(words)
    if not rest:
        return AlertSnooze(rule_id=rule_id)
    # As typed: the parser has already read `week` as this week and `2d` as two words.
    typed = re.search(rf"#?{rule_id}(?!\d)\s*(.*?)\s*$", request.text)
    said = typed.group(1) if typed and typed.group(1) else " ".join(rest)
    choice = SNOOZE_WORDS.get(re.sub(r"\s+", "", said.lower()))
    if choice is None:
        raise c.ParseError("bad_snooze", {"word": said}, "alert")
    return AlertSnooze(rule_id=rule_id, choice=choice)


def _rule_id(words: list[str]) -> tuple[int, list[str]]:
    if not words or not words[0].lstrip("#").isdigit():
        raise c.ParseError("missing_alert_id", {}, "alert")
    return int(words[0].lstrip("#")), list(words[1:])


ALERT_ANSWER_COMMANDS = (
    Subcommand(AlertAck, read_alert_ack, alert_ack, name="ack", words=("acknowledge", "确认", "知道了"),
               usage=Bilingual("alert ack ID (team members and admins)", "预警 确认 编号（团队成员和管理员）")),
    Subcommand(AlertSnooze, read_alert_snooze, alert_snooze, name="snooze", words=("暂停", "稍后提醒"),
               usage=Bilingual("alert snooze ID [1h|1d|1w|monday] (default 1d; monday: Monday 09:00, team time)",
                               "预警 暂停 编号 [1小时|1天|1周|到周一]（默认 1天；到周一：团队时区周一 09:00）")),
)
