"""Alerts on a frozen clock: fire once, remind after the cooldown, silence, resolve once after staying clear."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import time_machine

from bot.core.contracts import ACTION_ALERT_ACK as BOT_ACK
from bot.core.contracts import ACTION_ALERT_SNOOZE as BOT_SNOOZE
from jobs.alerts import ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE, AlertRunner, acknowledge, rule_summary, snooze
from jobs.delivery import Deliverer, Outcome
from jobs.outbox import FileOutbox
from storage.db import Database
from storage.repositories import alerts as alert_repo
from storage.repositories import ledger
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import RecordingOutbox, make_engine, seed_review_fixture, utc


def spend(db: Database, day: date, value: float, metric: str = "ad_spend") -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, day, value, source="ads")])


def add_rule(db: Database, **overrides: object) -> int:
    values: dict[str, object] = {
        "kpi": "ad_spend", "scope_kind": "team", "scope_key": "", "mode": "value", "op": ">", "threshold": 5000,
        "days": 1, "channel": "slack:C9", "lang": "en", "created_by": "admin", "cooldown_hours": 24.0,
    }
    values.update(overrides)
    with db.session() as session:
        rule = alert_repo.add_rule(session, **values)  # type: ignore[arg-type]
        assert rule.id is not None
        return rule.id


def runner_for(db: Database, outboxes: dict[str, RecordingOutbox]) -> AlertRunner:
    engine = make_engine(db)
    return AlertRunner(db, engine, engine.registry, Deliverer(db, outboxes), currency="USD")


def evaluate_at(runner: AlertRunner, *moment: int) -> list[str]:
    with time_machine.travel(utc(*moment), tick=False):
        return [event.kind for event in runner.evaluate_all()]


def test_fires_once_reminds_after_cooldown_silent_when_acknowledged_resolves_once(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, {"slack": outbox})
    rule = add_rule(db)  # daily ad spend > $5,000 (a budget cap)
    spend(db, date(2026, 11, 22), 6000)
    assert evaluate_at(runner, 2026, 11, 23, 10) == ["alert"]  # yesterday: 6,000 > 5,000
    assert evaluate_at(runner, 2026, 11, 23, 11) == []  # still true, within the cooldown
    spend(db, date(2026, 11, 23), 7000)
    assert evaluate_at(runner, 2026, 11, 24, 9) == []  # 23 h since the alert
    assert evaluate_at(runner, 2026, 11, 24, 10) == ["alert_reminder"]  # 24 h
    assert evaluate_at(runner, 2026, 11, 24, 11) == []
    assert acknowledge(db, rule, "slack:U1") is True
    spend(db, date(2026, 11, 24), 8000)
    assert evaluate_at(runner, 2026, 11, 25, 10) == []  # acknowledged: no more reminders
    spend(db, date(2026, 11, 25), 100)
    assert evaluate_at(runner, 2026, 11, 26, 10) == []  # clear once: wait one more evaluation
    assert evaluate_at(runner, 2026, 11, 26, 11) == ["alert_resolved"]
    assert evaluate_at(runner, 2026, 11, 26, 12) == []

    assert outbox.keys() == [
        "alert:1:20261123T100000Z:slack:C9",
        "alert_reminder:1:20261123T100000Z/r1:slack:C9",
        "alert_resolved:1:20261123T100000Z:slack:C9",
    ]
    fired, reminder, resolved = (s.reply for s in outbox.sent)
    assert fired.title == "Alert · Ad spend > $5,000 for 1 day(s) · team"
    assert ("Latest (2026-11-22)", "$6,000") in [(f.label, f.value) for f in fired.figures]
    assert [(a.action_id, a.value) for a in fired.actions] == [
        (ACTION_ALERT_ACK, str(rule)), (ACTION_ALERT_SNOOZE, f"{rule}:1h"), (ACTION_ALERT_SNOOZE, f"{rule}:1d"),
        (ACTION_ALERT_SNOOZE, f"{rule}:1w"), (ACTION_ALERT_SNOOZE, f"{rule}:monday")]
    assert reminder.title.startswith("Still firing") and "Firing since 2026-11-23 10:00 UTC" in reminder.footnotes
    assert resolved.title.startswith("Resolved") and resolved.actions == []
    with db.session() as session:
        state = alert_repo.get_state(session, rule)
        assert state is not None and state.state == "clear"
        assert {r.status for r in ledger.entries(session)} == {"sent"}


def test_snooze_silences_reminders_until_it_ends(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, {"slack": outbox})
    rule = add_rule(db)
    spend(db, date(2026, 11, 22), 6000)
    spend(db, date(2026, 11, 23), 6000)
    assert evaluate_at(runner, 2026, 11, 23, 10) == ["alert"]
    with time_machine.travel(utc(2026, 11, 23, 11), tick=False):
        assert snooze(db, rule, "slack:U1") is True  # 24 h: until Nov 24 11:00
    assert evaluate_at(runner, 2026, 11, 24, 10) == []  # cooldown over, but snoozed
    assert evaluate_at(runner, 2026, 11, 24, 11) == ["alert_reminder"]  # snooze over


def test_a_brief_clear_is_not_a_new_episode(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, {"slack": outbox})
    add_rule(db)
    spend(db, date(2026, 11, 22), 6000)
    assert evaluate_at(runner, 2026, 11, 23, 10) == ["alert"]
    spend(db, date(2026, 11, 22), 4000)  # a correction clears it for one evaluation …
    assert evaluate_at(runner, 2026, 11, 23, 11) == []
    spend(db, date(2026, 11, 22), 6500)  # … then it is true again: same episode, no new alert, no resolved
    assert evaluate_at(runner, 2026, 11, 23, 12) == []
    assert len(outbox.sent) == 1


def test_value_mode_needs_every_one_of_the_last_n_days(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, {"slack": outbox})
    add_rule(db, kpi="roas", op="<", threshold=2, days=3)
    # ROAS = ad_gmv / ad_spend per day: Nov 20 3000/1000 = 3.0, Nov 21 1500/1000 = 1.5, Nov 22 1800/1000 = 1.8
    for day, gmv in ((20, 3000), (21, 1500), (22, 1800), (23, 1000)):
        spend(db, date(2026, 11, day), gmv, metric="ad_gmv")
        spend(db, date(2026, 11, day), 1000)
    assert evaluate_at(runner, 2026, 11, 23, 10) == []  # Nov 20–22: 3.0 is not < 2
    assert evaluate_at(runner, 2026, 11, 24, 10) == ["alert"]  # Nov 21–23: 1.5, 1.8, 1.0
    table = outbox.sent[0].reply.tables[0]
    assert table.rows == [["2026-11-21", "1.50"], ["2026-11-22", "1.80"], ["2026-11-23", "1.00"]]
    assert outbox.sent[0].reply.title == "Alert · ROAS < 2.00 for 3 day(s) · team"


def test_pace_mode_month_to_date(db: Database) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, {"slack": outbox})
    alice = add_rule(db, kpi="gmv", mode="pace", op="<", threshold=0.9, scope_kind="member", scope_key="alice",
                     lang="zh")
    add_rule(db, kpi="gmv", mode="pace", op="<", threshold=0.9, scope_kind="member", scope_key="bob")
    # Nov 1–22: alice 19,000 / (30000 × 22/30) = 86.4 % < 90 %; bob 10,650 / 11,000 = 96.8 % is not.
    assert evaluate_at(runner, 2026, 11, 23, 10) == ["alert"]
    (sent,) = outbox.sent
    assert sent.idempotency_key == f"alert:{alice}:20261123T100000Z:slack:C9"
    assert sent.reply.title == "告警 · GMV 进度达成率 < 90.0% · Alice"
    values = {f.label: f.value for f in sent.reply.figures}
    assert values["进度达成率"] == "86.4%" and values["每日所需"] == "$1,375"


def test_button_ids_are_the_bots() -> None:
    assert (ACTION_ALERT_ACK, ACTION_ALERT_SNOOZE) == (BOT_ACK, BOT_SNOOZE)


def test_acknowledge_and_snooze_unknown_or_removed_rules(db: Database) -> None:
    assert acknowledge(db, 999, "x") is False
    assert snooze(db, 999, "x") is False
    rule = add_rule(db)
    with db.session() as session:
        assert alert_repo.deactivate_rule(session, rule) is not None
        assert alert_repo.deactivate_rule(session, rule) is None
        assert alert_repo.list_rules(session) == []
        assert len(alert_repo.list_rules(session, active_only=False)) == 1
    assert acknowledge(db, rule, "x") is False


def test_removed_rule_is_not_evaluated(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, {"slack": outbox})
    rule = add_rule(db)
    spend(db, date(2026, 11, 22), 6000)
    with db.session() as session:
        alert_repo.deactivate_rule(session, rule)
    assert evaluate_at(runner, 2026, 11, 23, 10) == []


def test_alert_for_an_unconfigured_platform_is_sent_once_it_is_configured(db: Database) -> None:
    add_rule(db, channel="feishu:oc_1")
    spend(db, date(2026, 11, 22), 6000)
    slack_only = runner_for(db, {"slack": RecordingOutbox()})
    with time_machine.travel(utc(2026, 11, 23, 10), tick=False):
        (event,) = slack_only.evaluate_all()
    assert event.result is not None and event.result.outcome == Outcome.NO_OUTBOX
    feishu = RecordingOutbox(platform="feishu")
    assert evaluate_at(runner_for(db, {"feishu": feishu}), 2026, 11, 23, 11) == ["alert"]
    assert feishu.keys() == ["alert:1:20261123T100000Z:feishu:oc_1"]


def test_rule_validation_and_summary(db: Database) -> None:
    with db.session() as session, pytest.raises(ValueError, match="operator"):
        alert_repo.add_rule(session, kpi="roas", scope_kind="team", scope_key="", mode="value", op="==",
                            threshold=2, days=1, channel="slack:C1", lang="en", created_by="x")
    with db.session() as session, pytest.raises(ValueError, match="platform:channel_id"):
        alert_repo.add_rule(session, kpi="roas", scope_kind="team", scope_key="", mode="value", op="<",
                            threshold=2, days=1, channel="C1", lang="en", created_by="x")
    rule_id = add_rule(db, kpi="roas", op="<", threshold=2, days=3, scope_kind="role", scope_key="ad_buyer")
    engine = make_engine(db)
    with db.session() as session:
        rule = alert_repo.get_rule(session, rule_id)
    assert rule is not None
    assert rule_summary(rule, engine.registry, {}, "en", "USD") == "#1 ROAS < 2.00 for 3 day(s) · Ad buyer → slack:C9"
    assert rule_summary(rule, engine.registry, {}, "zh", "USD") == "#1 投产比 < 2.00（连续 3 天） · 投手 → slack:C9"


def test_file_outbox_threads_follow_ups_and_rewrites_the_alert(db: Database, tmp_path: Path) -> None:
    """The console / demo outbox: a follow-up file names the alert's file; resolving rewrites the alert's file."""
    outbox = FileOutbox(tmp_path)
    runner = runner_for(db, {"file": outbox})  # type: ignore[dict-item]
    rule = add_rule(db, channel="file:alerts")
    spend(db, date(2026, 11, 22), 6000)
    spend(db, date(2026, 11, 23), 6000)
    assert evaluate_at(runner, 2026, 11, 23, 10) == ["alert"]
    with db.session() as session:
        state = alert_repo.get_state(session, rule)
        assert state is not None and state.message_id is not None
        original = Path(state.message_id)
    assert original.read_text(encoding="utf-8").startswith("# Alert · Ad spend > $5,000")
    assert evaluate_at(runner, 2026, 11, 24, 10) == ["alert_reminder"]
    reminder = tmp_path / "alerts" / "alert_reminder_1_20261123T100000Z_r1_file_alerts.md"
    assert reminder.read_text(encoding="utf-8").startswith(f"↳ {original.name}\n\n# Still firing")
    spend(db, date(2026, 11, 24), 10)
    spend(db, date(2026, 11, 25), 10)
    assert evaluate_at(runner, 2026, 11, 25, 10) == []
    assert evaluate_at(runner, 2026, 11, 25, 11) == ["alert_resolved"]
    rewritten = original.read_text(encoding="utf-8")
    assert rewritten.startswith("# Resolved · Ad spend > $5,000") and "Resolved 2026-11-25 11:00 UTC." in rewritten
