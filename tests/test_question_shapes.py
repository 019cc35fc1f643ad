"""Question shapes of issue 13 answered end to end with exact figures: run-rate, comparisons, trends
with a chart, leaderboards in the asked direction, a role's KPIs per member, years and rolling
windows, an empty current period, alert durations and `today` in an alert.

Fixture (tests/conversation_fixture.py): today Fri 2026-11-20, data Nov 1–18; team GMV 1,800 a day
(Hana 1,000 + Hugo 500 + shop 300) + Bo 2,400 on Nov 2; team target 50,000 for November."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.bot import KpiBot
from bot.testing import TestAdapter
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.registry import load_registry
from tests.conversation_fixture import conversation_team


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    return conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))


def figures(reply) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.label: f.value for f in reply.figures}


def test_run_rate_in_both_languages(chat: TestAdapter) -> None:
    reply = chat.ask("how much do we need per day", as_user="hana")
    assert reply.title == "GMV · what it takes · Team · November 2026"
    assert figures(reply) == {
        "Actual": "$34.8K",                # 1,800 × 18 + 2,400
        "Target": "$50K",
        "Still to go": "$15.2K",           # 50,000 − 34,800
        "Days left": "12",                 # Nov 19 … 30
        "Needed per day": "$1,266.67",     # 15,200 / 12
        "Per day so far": "$1,933.33",     # 34,800 / 18
    }
    zh = chat.ask("本月还差多少能完成GMV目标", as_user="hana")
    assert zh.title == "GMV · 还差多少 · 团队 · 2026年11月"
    assert figures(zh)["每天还需"] == "$1,266.67"


def test_run_rate_without_a_target_says_so(chat: TestAdapter) -> None:
    reply = chat.ask("daily run rate for orders", as_user="hana")
    assert "No Orders target for November 2026" in (reply.text or "")


def test_comparison_with_the_week_before(chat: TestAdapter) -> None:
    reply = chat.ask("gmv week 46 vs the week before", as_user="hana")
    assert reply.title == "GMV · Team · week 46, 2026 (Nov 09–Nov 15) vs week 45, 2026 (Nov 02–Nov 08)"
    # week 46: 7 × 1,800 = 12,600; week 45: 7 × 1,800 + 2,400 = 15,000; (12,600 − 15,000) / 15,000
    assert figures(reply) == {"week 46, 2026 (Nov 09–Nov 15)": "$12.6K", "week 45, 2026 (Nov 02–Nov 08)": "$15K",
                              "Change": "-16.0%"}


def test_a_running_period_is_compared_like_for_like(chat: TestAdapter) -> None:
    reply = chat.ask("本周GMV环比", as_user="hana")
    # week 47 (Nov 16–22) has data for Nov 16–18: 3 × 1,800 = 5,400, against Nov 9–11 of week 46: 5,400
    assert figures(reply)["变化"] == "+0.0%"
    assert "按同期对比：各取期初起 3 天。" in reply.footnotes


def test_year_over_year_without_last_years_data_says_so(chat: TestAdapter) -> None:
    reply = chat.ask("GMV同比", as_user="hana")
    assert reply.title == "GMV · 团队 · 2026年11月 对比 2025年11月"
    assert "2025年11月 没有 GMV 数据，无法对比。" in reply.footnotes


def test_trend_is_a_daily_series_with_a_chart(chat: TestAdapter) -> None:
    reply = chat.ask("GMV走势 第45周", as_user="hana")
    [table] = reply.tables
    assert table.rows[0] == ["2026-11-02", "$4,200"]  # 1,800 + Bo's 2,400
    assert [row[1] for row in table.rows[1:]] == ["$1,800"] * 6
    [chart] = reply.charts
    assert chart.name == "gmv-trend.png" and chart.png[:4] == b"\x89PNG"


def test_trend_of_a_quarter_is_weekly(chat: TestAdapter) -> None:
    reply = chat.ask("gmv trend this quarter", as_user="hana")
    [table] = reply.tables
    assert table.columns[0] == "Week of"
    # Oct 1 … Nov 18 in weeks from Oct 1: Oct 29–Nov 4 holds Nov 1–4: 4 × 1,800 + 2,400 = 9,600
    assert ["2026-10-29", "$9,600"] in table.rows
    assert ["2026-10-01", "—"] in table.rows  # no data in those weeks: a gap, not $0


def test_leaderboard_in_the_asked_direction(chat: TestAdapter) -> None:
    reply = chat.ask("who sold the least", as_user="hana")
    # November GMV: Bo 2,400, Hugo 18 × 500 = 9,000, Hana 18 × 1,000 = 18,000
    assert [row[1] for row in reply.tables[0].rows] == ["Bo", "Hugo", "Hana"]
    top = chat.ask("谁卖得最多", as_user="hana")
    assert [row[1] for row in top.tables[0].rows] == ["Hana", "Hugo", "Bo"]


def test_rolling_window_and_year(chat: TestAdapter) -> None:
    reply = chat.ask("gmv last 7 days", as_user="hana")
    # ends at the data-through date, Nov 18: Nov 12 … 18 = 7 × 1,800
    assert reply.title == "GMV · Team · 7 days (Nov 12–Nov 18)"
    assert figures(reply)["Actual"] == "$12.6K"
    year = chat.ask("今年以来GMV", as_user="hana")
    assert year.title == "GMV · 团队 · 2026年" and figures(year)["实际"] == "$3.48万"


def test_someone_elses_kpis_and_the_team_s(chat: TestAdapter) -> None:
    reply = chat.ask("How's Hana doing?", as_user="boss")
    assert reply.title == "KPIs · Hana · November 2026"
    assert reply.tables[0].rows[0][:3] == ["GMV", "$18K", "$30K"]
    team = chat.ask("how did the team do last week?", as_user="boss")
    assert team.title == "KPIs · Team · week 46, 2026 (Nov 09–Nov 15)"
    assert team.tables[0].rows[0][:2] == ["GMV", "$12.6K"]


def test_my_kpi_is_that_kpi_for_the_asker(chat: TestAdapter) -> None:
    reply = chat.ask("我的GMV", as_user="hana")
    assert reply.title == "GMV · Hana · 2026年11月"
    assert figures(reply)["实际"] == "$1.8万"  # 18 × 1,000


def test_an_ambiguous_name_gets_a_question_back(chat: TestAdapter) -> None:
    from storage.repositories import members as member_repo

    with chat.core.db.session() as session:
        member_repo.ensure_member(session, "h3@shop.com", email="h3@shop.com", display_name="Hana Li")
    reply = chat.ask("hana gmv", as_user="boss")
    assert reply.kind == ReplyKind.ERROR
    assert reply.text.startswith("“hana” could be Hana (h1@shop.com), Hana Li (h3@shop.com). Which one?")


def test_an_empty_current_week_answers_with_last_week(db: Database, make_settings) -> None:  # type: ignore[no-untyped-def]
    chat = conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))
    monday = KpiBot(settings=chat.core.settings, db=db, registry=load_registry(None), today=lambda: date(2026, 11, 23))
    chat.core = monday  # Monday Nov 23: data runs through Wednesday Nov 18, nothing this week yet
    reply = chat.ask("gmv this week", as_user="hana")
    assert reply.text == "No data yet this week (data runs through Wednesday 2026-11-18). Last week:"
    assert reply.title == "GMV · Team · week 47, 2026 (Nov 16–Nov 22)"
    assert figures(reply)["Actual"] == "$5,400"  # Nov 16–18: 3 × 1,800
    zh = chat.ask("本周主播排名", as_user="hana")
    assert zh.text == "本周还没有数据（数据截至周三 2026-11-18）。上周："
    assert [row[1] for row in zh.tables[0].rows] == ["Hana", "Hugo"]


def test_alert_durations_and_today(chat: TestAdapter) -> None:
    for text, days in (("预警 添加 roas < 2 连续3天", 3), ("alert add ctr < 1% 5 days in a row", 5),
                       ("预警 添加 cpc > 0.8 连续五天", 5), ("alert add roas < 1.5 for two days", 2)):
        reply = chat.ask(text, as_user="boss")
        assert reply.kind == ReplyKind.CONFIRMATION, reply.text
        assert (f"last {days} day(s)" in (reply.text or "")) or (f"连续 {days} 天" in (reply.text or ""))
    refused = chat.ask("alert add roas < 2 today", as_user="boss")
    assert refused.kind == ReplyKind.ERROR and "today is complete only tomorrow" in (refused.text or "")
    refused_zh = chat.ask("预警 添加 roas < 2 今天", as_user="boss")
    assert "今天要到明天才完整" in (refused_zh.text or "")
    listed = chat.ask("alert list", as_user="boss")
    assert len(listed.tables[0].rows) == 4  # the two refused were not added


def test_an_unknown_word_gets_the_closest_answerable_question_spelled_out(chat: TestAdapter) -> None:
    reply = chat.ask("gmv lst week", as_user="hana")
    assert reply.text.startswith("I don't understand “lst”. Did you mean “gmv last week”?")
    reply = chat.ask("GMV 哈哈哈", as_user="hana")  # nothing close: the question without the word
    assert reply.text.startswith("无法识别“哈哈哈”。你是不是想说“GMV”？")
    reply = chat.ask("gmv last", as_user="hana")  # `last` is never taken for `list`
    assert reply.text.startswith("“last” what? Say `last week`, `last month` or `last 7 days`.")
