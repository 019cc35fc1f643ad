"""Action items, the funnel and the flywheel asked in chat (English and Chinese), through the test adapter
exactly as on every surface. Team from tests/conversation_fixture.py (today Fri 2026-11-20, data Nov 1–18),
plus team funnel rows for last week W46 (Nov 9–15) and the week before (W45, Nov 2–8):

    per day   impressions  clicks  add_to_cart  orders  paid_orders
    W45       10,000       150     30           12      11
    W46       10,000       200     40           10      9
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.repositories import audit as audit_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.conversation_fixture import conversation_team
from tests.fixtures import add_facts

PER_DAY = {
    "W45": {"impressions": 10000, "clicks": 150, "add_to_cart": 30, "orders": 12, "paid_orders": 11},
    "W46": {"impressions": 10000, "clicks": 200, "add_to_cart": 40, "orders": 10, "paid_orders": 9},
}


@pytest.fixture
def chat(db: Database, make_settings):
    adapter = conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))
    rows = []
    for offset in range(14):
        day = date(2026, 11, 2) + timedelta(days=offset)
        week = "W45" if day < date(2026, 11, 9) else "W46"
        rows += [(metric, day, value, "") for metric, value in PER_DAY[week].items()]
    add_facts(db, rows)
    with db.session() as session:  # one shop named by data (its own GMV row on Nov 2)
        upsert_facts(session, [FactRecord("gmv", date(2026, 11, 2), 120, source="tiktok", shop="tiktok-us")])
    return adapter


def test_add_list_close_actions_in_both_languages(chat, db: Database) -> None:
    added = chat.ask("action add @hugo raise hook rate to 40% by 2026-W50 kpi:gmv", as_user="hana")
    assert added.kind == ReplyKind.CONFIRMATION and added.text == "#1 for Hugo: raise hook rate to 40% (by 2026-W50)"
    zh = chat.ask("行动 添加 提升完播率 截止 第50周", as_user="hana")
    assert zh.text == "#2 负责人 Hana：提升完播率（截止 2026-W50）"
    listed = chat.ask("action list", as_user="bo")
    assert [row[:5] for row in listed.tables[0].rows] == [
        ["1", "Hugo", "raise hook rate to 40%", "2026-W50", "open"], ["2", "Hana", "提升完播率", "2026-W50", "open"]]

    refused = chat.ask("action done 1", as_user="bo")  # neither owner, creator nor admin
    assert refused.kind == ReplyKind.REFUSAL and "#1 belongs to Hugo" in refused.text
    assert chat.ask("action done 1 shipped", as_user="hugo").text == "#1 marked done."
    assert chat.ask("行动 放弃 2", as_user="boss").text == "#2 已放弃。"  # an admin closes anyone's
    assert chat.ask("action done 1", as_user="hugo").kind == ReplyKind.ERROR  # already closed: nothing changes
    done = chat.ask("action list done", as_user="bo").tables[0].rows
    assert [row[0] for row in done] == ["1"]
    with db.session() as session:
        actions = [(e.action, e.outcome) for e in audit_repo.latest(session, 20) if e.action.startswith("action.")]
    assert actions == [("action.dropped", "ok"), ("action.done", "ok"), ("action.done", "refused"),
                       ("action.add", "ok"), ("action.add", "ok")]


def test_bad_action_input_names_what_is_wrong(chat) -> None:
    assert "Say what will be done" in chat.ask("action add", as_user="hana").text
    assert "“2026-W99” is not a due period" in chat.ask("action add call bo by 2026-W99", as_user="hana").text
    assert "Unknown KPI “nope” after kpi:" in chat.ask("action add call bo kpi:nope", as_user="hana").text
    assert chat.ask("action list", as_user="hana").text == "No open actions."


def test_funnel_answer_with_scores_leak_and_charts(chat) -> None:
    reply = chat.ask("funnel last-week", as_user="hana")
    assert reply.title == "Funnel · Team · week 46, 2026 (Nov 09–Nov 15)"
    table = reply.tables[0]
    # W46 ×7: 70,000 → 1,400 (2 %, score 120 capped) → 280 (20 %, 120) → 70 (25 % < 30 %: 83) → 63 (90 %: 100)
    # against W45: 1.5 %, 20 %, 40 % (0.25/0.40 − 1 = −37.5 %), 91.7 %
    assert [row[4] for row in table.rows] == ["—", "120", "120", "83", "100"]
    assert table.rows[3][5:] == ["40.0%", "-37.5%"]
    assert "Biggest leak: Orders — 25.0% against a threshold of 30.0% (score 83)." in reply.footnotes
    assert [chart.name for chart in reply.charts] == ["funnel.png", "funnel-radar.png"]
    zh = chat.ask("漏斗 上周", as_user="hana")
    assert zh.title.startswith("转化漏斗 · 团队") and "最大漏损：订单数" in zh.footnotes[0]


def test_funnel_by_shop_and_as_people_ask(chat, db: Database) -> None:
    day = date(2026, 11, 10)  # W46
    rows = {"tiktok-us": (10000, 150, 30, 6, 6), "shopee-sg": (4000, 20, 4, 2, 1)}
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, day, value, source=shop, shop=shop) for shop, values in rows.items()
                               for metric, value in zip(PER_DAY["W46"], values, strict=True)])
    reply = chat.ask("funnel by shop last week", as_user="hana")
    assert reply.title == "Funnel by shop · week 46, 2026 (Nov 09–Nov 15)"
    assert [t.title for t in reply.tables] == ["shopee-sg", "tiktok-us"]
    scores = {t.title: [row[4] for row in t.rows] for t in reply.tables}
    # shopee-sg: 20 / 4,000 = 0.5 % (÷ 1 % → 50), 4 / 20 = 20 % (÷ 15 % → 133, capped 120), 2 / 4 = 50 % (÷ 30 %
    # → 167, capped 120), 1 / 2 = 50 % (÷ 90 % → 56); tiktok-us: 1.5 % (150 → 120), 20 % (120), 6 / 30 = 20 %
    # (÷ 30 % → 67), 6 / 6 = 100 % (÷ 90 % → 111)
    assert scores == {"shopee-sg": ["—", "50", "120", "120", "56"], "tiktok-us": ["—", "120", "120", "67", "111"]}
    assert reply.footnotes[:2] == [
        "shopee-sg: Biggest leak: Clicks — 0.5% against a threshold of 1.0% (score 50).",
        "tiktok-us: Biggest leak: Orders — 20.0% against a threshold of 30.0% (score 67).",
    ]
    assert [c.name for c in reply.charts] == ["funnel-radar.png"]
    zh = chat.ask("上周漏斗 按店铺", as_user="hana")
    assert zh.title == "转化漏斗（按店铺） · 2026年第46周（11/09–11/15）"
    # Asked as people ask: the team's funnel, the same answer as `funnel`
    for asked in ("给我看看漏斗", "看下漏斗"):
        assert chat.ask(asked, as_user="hana").title == "转化漏斗 · 团队 · 2026年11月"
    assert chat.ask("show me the funnel", as_user="hana").title == "Funnel · Team · November 2026"
    assert chat.ask("本周漏斗", as_user="hana").title == chat.ask("漏斗 本周", as_user="hana").title


def test_funnel_without_data_says_so(chat) -> None:
    reply = chat.ask("funnel 2026-10", as_user="hana")
    assert reply.text == ("No funnel data (impressions, clicks, add_to_cart, orders, paid_orders) for Team in "
                          "October 2026.")


def test_flywheel_in_chat(chat, db: Database) -> None:
    add_facts(db, [("promoters", date(2026, 10, 5), 60, ""), ("passives", date(2026, 10, 5), 25, ""),
                   ("detractors", date(2026, 10, 5), 15, ""), ("ad_spend", date(2026, 10, 5), 3000, ""),
                   ("new_customers", date(2026, 10, 5), 120, "")])
    reply = chat.ask("飞轮", as_user="hana")  # the last complete month: October
    assert reply.title == "增长飞轮 · 截至2026年10月的近6个月"
    rows = {row[0]: row for row in reply.tables[0].rows}
    assert rows["净推荐值"][-1] == "45"  # (60 − 15) / 100 × 100
    assert rows["获客成本"][-1] == "$25"  # no marketing spend: ad spend 3,000 / 120 new customers
    assert reply.footnotes[0].startswith("2026年10月 的获客成本按广告消耗计算")
    assert [chart.name for chart in reply.charts] == ["flywheel.png"]


def test_digest_subscribe_me_scope_kpis_and_time_zone(chat, db: Database) -> None:
    from storage.repositories import subscriptions as subscription_repo

    me = chat.ask("digest subscribe me daily 09:00 tz:Asia/Shanghai kpis:gmv,orders", as_user="hana")
    assert me.text == "Subscription #1: daily at 09:00 (Asia/Shanghai) to you (direct message)."
    assert chat.ask("digest subscribe #sales daily 08:30", as_user="hana").kind == ReplyKind.REFUSAL  # channel: admin
    role = chat.ask("digest subscribe #sales weekly mon 09:00 role:host tz:America/Los_Angeles", as_user="boss")
    assert role.text == "Subscription #2: weekly on mon at 09:00 (America/Los_Angeles) to sales."
    zh = chat.ask("周报 订阅 我 每天 09:00", as_user="hugo")
    assert zh.text == "订阅 #3：每天 09:00（UTC）发送到 你（私信）。"
    with db.session() as session:
        subs = {s.id: s for s in subscription_repo.list_subscriptions(session)}
    assert (subs[1].direct, subs[1].channel, subs[1].scope_kind, subs[1].scope_key, subs[1].kpis) == (
        True, "hana", "member", "h1@shop.com", "gmv,orders")
    assert (subs[2].direct, subs[2].scope_kind, subs[2].scope_key, subs[2].cadence) == (False, "role", "host", "weekly")
    listed = chat.ask("digest list", as_user="bo").tables[0].rows
    assert listed[0][1:4] == ["DM · test:hana", "daily at 09:00 (Asia/Shanghai)", "member:h1@shop.com · gmv, orders"]
    # Anyone ends their own DM subscription; another one's needs an admin.
    assert chat.ask("digest unsubscribe 2", as_user="hana").kind == ReplyKind.REFUSAL
    assert chat.ask("digest unsubscribe 1", as_user="hana").kind == ReplyKind.CONFIRMATION
    bad = chat.ask("digest subscribe me daily 09:00 tz:Mars/Base", as_user="hana").text
    assert bad.startswith("“Mars/Base” is not a time zone")
    unknown = chat.ask("digest subscribe #x daily 09:00 shop:tt", as_user="boss").text
    assert unknown.startswith("There is no shop “tt” (declared or with data). Shops: tiktok-us.")
    both = chat.ask("digest subscribe #x weekly mon 09:00 role:host shop:tiktok-us", as_user="boss").text
    assert both.startswith("A digest is about one scope") and "“role:host” and “shop:tiktok-us”" in both
    # A shop's digest: the shop named by data is accepted, and `digest list` shows it.
    shop = chat.ask("digest subscribe #tiktok weekly MON 09:00 shop:tiktok-us", as_user="boss")
    assert shop.text == "Subscription #4: weekly on mon at 09:00 (UTC) to tiktok."
    zh_shop = chat.ask("周报 订阅 #tiktok 每月 1 09:00 shop:tiktok-us", as_user="boss")
    assert zh_shop.text == "订阅 #5：每月1日 09:00（UTC）发送到 tiktok。"
    listed = {row[0]: row for row in chat.ask("digest list", as_user="bo").tables[0].rows}
    assert listed["#4"][3] == listed["#5"][3] == "shop:tiktok-us"


def test_digest_history_when_nothing_was_posted(chat) -> None:
    assert chat.ask("digest history", as_user="hana").text == "No digest has been posted yet."
    assert chat.ask("周报 记录", as_user="hana").text == "还没有发送过摘要。"
    unknown = chat.ask("digest show 9", as_user="hana")
    assert unknown.kind == ReplyKind.ERROR
    assert unknown.text.startswith("No digest #9 was posted.")  # not the subscriptions' wording
    assert chat.ask("周报 显示 9", as_user="hana").text.startswith("没有编号为 #9 的已发周报。")


def test_done_button_closes_an_action_with_the_same_permissions(chat) -> None:
    from bot.core.contracts import ACTION_ITEM_DONE

    added = chat.ask("action add @hugo call the supplier", as_user="hana")
    assert [(a.action_id, a.label, a.value) for a in added.actions] == [(ACTION_ITEM_DONE, "Done #1", "1")]
    listed = chat.ask("行动 列表", as_user="hugo")
    assert [(a.label, a.value) for a in listed.actions] == [("完成 #1", "1")]
    refused = chat.act(ACTION_ITEM_DONE, as_user="bo", value="1")  # told to bo only: no reply replaces the message
    assert refused.reply is None and refused.toast is not None and "#1 belongs to Hugo" in refused.toast
    done = chat.act(ACTION_ITEM_DONE, as_user="hugo", value="1")
    assert done.reply is not None and done.reply.text == "#1 marked done."
    assert chat.ask("action list", as_user="hugo").actions == []  # nothing open: no buttons


def test_digest_subscribe_someone_is_about_that_person(chat, db: Database) -> None:
    """`digest subscribe #ch weekly MON 09:00 @hugo`: the channel gets Hugo's own weekly review."""
    from storage.repositories import subscriptions as subscription_repo

    reply = chat.ask("digest subscribe #hosts weekly MON 09:00 @hugo", as_user="boss")
    assert reply.text == "Subscription #1: weekly on mon at 09:00 (UTC) to hosts."
    with db.session() as session:
        (sub,) = subscription_repo.list_subscriptions(session)
    assert (sub.direct, sub.channel, sub.scope_kind, sub.scope_key) == (False, "hosts", "member", "h2@shop.com")
    assert chat.ask("digest list", as_user="hugo").tables[0].rows[0][3] == "member:h2@shop.com"
    assert chat.ask("digest subscribe #hosts weekly MON 09:00 @hugo", as_user="hugo").kind == ReplyKind.REFUSAL
