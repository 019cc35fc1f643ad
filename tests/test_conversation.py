"""The command language end to end through the test adapter (the path Slack and Feishu use),
with exact figures in English and Chinese.

Fixture (tests/conversation_fixture.py), November 2026, today Fri Nov 20, data Nov 1–18:
  team GMV   = (1000 Hana + 500 Hugo + 300 shop) × 18 days + 2400 Bo on Nov 2 = 32,400 + 2,400 = 34,800
  team target 50,000; elapsed f = 18/30 = 0.6
"""

from __future__ import annotations

import pytest

from bot.testing import TestAdapter
from jobs.present.reply import Mark, ReplyKind
from storage.db import Database
from storage.repositories import audit as audit_repo
from storage.repositories import targets as target_repo
from tests.conversation_fixture import conversation_team


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    return conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))


def figures(reply) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.label: f.value for f in reply.figures}


def test_team_gmv_status_in_english(chat: TestAdapter) -> None:
    reply = chat.ask("what's our GMV attainment?", as_user="hana")
    assert reply.title == "GMV · Team · November 2026"
    assert figures(reply) == {
        "Actual": "$34.8K",                       # 34,800
        "Target": "$50K",
        "Attainment": "69.6%",                    # 34,800 / 50,000
        "Pace attainment": "116.0%",              # 34,800 / (50,000 × 0.6) = 34,800 / 30,000
        "Projected at period end": "$58K",        # 34,800 / 0.6
        "Required daily run-rate": "$1,266.67",   # (50,000 − 34,800) / 12 days (Nov 19–30)
        "Status": "on track",
    }
    assert reply.mark is Mark.ON_TRACK
    assert "Data through 2026-11-18" in reply.footnotes


def test_team_gmv_status_in_chinese(chat: TestAdapter) -> None:
    reply = chat.ask("GMV达成率多少", as_user="hana")
    assert reply.lang == "zh"
    assert reply.title == "GMV · 团队 · 2026年11月"
    assert figures(reply) == {
        "实际": "$3.48万", "目标": "$5万", "达成率": "69.6%", "进度达成率": "116.0%",
        "期末预计": "$5.8万", "每日所需": "$1,266.67", "状态": "正常",
    }
    assert "数据截至 2026-11-18" in reply.footnotes


def test_last_month_question_in_chinese_has_no_data(chat: TestAdapter) -> None:
    reply = chat.ask("上月GMV达成率多少", as_user="hana")
    assert reply.title == "GMV · 团队 · 2026年10月"
    assert figures(reply)["实际"] == "暂无数据"
    assert reply.mark is Mark.NO_DATA


def test_words_in_any_order(chat: TestAdapter) -> None:
    first = chat.ask("gmv month role:host", as_user="hana")
    second = chat.ask("role:host gmv month", as_user="hana")
    assert first.title == second.title == "GMV · Live host · November 2026"
    # hosts: (1000 + 500) × 18 = 27,000; Hugo has no target, so no role target is derived
    assert figures(first)["Actual"] == "$27K" and figures(first)["Target"] == "no target set"
    assert figures(first) == figures(second)


def test_how_are_hosts_doing_this_week_answers_the_role_kpis_one_row_per_member(chat: TestAdapter) -> None:
    reply = chat.ask("how are hosts doing this week", as_user="hana")
    assert reply.title == "Live host · week 47, 2026 (Nov 16–Nov 22)"
    [table] = reply.tables
    assert table.columns == ["Member", "GMV", "Viewers per live session", "Average watch time",
                             "Live conversion rate", "Score"]
    # week 47 = Nov 16–22, data Nov 16–18 (3 days). Hana: GMV 3 × 1,000 = 3,000 against her November
    # target prorated to the week, 30,000 × 7/30 = 7,000 → 42.9 %; on pace (3,000 / (7,000 × 3/7) = 100 %).
    # Viewers per session 600 / 3 = 200; watch 36,000 s / 600 viewers = 60 s; conversion 30 / 600 = 5.0 %.
    assert table.rows[0] == ["Hana", "42.9% 🟢", "200 (no target)", "60.0 s (no target)", "5.0% (no target)",
                             "100.0%"]
    # Hugo: GMV 3 × 500 = 1,500, no target; no live rows at all → no data, not zero
    assert table.rows[1] == ["Hugo", "$1,500 (no target)", "—", "—", "—", "—"]


def test_roas_question_in_chinese(chat: TestAdapter) -> None:
    # ROAS is attributed (ad_gmv / ad_spend): the fixture has no ad_gmv, so no data — not GMV / spend
    reply = chat.ask("投产比怎么样", as_user="hana")
    assert reply.title == "投产比 · 团队 · 2026年11月"
    assert figures(reply)["实际"] == "暂无数据"
    assert reply.footnotes[0] == "暂无数据：2026年11月 没有 `ad_gmv` 的数据"
    blended = chat.ask("全店投产比怎么样", as_user="hana")
    assert blended.title == "全店投产比 · 团队 · 2026年11月"
    assert figures(blended)["实际"] == "43.50"  # team GMV 34,800 / ad spend 800
    assert figures(blended)["状态"] == "未设目标"


def test_leaderboard_in_chinese(chat: TestAdapter) -> None:
    reply = chat.ask("本周主播排名", as_user="hana")
    assert reply.title == "GMV 排名 · 主播 · 2026年第47周（11/16–11/22）"
    [table] = reply.tables
    # Hana 1000 × 3 = 3,000; her week target = 30,000 × 7/30 = 7,000 → 42.9 %; Hugo 500 × 3 = 1,500
    assert table.rows == [["1", "Hana", "$3,000", "$7,000", "42.9%", "正常"],
                          ["2", "Hugo", "$1,500", "—", "—", "未设目标"]]
    # Hana's pace: 3,000 / (7,000 × 3/7) = 100 % → on track


def test_board_command(chat: TestAdapter) -> None:
    reply = chat.ask("board gmv role:host month", as_user="hugo")
    [table] = reply.tables
    # Hana 18,000 of 30,000 = 60.0 %; Hugo 9,000, no target
    assert [row[:5] for row in table.rows] == [["1", "Hana", "$18K", "$30K", "60.0%"],
                                               ["2", "Hugo", "$9,000", "—", "—"]]


def test_my_kpis_in_chinese(chat: TestAdapter) -> None:
    reply = chat.ask("我的KPI", as_user="hana")
    assert reply.title == "我的 KPI · Hana · 2026年11月"
    [table] = reply.tables
    rows = {row[0]: row[1:4] for row in table.rows}
    assert rows["GMV"] == ["$1.8万", "$3万", "60.0%"]   # 18,000 / 30,000
    assert rows["场均观看"] == ["200", "—", "—"]         # 3,600 viewers / 18 sessions
    assert rows["平均停留"] == ["60.0秒", "—", "—"]      # 216,000 s / 3,600 viewers
    assert rows["成交转化率"] == ["5.0%", "—", "—"]       # 180 orders / 3,600 viewers


def test_me_for_someone_not_linked(chat: TestAdapter) -> None:
    reply = chat.ask("me", as_user="newbie")
    assert reply.kind is ReplyKind.ERROR
    assert "role assign" in (reply.text or "")


def test_admin_sets_a_target_and_a_member_asks_for_it(chat: TestAdapter, db: Database) -> None:
    confirmation = chat.ask("target set gmv 40k member:h2@shop.com month", as_user="boss")
    assert confirmation.kind is ReplyKind.CONFIRMATION
    assert confirmation.text == "GMV target for Hugo, November 2026: $40K."
    reply = chat.ask("me", as_user="hugo")
    gmv = {row[0]: row for row in reply.tables[0].rows}["GMV"]
    assert gmv[1:4] == ["$9,000", "$40K", "22.5%"]  # 500 × 18 = 9,000 of 40,000
    # and now the host role target is derived from both members: 30,000 + 40,000
    role = chat.ask("gmv role:host month", as_user="hugo")
    assert figures(role)["Target"] == "$70K"
    assert "Target is the sum of 2 member targets" in role.footnotes


def test_target_set_in_chinese_with_wan(chat: TestAdapter, db: Database) -> None:
    reply = chat.ask("设置目标 gmv 120万 本季度", as_user="boss")
    assert reply.lang == "zh" and reply.kind is ReplyKind.CONFIRMATION
    with db.session() as session:
        targets = target_repo.list_targets(session, None, *_q4())
    assert [(t.kpi, t.period_key, t.value) for t in targets if t.period_kind == "quarter"] == [
        ("gmv", "2026-Q4", 1_200_000)]


def _q4():  # type: ignore[no-untyped-def]
    from datetime import date

    return date(2026, 10, 1), date(2026, 12, 31)


def test_percent_target_and_replacing_it(chat: TestAdapter) -> None:
    chat.ask("target set return_rate 5% month", as_user="boss")
    again = chat.ask("target set return_rate 4% month", as_user="boss")
    assert again.text == "Return rate target for Team, November 2026: 4.0% (was 5.0%)."
    listed = chat.ask("target list month", as_user="hana")
    assert ["Return rate", "Team", "November 2026", "4.0%", "boss@shop.com"] in listed.tables[0].rows


def test_target_clear(chat: TestAdapter) -> None:
    cleared = chat.ask("target clear gmv team month", as_user="boss")
    assert cleared.text == "GMV target for Team, November 2026 removed (was $50K)."
    assert figures(chat.ask("gmv month", as_user="hana"))["Target"] == "no target set"


def test_non_admin_is_refused_and_the_refusal_is_audited(chat: TestAdapter, db: Database) -> None:
    reply = chat.ask("target set gmv 1m month", as_user="hana")
    assert reply.kind is ReplyKind.REFUSAL
    assert "boss@shop.com" in (reply.text or "")
    with db.session() as session:
        [entry] = audit_repo.latest(session, 1)
        target = target_repo.list_targets(session, None, *_q4())
    assert (entry.action, entry.outcome, entry.actor_email) == ("target.set", "refused", "h1@shop.com")
    assert 50000 in [t.value for t in target if t.scope_kind == "team"]  # unchanged


def test_admins_added_in_chat(chat: TestAdapter) -> None:
    assert chat.ask("admin add @hugo", as_user="hana").kind is ReplyKind.REFUSAL
    assert chat.ask("admin add @hugo", as_user="boss").kind is ReplyKind.CONFIRMATION
    assert chat.ask("target set gmv 10k member:h2@shop.com week", as_user="hugo").kind is ReplyKind.CONFIRMATION
    assert "Hugo" in (chat.ask("admin list", as_user="hana").text or "")
    chat.ask("admin remove @hugo", as_user="boss")
    assert chat.ask("target set gmv 10k week", as_user="hugo").kind is ReplyKind.REFUSAL


def test_audit_shows_who_what_old_and_new(chat: TestAdapter) -> None:
    chat.ask("target set gmv 60k month", as_user="boss")
    chat.ask("target set gmv 1 month", as_user="hana")
    reply = chat.ask("audit 2", as_user="hana")
    rows = reply.tables[0].rows
    assert rows[0][1:] == ["h1@shop.com", "target.set · target gmv team 2026-11", "— → —", "refused"]
    assert rows[1][1:] == ["boss@shop.com", "target.set · target gmv team 2026-11", "50000.0 → 60000.0", "done"]


def test_role_assignment_links_a_chat_user_to_a_member_key(chat: TestAdapter) -> None:
    reply = chat.ask("role assign @newbie editor as e9@shop.com", as_user="boss")
    assert reply.text == "newbie is now Video editor (member key e9@shop.com)."
    me = chat.ask("me", as_user="newbie")
    assert me.title == "Your KPIs · newbie · November 2026"
    assert [row[0] for row in me.tables[0].rows] == ["Videos published", "3-second hook rate", "Completion rate"]
    listed = chat.ask("role list", as_user="hana")
    assert ["newbie", "e9@shop.com", "Video editor"] in listed.tables[0].rows
    assert chat.ask("role remove @newbie editor", as_user="boss").text == "newbie no longer holds Video editor."


def test_alert_commands(chat: TestAdapter) -> None:
    added = chat.ask("alert add roas < 2 for 3 days in #ads", as_user="boss")
    assert added.kind is ReplyKind.CONFIRMATION
    assert added.text == "Alert #1: ROAS (Team) < 2.00 on each of the last 3 day(s), posting to ads."
    pace = chat.ask("alert add gmv pace < 90% role:host", as_user="boss")
    assert pace.text == "Alert #2: GMV (Live host) month-to-date pace < 90.0%, posting to C-test."
    listed = chat.ask("alert list", as_user="hana")
    assert [row[0] for row in listed.tables[0].rows] == ["#1", "#2"]
    assert chat.ask("alert rm 1", as_user="hana").kind is ReplyKind.REFUSAL
    assert chat.ask("alert rm 1", as_user="boss").text == "Alert #1 removed."
    assert chat.ask("alert rm 1", as_user="boss").kind is ReplyKind.ERROR  # already gone


def test_digest_subscription_commands(chat: TestAdapter) -> None:
    added = chat.ask("digest subscribe #weekly-review weekly fri 17:30", as_user="boss")
    assert added.text == "Subscription #1: weekly on fri at 17:30 (UTC) to weekly-review."
    default = chat.ask("digest subscribe", as_user="boss")
    assert default.text == "Subscription #2: weekly on mon at 09:00 (UTC) to C-test."
    listed = chat.ask("digest list", as_user="hana")
    assert [row[0] for row in listed.tables[0].rows] == ["#1", "#2"]
    assert chat.ask("digest unsubscribe 2", as_user="boss").text == "Subscription #2 removed."


def test_help_in_both_languages(chat: TestAdapter) -> None:
    assert "board KPI [role:ROLE] [PERIOD]" in (chat.ask("help", as_user="hana").text or "")
    assert "用法" in (chat.ask("帮助 target", as_user="hana").text or "")
    topic = chat.ask("help alert", as_user="hana")
    assert topic.title == "kpibot — alert" and "alert add roas < 2 for 3 days" in (topic.text or "")


def test_public_flag(chat: TestAdapter) -> None:
    assert chat.ask("gmv month public", as_user="hana").public
    assert chat.ask("GMV达成率多少 公开", as_user="hana").public
    assert not chat.ask("gmv month", as_user="hana").public


def test_target_form_for_admins_only(chat: TestAdapter) -> None:
    assert chat.ask("target", as_user="boss").form == "target"
    refused = chat.ask("target", as_user="hana")
    assert refused.form is None and refused.kind is ReplyKind.REFUSAL


def test_target_form_speaks_the_admins_language(chat: TestAdapter) -> None:
    boss = chat.users["boss"]
    chinese = chat.core.target_form(boss, "zh")
    assert chinese.title == "设置目标" and chinese.labels["value"] == "目标值"
    assert ("week", "本周") in [(o.value, o.label) for o in chinese.periods]
    assert [o.value for o in chat.core.target_form(boss).scopes][:2] == ["team", "role:ops_manager"]


def test_digest_now_posts_to_the_outbox(chat: TestAdapter, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from jobs.outbox import FileOutbox

    chat.core.outboxes["file"] = FileOutbox(tmp_path)
    reply = chat.ask("digest now #review", as_user="hana")
    assert reply.text == "Posted to review."
    [markdown] = (tmp_path / "review").glob("*.md")
    # the last complete week before Fri Nov 20 is week 46 (Nov 9–15): team GMV (1000 + 500 + 300) × 7 = 12,600
    text = markdown.read_text(encoding="utf-8")
    assert "Weekly review · week 46, 2026 (Nov 09–Nov 15)" in text
    assert "$12.6K" in text
    assert list((tmp_path / "review").glob("*.png"))


def test_sources_and_a_stale_source_named_in_answers(chat: TestAdapter) -> None:
    from datetime import date

    from tests.fixtures import add_facts

    add_facts(chat.core.db, [("gmv", date(2026, 11, 10), 100, "")], source="sheet")  # 10 days old on Nov 20
    listed = chat.ask("sources", as_user="hana")
    rows = {row[0]: row for row in listed.tables[0].rows}
    assert rows["test"][3:] == ["2026-11-18", "fresh"]   # data through Nov 18 ≥ Nov 20 − 2 days
    assert rows["sheet"][3:] == ["2026-11-10", "stale"]
    status = chat.ask("gmv month", as_user="hana")
    assert "Source sheet is stale: figures may be incomplete" in status.footnotes
    zh = chat.ask("数据源", as_user="hana")
    zh_rows = {row[0]: row for row in zh.tables[0].rows}
    assert zh.title == "数据源" and zh_rows["sheet"][4] == "滞后"


def test_digest_subscription_in_chinese(chat: TestAdapter) -> None:
    reply = chat.ask("周报 订阅 每周 周五 18:00", as_user="boss")
    assert reply.text == "订阅 #1：每周五 18:00（UTC）发送到 C-test。"
