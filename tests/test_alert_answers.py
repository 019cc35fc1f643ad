"""Acknowledge and snooze by chat (`alert ack 3`, `预警 暂停 3 到周一`), who may, what is audited, the snooze
ends computed by hand in the team's zone, and the alert's follow-ups as each platform renders them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.dingtalk.render import reply_markdown
from bot.feishu.cards import reply_card
from bot.slack.blocks import message_payload
from bot.testing import TestAdapter
from jobs.alerts.conditions import Observation
from jobs.alerts.messages import (
    REFERENCE,
    STANDALONE,
    THREAD,
    AlertStatus,
    AlertView,
    original_reply,
    reminder_reply,
    resolved_reply,
)
from jobs.alerts.snoozing import snooze_until
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.registry import load_registry
from storage.models import AlertRule, AlertState, AuditEntry
from storage.repositories import alerts as alert_repo
from tests.conversation_fixture import conversation_team

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# -- the snooze ends, by hand ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "now", "tz", "expected"),
    [
        ("1h", utc(2026, 11, 23, 10), SHANGHAI, utc(2026, 11, 23, 11)),
        ("1d", utc(2026, 11, 23, 10), SHANGHAI, utc(2026, 11, 24, 10)),
        ("1w", utc(2026, 11, 23, 10), SHANGHAI, utc(2026, 11, 30, 10)),
        # Sun 2026-11-29 10:00 UTC = Sun 18:00 CST → Mon 2026-11-30 09:00 CST = 01:00 UTC.
        ("monday", utc(2026, 11, 29, 10), SHANGHAI, utc(2026, 11, 30, 1)),
        # Sun 2026-11-29 20:00 UTC is already Mon 04:00 CST: the NEXT Monday, 12-07 09:00 CST = 01:00 UTC.
        ("monday", utc(2026, 11, 29, 20), SHANGHAI, utc(2026, 12, 7, 1)),
        # Mon 2026-11-30 00:30 UTC = Mon 08:30 CST, before 09:00: still the Monday after (never today).
        ("monday", utc(2026, 11, 30, 0, 30), SHANGHAI, utc(2026, 12, 7, 1)),
        # Fri 2026-10-30 in Los Angeles is PDT (UTC−7); DST ends Sun 11-01, so Mon 11-02 09:00 is PST (UTC−8):
        # 09:00 + 8 h = 17:00 UTC (not 16:00, as the same offset as Friday would give).
        ("monday", utc(2026, 10, 30, 20), LOS_ANGELES, utc(2026, 11, 2, 17)),
    ],
)
def test_snooze_ends(choice: str, now: datetime, tz: ZoneInfo, expected: datetime) -> None:
    assert snooze_until(choice, now, tz) == expected


def test_an_unknown_snooze_is_refused() -> None:
    with pytest.raises(ValueError, match="1h, 1d, 1w, monday"):
        snooze_until("2d", utc(2026, 11, 23), SHANGHAI)


# -- by chat -------------------------------------------------------------------------------------------------


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    adapter = conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com", KPIBOT_TIMEZONE="Asia/Shanghai"))
    adapter.core.services.clock = lambda: utc(2026, 11, 20, 2)  # Fri 2026-11-20 10:00 CST
    return adapter


def add_rule(db: Database, *, firing: bool = True) -> int:
    """Team GMV < $5,000 for a day, firing since Fri 2026-11-20 01:00 UTC (09:00 CST) unless `firing` is False."""
    with db.session() as session:
        rule = alert_repo.add_rule(session, kpi="gmv", scope_kind="team", scope_key="", mode="value", op="<",
                                   threshold=5000, days=1, channel="file:alerts", lang="en", created_by="boss")
        assert rule.id is not None
        if firing:
            session.add(AlertState(rule_id=rule.id, state="firing", since=utc(2026, 11, 20, 1)))
        return rule.id


def state(db: Database, rule_id: int) -> AlertState | None:
    with db.session() as session:
        return session.get(AlertState, rule_id)


def audits(db: Database, action: str) -> list[tuple[str | None, str, str | None, str]]:
    with db.session() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id)))
        return [(r.actor_email, r.subject, r.new, r.outcome) for r in rows]


@pytest.mark.parametrize(
    ("text", "until", "said"),
    [
        ("alert snooze {id} 1h", utc(2026, 11, 20, 3), "until Fri 2026-11-20 11:00 CST"),
        ("alert snooze {id}", utc(2026, 11, 21, 2), "until Sat 2026-11-21 10:00 CST"),  # a day by default
        ("alert snooze {id} 1 week", utc(2026, 11, 27, 2), "until Fri 2026-11-27 10:00 CST"),
        ("alert snooze {id} until monday", utc(2026, 11, 23, 1), "until Mon 2026-11-23 09:00 CST"),
        ("预警 暂停 {id} 1小时", utc(2026, 11, 20, 3), "至 2026-11-20（周五）11:00 CST"),
        ("预警 暂停 {id} 1天", utc(2026, 11, 21, 2), "至 2026-11-21（周六）10:00 CST"),
        ("预警 暂停 {id} 1周", utc(2026, 11, 27, 2), "至 2026-11-27（周五）10:00 CST"),
        ("预警 暂停 {id} 到周一", utc(2026, 11, 23, 1), "至 2026-11-23（周一）09:00 CST"),
    ],
)
def test_snooze_by_chat_in_both_languages(chat: TestAdapter, db: Database, text: str, until: datetime,
                                          said: str) -> None:
    rule_id = add_rule(db)
    reply = chat.ask(text.format(id=rule_id), as_user="hana")
    assert reply.kind == ReplyKind.CONFIRMATION, reply.text
    assert said in (reply.text or "")
    found = state(db, rule_id)
    assert found is not None and found.snoozed_until == until
    assert audits(db, "alert.snooze")[0][1:] == (f"alert #{rule_id}", f"snoozed until {until.isoformat()}"
                                                 f" ({'1d' if text.endswith('{id}') else _choice(text)})", "ok")


def _choice(text: str) -> str:
    for words, choice in (("1h 1小时", "1h"), ("1天", "1d"), ("week 1周", "1w"), ("monday 到周一", "monday")):
        if any(text.endswith(w) for w in words.split()):
            return choice
    raise AssertionError(text)


def test_acknowledge_by_chat_in_both_languages(chat: TestAdapter, db: Database) -> None:
    rule_id = add_rule(db)
    english = chat.ask(f"alert ack {rule_id}", as_user="hana")
    assert english.text == f"Alert #{rule_id} acknowledged by hana: no more reminders until it clears."
    chinese = chat.ask(f"预警 确认 {rule_id}", as_user="hugo")
    assert chinese.text == f"hugo 已确认告警 #{rule_id}：恢复前不再提醒。"
    found = state(db, rule_id)
    assert found is not None and found.acknowledged_by == "h2@shop.com"
    assert [a[0] for a in audits(db, "alert.ack")] == ["h1@shop.com", "h2@shop.com"]


def test_someone_no_member_is_linked_to_is_refused_audited_and_nothing_changes(chat: TestAdapter,
                                                                                 db: Database) -> None:
    rule_id = add_rule(db)
    reply = chat.ask(f"alert snooze {rule_id} 1w", as_user="newbie")
    assert reply.kind == ReplyKind.REFUSAL
    assert reply.text == ("Only team members and admins can acknowledge or snooze alerts; your account is not "
                          "linked to a member yet.")
    found = state(db, rule_id)
    assert found is not None and found.snoozed_until is None
    assert audits(db, "alert.snooze") == [("new@shop.com", f"alert #{rule_id}", None, "refused")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alert snooze 1 2d", "Snooze for 1h, 1d, 1w or monday (until Monday 09:00, team time), not “2d”."),
        ("预警 暂停 1 三天", "暂停时长可选 1小时、1天、1周 或 到周一（团队时区周一 09:00），无法识别“三天”。"),
        ("alert ack", "Give the alert's number (`alert list` shows them), e.g. `alert ack 3`"),
        ("预警 确认 最新", "请给出告警编号（`预警 列表` 可查看），例如 `预警 确认 3`"),
        ("alert ack 1 now", "I don't understand “now”."),
        ("alert ack 99", "There is no active alert #99."),
    ],
)
def test_bad_answers_say_what_is_wrong_and_change_nothing(chat: TestAdapter, db: Database, text: str,
                                                          expected: str) -> None:
    add_rule(db)
    reply = chat.ask(text, as_user="hana")
    assert expected in (reply.text or ""), reply.text
    found = state(db, 1)
    assert found is None or (found.snoozed_until is None and found.acknowledged_by is None)


def test_help_lists_the_answers() -> None:
    from bot.handlers.scheduling import COMMANDS

    alert = next(group for group in COMMANDS if group.name == "alert")
    names = {sub.name: sub for sub in alert.subcommands}
    assert {"ack", "snooze"} <= set(names)
    assert "预警 暂停 编号 [1小时|1天|1周|到周一]" in names["snooze"].usage.zh  # type: ignore[union-attr]
    assert not names["ack"].admin and not names["snooze"].admin  # members may, checked in the handler


# -- the follow-ups as each platform shows them ------------------------------------------------------------


def view(lang: str) -> AlertView:
    registry = load_registry(None)
    rule = AlertRule(id=7, kpi="roas", scope_kind="team", op="<", threshold=2.0, days=2, channel="slack:C1",
                     lang=lang, created_by="boss")
    scope = "team" if lang == "en" else "团队"
    return AlertView(rule, registry.kpis["roas"], scope, lang, "USD", SHANGHAI)


OBS = Observation(holds=True, value=1.5, daily=[(date(2026, 11, 21), 1.8), (date(2026, 11, 22), 1.5)],
                  status=None, data_through=date(2026, 11, 22))
SINCE = utc(2026, 11, 23, 2)  # 10:00 CST


def slack_text(reply) -> str:  # type: ignore[no-untyped-def]
    import json

    return json.dumps(message_payload(reply)["blocks"], ensure_ascii=False)


def test_follow_ups_rendered_in_english() -> None:
    thread = reminder_reply(view("en"), OBS, SINCE, THREAD)
    blocks = slack_text(thread)
    assert "Still firing · ROAS < 2.00 for 2 day(s) · team" in blocks  # the header: plain text
    assert "Firing since 2026-11-23 10:00 CST" in blocks
    assert "Acknowledge or snooze on the alert above, or `alert ack 7` / `alert snooze 7 1d`." in blocks
    assert '"actions"' not in blocks and "Re: alert" not in blocks

    reference = reminder_reply(view("en"), OBS, SINCE, REFERENCE)
    title, text = reply_markdown(reference)
    assert title.startswith("Still firing")
    assert "Re: alert #7 (ROAS ＜ 2.00 for 2 day(s) · team), posted 2026-11-23 10:00 CST." in text

    standalone = reminder_reply(view("en"), OBS, SINCE, STANDALONE)
    assert [a.label for a in standalone.actions] == ["Acknowledge", "Snooze 1 hour", "Snooze 1 day",
                                                     "Snooze 1 week", "Until Monday"]

    snoozed = original_reply(view("en"), OBS, AlertStatus("snoozed", by="Mo", until=utc(2026, 11, 30, 1)))
    card = str(reply_card(snoozed))
    assert "Snoozed by Mo until Mon 2026-11-30 09:00 CST: no reminders until then." in card
    assert "Until Monday" in card

    resolved = resolved_reply(view("en"), OBS, SINCE, THREAD)
    assert resolved.title == "Resolved · ROAS < 2.00 for 2 day(s) · team" and resolved.actions == []
    assert resolved.tables == []  # the day-by-day table stays on the alert itself


def test_follow_ups_rendered_in_chinese() -> None:
    thread = reminder_reply(view("zh"), OBS, SINCE, THREAD)
    blocks = slack_text(thread)
    assert "仍在告警 · 投产比 < 2.00（连续 2 天） · 团队" in blocks
    assert "自 2026-11-23 10:00 CST 起告警" in blocks
    assert "可在上方告警上点“知道了”或暂停，或发送 `预警 确认 7` / `预警 暂停 7 1天`。" in blocks

    reference = resolved_reply(view("zh"), OBS, SINCE, REFERENCE)
    title, text = reply_markdown(reference)
    assert title.startswith("已恢复")
    assert "关于告警 #7（投产比 ＜ 2.00（连续 2 天） · 团队），发于 2026-11-23 10:00 CST。" in text
    assert "告警始于 2026-11-23 10:00 CST" in text

    acknowledged = original_reply(view("zh"), OBS, AlertStatus("acknowledged", by="王经理"))
    card = str(reply_card(acknowledged))
    assert "王经理 已确认：恢复前不再提醒。" in card and "暂停到周一" not in card
    resolved = original_reply(view("zh"), OBS, AlertStatus("resolved", at=utc(2026, 11, 26, 3)))
    assert resolved.title == "已恢复 · 投产比 < 2.00（连续 2 天） · 团队"
    assert "已于 2026-11-26 11:00 CST 恢复。" in resolved.footnotes


@pytest.mark.parametrize(
    ("text", "expected"),
    [("alert snooze {id} 1w", "Alert #{id} is not firing now, so there is nothing to acknowledge or snooze"),
     ("预警 确认 {id}", "告警 #{id} 当前未触发，无需确认或暂停")],
)
def test_an_alert_that_is_not_firing_has_nothing_to_answer(chat: TestAdapter, db: Database, text: str,
                                                          expected: str) -> None:
    """Acknowledgement and snooze belong to an episode (a new one starts afresh): said plainly, nothing kept."""
    rule_id = add_rule(db, firing=False)
    reply = chat.ask(text.format(id=rule_id), as_user="hana")
    assert (reply.text or "").startswith(expected.format(id=rule_id))
    assert state(db, rule_id) is None and audits(db, "alert.snooze") == audits(db, "alert.ack") == []


def test_an_old_snooze_button_without_a_choice_snoozes_a_day(chat: TestAdapter, db: Database) -> None:
    """Alerts posted before the choices had one Snooze button whose value is the rule id alone."""
    from bot.core.contracts import ACTION_ALERT_SNOOZE

    rule_id = add_rule(db)
    result = chat.act(ACTION_ALERT_SNOOZE, as_user="hana", value=str(rule_id))
    assert result.toast == f"Alert #{rule_id} snoozed by hana until Sat 2026-11-21 10:00 CST."
    assert result.reply is not None and result.reply.title.startswith("Alert · GMV < ")  # the alert, updated
    found = state(db, rule_id)
    assert found is not None and found.snoozed_until == utc(2026, 11, 21, 2)  # Fri 02:00 UTC + 24 h


def test_alert_list_shows_each_alerts_state(chat: TestAdapter, db: Database) -> None:
    firing, quiet = add_rule(db), add_rule(db, firing=False)  # firing since Fri 2026-11-20 01:00 UTC = 09:00 CST
    assert chat.ask(f"alert snooze {firing} 1h", as_user="hana").kind == ReplyKind.CONFIRMATION
    english = chat.ask("alert list", as_user="hana").tables[0]
    assert english.columns[-1] == "State"
    assert [row[-1] for row in english.rows] == [
        "firing since 2026-11-20 09:00 · snoozed until Fri 2026-11-20 11:00 CST", "clear"]  # 10:00 CST + 1 h
    chinese = chat.ask("预警 列表", as_user="hana").tables[0]
    assert [row[-1] for row in chinese.rows] == ["自 2026-11-20 09:00 起告警 · 暂停提醒至 2026-11-20（周五）11:00 CST",
                                                 "正常"]
    assert chat.ask(f"alert ack {firing}", as_user="hana").kind == ReplyKind.CONFIRMATION
    listed = chat.ask("alert list", as_user="hana").tables[0]
    assert listed.rows[0][-1] == "firing since 2026-11-20 09:00 · acknowledged"
    assert quiet != firing
