"""Stop-loss alerts: `roas < 1.5 when ad_spend >= 500 today`, on today's running totals, once a day per rule."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from bot.core.bot import KpiBot
from bot.testing import TestAdapter
from jobs.alerts import AlertRunner
from jobs.delivery import Deliverer
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.registry import load_registry
from storage.repositories import alerts as alert_repo
from storage.repositories import audit as audit_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures import add_facts, add_members
from tests.fixtures_jobs import RecordingOutbox, make_engine, utc

NOV30, DEC1 = date(2026, 11, 30), date(2026, 12, 1)
BO = "b1@shop.com"  # Bo, an ad buyer


def push_totals(db: Database, day: date, spend: float, ad_gmv: float, member: str = "") -> None:
    """A pushed running total replaces the earlier one for the day (same metric, day, member, source)."""
    add_facts(db, [("ad_spend", day, spend, member), ("ad_gmv", day, ad_gmv, member)], source="ads")


def stop_loss_rule(db: Database, *, scope_kind: str = "team", scope_key: str = "") -> int:
    with db.session() as session:
        rule = alert_repo.add_rule(
            session, kpi="roas", scope_kind=scope_kind, scope_key=scope_key, mode="stoploss", op="<", threshold=1.5,
            days=1, channel="slack:C9", lang="en", created_by="admin", guard=("ad_spend", ">=", 500.0))
        assert rule.id is not None
        return rule.id


def every_15_minutes(runner: AlertRunner, *moment: int) -> list[str]:
    with time_machine.travel(utc(*moment), tick=False):
        return [event.kind for event in runner.evaluate_stop_losses()]


@pytest.fixture
def outbox() -> RecordingOutbox:
    return RecordingOutbox()


@pytest.fixture
def runner(db: Database, outbox: RecordingOutbox) -> AlertRunner:
    engine = make_engine(db)
    return AlertRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}), currency="USD")


def test_fires_once_at_the_guarded_volume_not_below_and_again_the_next_day(
    db: Database, runner: AlertRunner, outbox: RecordingOutbox
) -> None:
    rule = stop_loss_rule(db)
    push_totals(db, NOV30, 400, 480)  # ROAS 480 / 400 = 1.2 < 1.5, but spend 400 < 500: too little to judge
    assert every_15_minutes(runner, 2026, 11, 30, 10, 0) == []
    push_totals(db, NOV30, 600, 720)  # running totals: ROAS 720 / 600 = 1.2 < 1.5 and spend 600 >= 500 → fires
    assert every_15_minutes(runner, 2026, 11, 30, 10, 15) == ["alert"]
    assert every_15_minutes(runner, 2026, 11, 30, 10, 30) == []  # still true: once a day
    push_totals(db, NOV30, 800, 880)  # 880 / 800 = 1.1, worse, still the same day
    assert every_15_minutes(runner, 2026, 11, 30, 23, 45) == []
    with time_machine.travel(utc(2026, 11, 30, 23, 50), tick=False):
        assert runner.evaluate_all() == []  # the hourly run sees the same ledger key
    push_totals(db, DEC1, 300, 150)  # next day: 150 / 300 = 0.5, but spend 300 < 500
    assert every_15_minutes(runner, 2026, 12, 1, 9, 0) == []
    push_totals(db, DEC1, 700, 840)  # 840 / 700 = 1.2 < 1.5 and 700 >= 500 → fires again, a new day
    assert every_15_minutes(runner, 2026, 12, 1, 9, 15) == ["alert"]

    assert outbox.keys() == [f"alert:{rule}:stoploss/2026-11-30:slack:C9", f"alert:{rule}:stoploss/2026-12-01:slack:C9"]
    first = outbox.sent[0].reply
    assert first.title == "Alert · ROAS < 1.50 once Ad spend >= $500 today · team"
    figures = [(f.label, f.value) for f in first.figures]
    assert ("Latest (2026-11-30)", "1.20") in figures and ("Ad spend today", "$600") in figures
    assert first.actions == []  # no episode to acknowledge or snooze


def test_a_healthy_ratio_or_missing_attribution_does_not_fire(db: Database, runner: AlertRunner) -> None:
    stop_loss_rule(db)
    add_facts(db, [("ad_spend", NOV30, 900, "")], source="ads")  # no ad_gmv yet: ROAS is no data, not 0
    assert every_15_minutes(runner, 2026, 11, 30, 12, 0) == []
    push_totals(db, NOV30, 900, 1800)  # 1800 / 900 = 2.0, not < 1.5
    assert every_15_minutes(runner, 2026, 11, 30, 12, 15) == []


def test_a_member_rule_reads_only_that_members_rows(db: Database, runner: AlertRunner) -> None:
    add_members(db)
    stop_loss_rule(db, scope_kind="member", scope_key=BO)
    push_totals(db, NOV30, 2000, 1000, member="other@shop.com")  # someone else's 0.5 ROAS: not Bo's
    push_totals(db, NOV30, 600, 1200, member=BO)  # Bo: 1200 / 600 = 2.0
    assert every_15_minutes(runner, 2026, 11, 30, 12, 0) == []
    push_totals(db, NOV30, 600, 600, member=BO)  # Bo: 600 / 600 = 1.0 < 1.5 at 600 >= 500
    assert every_15_minutes(runner, 2026, 11, 30, 12, 15) == ["alert"]


def test_a_role_in_a_shop_rule_reads_only_that_roles_rows_in_that_shop(
    db: Database, runner: AlertRunner, outbox: RecordingOutbox
) -> None:
    add_members(db)  # Bo is the ad buyer
    with db.session() as session:
        rule = alert_repo.add_rule(
            session, kpi="roas", scope_kind="role", scope_key="ad_buyer", mode="stoploss", op="<", threshold=1.5,
            days=1, channel="slack:C9", lang="en", created_by="admin", guard=("ad_spend", ">=", 500.0),
            shop="tiktok-us")
        assert rule.shop == "tiktok-us"
    with db.session() as session:  # Bo in shopee-sg: 2,000 spend at ROAS 0.5 — another shop, not this rule's
        upsert_facts(session, [FactRecord("ad_spend", NOV30, 2000, BO, "ads", "shopee-sg"),
                               FactRecord("ad_gmv", NOV30, 1000, BO, "ads", "shopee-sg"),
                               FactRecord("ad_spend", NOV30, 400, BO, "ads", "tiktok-us"),
                               FactRecord("ad_gmv", NOV30, 400, BO, "ads", "tiktok-us")])
    # in tiktok-us: 400 / 400 = 1.0 < 1.5 but spend 400 < 500 (the whole role across shops would be 2,400 at 0.58)
    assert every_15_minutes(runner, 2026, 11, 30, 12, 0) == []
    with db.session() as session:  # running totals in tiktok-us: 600 spend, 660 ad GMV → 1.1 < 1.5 at 600 >= 500
        upsert_facts(session, [FactRecord("ad_spend", NOV30, 600, BO, "ads", "tiktok-us"),
                               FactRecord("ad_gmv", NOV30, 660, BO, "ads", "tiktok-us")])
    assert every_15_minutes(runner, 2026, 11, 30, 12, 15) == ["alert"]
    sent = outbox.sent[0].reply
    assert sent.title == "Alert · ROAS < 1.50 once Ad spend >= $500 today · Ad buyer · tiktok-us"
    figures = [(f.label, f.value) for f in sent.figures]
    assert ("Latest (2026-11-30)", "1.10") in figures and ("Ad spend today", "$600") in figures


def test_the_15_minute_run_leaves_other_rules_to_the_hourly_one(db: Database, runner: AlertRunner) -> None:
    with db.session() as session:
        alert_repo.add_rule(session, kpi="ad_spend", scope_kind="team", scope_key="", mode="value", op=">",
                            threshold=100, days=1, channel="slack:C9", lang="en", created_by="admin")
    add_facts(db, [("ad_spend", date(2026, 11, 29), 600, "")])  # yesterday 600 > 100
    assert every_15_minutes(runner, 2026, 11, 30, 10, 0) == []
    with time_machine.travel(utc(2026, 11, 30, 10, 5), tick=False):
        assert [e.kind for e in runner.evaluate_all()] == ["alert"]


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    add_members(db)
    core = KpiBot(settings=make_settings(KPIBOT_ADMINS="boss@shop.com"), db=db, registry=load_registry(None),
                  today=lambda: NOV30)
    adapter = TestAdapter(core)
    adapter.user("boss", "boss@shop.com")
    adapter.user("hana", "h1@shop.com")
    return adapter


def test_alert_add_stop_loss_in_english_and_chinese(chat: TestAdapter, db: Database) -> None:
    english = chat.ask("alert add roas < 1.5 when ad_spend >= 500 today member:b1@shop.com", as_user="boss")
    assert english.kind is ReplyKind.CONFIRMATION, english.plain_text()
    assert "ROAS (Bo) < 1.50 once Ad spend reaches >= $500 today, once a day" in (english.text or "")
    chinese = chat.ask("预警 添加 roas < 1.5 当 消耗 >= 500 今天", as_user="boss")
    assert chinese.kind is ReplyKind.CONFIRMATION, chinese.plain_text()
    assert "当今日广告消耗 >= $500 时，每天一次" in (chinese.text or "")
    with db.session() as session:
        rules = alert_repo.list_rules(session)
        assert [(r.kpi, r.mode, r.op, r.threshold, r.scope_kind, r.scope_key, r.guard_kpi, r.guard_op,
                 r.guard_threshold, r.lang) for r in rules] == [
            ("roas", "stoploss", "<", 1.5, "member", BO, "ad_spend", ">=", 500.0, "en"),
            ("roas", "stoploss", "<", 1.5, "team", "", "ad_spend", ">=", 500.0, "zh")]
        assert audit_repo.latest(session, 1)[0].action == "alert.add"
    listed = chat.ask("alert list", as_user="hana")
    assert "once Ad spend reaches >= $500 today" in listed.plain_text()


def test_stop_loss_on_a_role_inside_a_shop_keeps_the_shop(chat: TestAdapter, db: Database) -> None:
    added = chat.ask("alert add roas < 1.5 when ad_spend >= 500 today shop:tiktok-us role:ad_buyer", as_user="boss")
    assert added.kind is ReplyKind.CONFIRMATION, added.plain_text()
    assert "ROAS (Ad buyer · tiktok-us) < 1.50" in (added.text or "")
    chinese = chat.ask("预警 添加 roas < 1.5 当 消耗 >= 500 今天 shop:tiktok-us member:b1@shop.com", as_user="boss")
    assert chinese.kind is ReplyKind.CONFIRMATION, chinese.plain_text()
    with db.session() as session:
        rules = alert_repo.list_rules(session)
        assert [(r.scope_kind, r.scope_key, r.shop) for r in rules] == [
            ("role", "ad_buyer", "tiktok-us"), ("member", BO, "tiktok-us")]
    assert "Ad buyer · tiktok-us" in chat.ask("alert list", as_user="hana").plain_text()


def test_stop_loss_refused_for_a_non_admin_and_for_another_period(chat: TestAdapter, db: Database) -> None:
    refused = chat.ask("alert add roas < 1.5 when ad_spend >= 500 today", as_user="hana")
    assert refused.kind is ReplyKind.REFUSAL
    month = chat.ask("alert add roas < 1.5 when ad_spend >= 500 month", as_user="boss")
    assert month.kind is ReplyKind.ERROR and "today's data so far" in month.plain_text()
    no_guard_value = chat.ask("alert add roas < 1.5 when ad_spend >=", as_user="boss")
    assert no_guard_value.kind is ReplyKind.ERROR
    with db.session() as session:
        assert alert_repo.list_rules(session) == []
