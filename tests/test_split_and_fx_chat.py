"""`target split` (目标拆解) and `fx set / list` (汇率) through chat, as users type them (issue 14 §8–9).
Fixture: tests/conversation_fixture.py (hosts Hana h1 and Hugo h2; Oct has no data). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot.testing import TestAdapter
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.models import AuditEntry, FxRate, Target
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.conversation_fixture import conversation_team
from tests.fixtures import add_facts, add_members


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    adapter = conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))
    add_members(db)
    return adapter


def host_targets(db: Database) -> dict[str, float]:
    with db.session() as session:
        rows = session.exec(select(Target).where(Target.kpi == "gmv", Target.scope_kind == "member",
                                                 Target.shop == "", Target.period_key == "2026-11")).all()
    return {row.scope_key: row.value for row in rows}


def audits(db: Database, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_a_three_way_split_sums_to_the_cent(chat: TestAdapter, db: Database) -> None:
    with db.session() as session:  # a third host
        member_repo.assign_role(session, member_repo.ensure_member(session, "h3@shop.com", display_name="Hao"), "host")
    reply = chat.ask("target split gmv 100 month role:host equally", as_user="boss")
    assert reply.kind is ReplyKind.CONFIRMATION
    # 10,000 cents / 3 = 3,333.33 → 33.33 each, the 1 cent left goes to the largest share (the first of equals)
    assert host_targets(db) == {"h1@shop.com": 33.34, "h2@shop.com": 33.33, "h3@shop.com": 33.33}
    assert sum(host_targets(db).values()) == pytest.approx(100.0, abs=1e-9)
    assert [a.subject for a in audits(db, "target.split")] == [
        "target gmv member:h1@shop.com 2026-11", "target gmv member:h2@shop.com 2026-11",
        "target gmv member:h3@shop.com 2026-11"]


def test_split_by_weights_and_its_preview_writes_nothing(chat: TestAdapter, db: Database) -> None:
    preview = chat.ask("target split gmv 300k month role:host by weights 60,40 preview", as_user="boss")
    assert preview.kind is ReplyKind.ANSWER and host_targets(db) == {"h1@shop.com": 30000}  # the fixture's only
    assert [row[1:] for row in preview.tables[0].rows] == [["60.0%", "$180K"], ["40.0%", "$120K"]]
    chat.ask("目标拆解 gmv 30万 本月 主播 按权重 60,40", as_user="boss")
    assert host_targets(db) == {"h1@shop.com": 180_000, "h2@shop.com": 120_000}  # 300,000 × 60 % / 40 %


def test_split_by_last_month(chat: TestAdapter, db: Database) -> None:
    add_facts(db, [("gmv", date(2026, 10, 5), 3000, "h1@shop.com"), ("gmv", date(2026, 10, 6), 1000, "h2@shop.com")])
    reply = chat.ask("target split gmv 10000 month role:host by last-month", as_user="boss")
    # October: Hana 3,000, Hugo 1,000 → 75 % / 25 % of 10,000
    assert host_targets(db) == {"h1@shop.com": 7500, "h2@shop.com": 2500}
    assert "by last month's GMV" in (reply.text or "")


def test_split_mistakes_get_a_specific_answer_and_change_nothing(chat: TestAdapter, db: Database) -> None:
    wrong = chat.ask("target split gmv 100 month role:host by weights 1,2,3", as_user="boss")
    assert wrong.kind is ReplyKind.ERROR and wrong.text == (
        "3 weights for 2 (Hana, Hugo); give one weight for each, in this order.")
    nobody = chat.ask("target split gmv 100 month", as_user="boss")
    assert nobody.kind is ReplyKind.ERROR and "role:ROLE or by shop" in (nobody.text or "")
    ratio = chat.ask("target split aov 100 month role:host", as_user="boss")
    assert ratio.kind is ReplyKind.ERROR and "is a ratio" in (ratio.text or "")
    refused = chat.ask("target split gmv 100 month role:host", as_user="hugo")
    assert refused.kind is ReplyKind.REFUSAL
    assert host_targets(db) == {"h1@shop.com": 30000}


def test_fx_set_and_list_in_both_languages(chat: TestAdapter, db: Database) -> None:
    reply = chat.ask("fx set CNY 0.1385 2026-11", as_user="boss")
    assert reply.kind is ReplyKind.CONFIRMATION and reply.text == "1 CNY = 0.1385 USD for 2026-11."
    again = chat.ask("汇率 设置 CNY 0.14 2026-11", as_user="boss")
    assert again.text == "2026-11 1 CNY = 0.14 USD（原为 0.1385）。"
    with db.session() as session:
        [rate] = session.exec(select(FxRate)).all()
    assert (rate.currency, rate.period_key, rate.start, rate.end, rate.rate) == (
        "CNY", "2026-11", date(2026, 11, 1), date(2026, 11, 30), 0.14)
    [first, second] = audits(db, "fx.set")
    assert (first.old, first.new, second.old, second.new) == (None, "0.1385", "0.1385", "0.14")
    listed = chat.ask("fx list", as_user="hana")
    assert listed.tables[0].rows == [["CNY", "0.14", "2026-11"]]
    assert chat.ask("汇率", as_user="hana").tables[0].columns == ["币种", "兑 USD 汇率", "适用"]
    assert Calendar(0).month(date(2026, 11, 20)).key == "2026-11"


def test_fx_mistakes_and_non_admins_change_nothing(chat: TestAdapter, db: Database) -> None:
    bad = chat.ask("fx set CNY 0.1 Nov", as_user="boss")
    assert bad.kind is ReplyKind.ERROR and bad.text is not None
    assert bad.text.startswith("Period must be a month YYYY-MM or a day YYYY-MM-DD, got 'Nov'.")
    assert chat.ask("汇率 设置 CNY abc 2026-11", as_user="boss").text.startswith("汇率须为正数，收到 'abc'。")
    assert chat.ask("fx set CNY 0.1 2026-11", as_user="hana").kind is ReplyKind.REFUSAL
    with db.session() as session:
        assert session.exec(select(FxRate)).all() == []


def test_shop_scope_board_by_shop_and_shop_targets_in_chat(chat: TestAdapter, db: Database) -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", date(2026, 11, 2), 700, "h1@shop.com", "test", shop="tiktok-us"),
                               FactRecord("gmv", date(2026, 11, 2), 200, "", "test", shop="shopee-sg")])
    shop = chat.ask("gmv month shop:tiktok-us", as_user="hana")
    assert shop.title == "GMV · tiktok-us · November 2026"
    assert {f.label: f.value for f in shop.figures}["Actual"] == "$700"
    within = chat.ask("gmv month shop:tiktok-us role:host", as_user="hana")
    assert within.title == "GMV · Live host · tiktok-us · November 2026"
    board = chat.ask("board gmv by shop month", as_user="hana")
    assert board.title == "GMV leaderboard · Shops · November 2026"
    assert [row[1:3] for row in board.tables[0].rows] == [["tiktok-us", "$700"], ["shopee-sg", "$200"]]
    for asked in ("本月 GMV 店铺 排名", "本月各店铺GMV排名", "shop ranking gmv this month"):
        said = chat.ask(asked, as_user="hana")
        assert [row[1:3] for row in said.tables[0].rows] == [["tiktok-us", "$700"], ["shopee-sg", "$200"]], asked
    assert chat.ask("本月各店铺GMV排名", as_user="hana").title == "GMV 排名 · 各店铺 · 2026年11月"
    assert chat.ask("target set gmv 42k shop:tiktok-us month", as_user="boss").kind is ReplyKind.CONFIRMATION
    with db.session() as session:
        shop_targets = session.exec(select(Target).where(Target.scope_kind == "shop")).all()
    assert [(t.scope_key, t.shop, t.value) for t in shop_targets] == [("tiktok-us", "", 42_000)]


def test_a_role_inside_a_shop_gets_its_own_target_in_chat(chat: TestAdapter, db: Database) -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", date(2026, 11, 2), 700, "h1@shop.com", "test", shop="tiktok-us")])
    done = chat.ask("target set gmv 1k shop:tiktok-us role:host month", as_user="boss")
    assert done.kind is ReplyKind.CONFIRMATION
    assert done.text == "GMV target for Live host · tiktok-us, November 2026: $1,000."
    within = chat.ask("gmv month shop:tiktok-us role:host", as_user="hana")
    figures = {f.label: f.value for f in within.figures}
    assert (figures["Target"], figures["Attainment"]) == ("$1,000", "70.0%")  # Hana's 700 in tiktok-us / 1,000
    listed = chat.ask("target list month", as_user="boss")
    assert ["GMV", "Live host · tiktok-us", "November 2026", "$1,000", "boss@shop.com"] in listed.tables[0].rows
    zh = chat.ask("目标 设置 gmv 2000 shop:tiktok-us 主播 本月", as_user="boss")
    assert zh.kind is ReplyKind.CONFIRMATION
    assert zh.text == "主播 · tiktok-us 2026年11月 的 GMV 目标：$2,000（原为 $1,000）。"
    cleared = chat.ask("target clear gmv shop:tiktok-us role:host month", as_user="boss")
    assert cleared.text == "GMV target for Live host · tiktok-us, November 2026 removed (was $2,000)."
    assert [a.subject for a in audits(db, "target.set")][-2:] == [
        "target gmv role:host shop:tiktok-us 2026-11", "target gmv role:host shop:tiktok-us 2026-11"]
    with db.session() as session:
        assert session.exec(select(Target).where(Target.shop == "tiktok-us")).all() == []
        assert session.exec(select(Target).where(Target.scope_kind == "role")).all() == []


def test_a_split_inside_a_shop_writes_the_members_targets_there(chat: TestAdapter, db: Database) -> None:
    reply = chat.ask("target split gmv 1000 month shop:tiktok-us role:host equally", as_user="boss")
    assert reply.kind is ReplyKind.CONFIRMATION
    with db.session() as session:
        rows = session.exec(select(Target).where(Target.shop == "tiktok-us")).all()
    # 1,000 / 2 hosts = 500.00 each, in tiktok-us; Hana's own month target (30,000) is untouched
    assert sorted((t.scope_kind, t.scope_key, t.value) for t in rows) == [
        ("member", "h1@shop.com", 500.0), ("member", "h2@shop.com", 500.0)]
    assert host_targets(db) == {"h1@shop.com": 30_000}
    within = chat.ask("gmv month shop:tiktok-us role:host", as_user="hana")
    assert {f.label: f.value for f in within.figures}["Target"] == "$1,000"  # derived: 500 + 500
    assert "Target is the sum of 2 member targets" in within.footnotes
