"""The composite-score radar attached to `me`: one axis per KPI with a pace attainment, capped at 150 %."""

from __future__ import annotations

from datetime import date

from jobs.meetings.composite_radar import composite_radar, radar_values
from storage.kpi.attainment import evaluate
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.kpi.target_book import ResolvedTarget

REGISTRY = load_registry(None)
NOVEMBER = Calendar(0).month(date(2026, 11, 1))


def status(kpi_id: str, actual: float | None, target: float | None):  # type: ignore[no-untyped-def]
    kpi = REGISTRY.kpis[kpi_id]
    sums = {m: actual for m in kpi.metrics} if actual is not None else {}
    resolved = ResolvedTarget(target) if target is not None else None
    return evaluate(kpi, Scope.member("a"), NOVEMBER, sums, date(2026, 11, 30) if actual else None,
                    date(2026, 12, 1), resolved)


def test_axes_are_the_kpis_with_a_pace_and_values_are_capped() -> None:
    # Finished month: pace = attainment. gmv 300/100 = 300 % → capped 150 %; orders 90/100 = 90 %;
    # videos 120/100 = 120 %; ad_spend has no target → no axis.
    statuses = [status("gmv", 300, 100), status("orders", 90, 100), status("videos_published", 120, 100),
                status("ad_spend", 50, None)]
    axes, series = radar_values([("Anna", statuses)], "en")
    assert axes == ["GMV", "Orders", "Videos published"]
    assert series == [("Anna", [1.5, 0.9, 1.2])]
    chart = composite_radar([("Anna", statuses)], "en", "Anna")
    assert chart is not None and chart.png.startswith(b"\x89PNG")


def test_fewer_than_three_kpis_with_a_pace_give_no_radar() -> None:
    statuses = [status("gmv", 300, 100), status("orders", 90, 100), status("ad_spend", 50, None)]
    assert composite_radar([("Anna", statuses)], "en", "Anna") is None


def test_a_roles_answer_carries_the_radar_of_its_members(db, make_settings) -> None:  # type: ignore[no-untyped-def]
    """`how are hosts doing` on the conversation team (today Fri 2026-11-20, data Nov 1–18): Hana (h1) has
    GMV 1,000, 1 session, 200 viewers, 12,000 watch seconds and 10 live orders a day; Hugo (h2) GMV 500 a
    day and no target, so he has no pace attainment and is not drawn."""
    from jobs.meetings.composite_radar import role_series
    from storage.kpi.engine import KpiEngine
    from tests.conversation_fixture import conversation_team
    from tests.fixtures import set_target

    chat = conversation_team(db, make_settings())
    for kpi, value in (("live_viewers_per_session", 250), ("avg_watch_seconds", 50), ("live_cvr", 0.04)):
        set_target(db, kpi, Scope.member("h1@shop.com"), "2026-11", value)
    reply = chat.ask("how are hosts doing", as_user="hana")
    [radar] = reply.charts
    assert radar.name == "composite-radar-host.png" and radar.png.startswith(b"\x89PNG")
    assert radar.title == "Live host · composite by KPI · November 2026"
    zh = chat.ask("主播表现怎么样", as_user="hana")
    assert [c.title for c in zh.charts] == ["主播 · 各指标综合得分 · 2026年11月"]

    engine: KpiEngine = chat.core.engine
    role = REGISTRY.roles["host"]
    scores = engine.member_scores([REGISTRY.kpis[k] for k in role.kpis], "host", NOVEMBER, role.kpis)
    axes, series = radar_values(role_series(scores), "en")
    assert axes == ["GMV", "Viewers per live session", "Average watch time", "Live conversion rate"]
    # GMV 18,000 against 30,000 × 18/30 = 18,000 → 100 %; 200 viewers / 250 = 80 %; 60 s / 50 s = 120 %;
    # 10 / 200 = 5.0 % against 4 % = 125 %
    assert [(name, [round(v, 4) for v in values if v is not None]) for name, values in series] == [
        ("Hana", [1.0, 0.8, 1.2, 1.25])]


def test_long_axis_labels_break_onto_two_lines_rather_than_being_cut() -> None:
    from jobs.charts.render import _two_lines

    assert _two_lines("GMV", 16) == "GMV"
    assert _two_lines("Viewers per live session", 16) == "Viewers per live\nsession"
    assert _two_lines("Live conversion rate", 16) == "Live conversion\nrate"
    assert _two_lines("Average watch time", 16) == "Average watch\ntime"
    assert _two_lines("场均观看", 16) == "场均观看"
