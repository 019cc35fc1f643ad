"""The KPI engine against hand-computed figures (SPEC §5). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from storage.db import Database
from storage.kpi.attainment import Status
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from tests.fixtures import ONE_DAY, ONE_DAY_FACTS, add_facts, add_members, set_target

REGISTRY = load_registry(None)
KPI = REGISTRY.kpis


def engine_for(db: Database, today: date, tz: str = "UTC") -> KpiEngine:
    from zoneinfo import ZoneInfo

    return KpiEngine(db, REGISTRY, tz=ZoneInfo(tz), week_start=0, today=lambda: today)


@pytest.fixture
def one_day(db: Database) -> KpiEngine:
    add_members(db)
    add_facts(db, ONE_DAY_FACTS)
    return engine_for(db, date(2026, 11, 10))


DAY = Calendar(0).day(ONE_DAY)

# (kpi, scope, expected value) — every built-in KPI, arithmetic from tests/fixtures.ONE_DAY_FACTS.
EVERY_KPI = [
    ("gmv", Scope.team(), 4200.0),                          # 1000 + 500 + 300 + 2400
    ("orders", Scope.team(), 36.0),                         # 20 + 10 + 6
    ("aov", Scope.team(), 4200 / 36),                       # 116.67
    ("return_rate", Scope.team(), 3 / 36),                  # 0.0833
    ("review_response_hours", Scope.team(), 2.5),           # 10 h / 4 reviews
    ("add_to_cart_rate", Scope.team(), 0.15),               # 90 / (200 + 400)
    ("gmv", Scope.role("host"), 1500.0),                    # h1 1000 + h2 500
    ("live_viewers_per_session", Scope.member("h1@shop.com"), 1500.0),  # 3000 / 2
    ("avg_watch_seconds", Scope.member("h1@shop.com"), 60.0),           # 180000 / 3000
    ("live_cvr", Scope.member("h1@shop.com"), 0.05),                    # 150 / 3000
    ("ad_spend", Scope.member("b1@shop.com"), 800.0),
    ("roas", Scope.member("b1@shop.com"), 2.5),                          # ad_gmv 2000 / 800
    ("mer", Scope.team(), 5.25),                                         # all gmv 4200 / 800
    ("ad_gmv", Scope.member("b1@shop.com"), 2000.0),
    ("cpm", Scope.member("b1@shop.com"), 8.0),                           # 800 / 100000 * 1000
    ("cpc", Scope.member("b1@shop.com"), 2.0),                           # 800 / 400
    ("ctr", Scope.member("b1@shop.com"), 0.004),                         # 400 / 100000
    ("videos_published", Scope.member("e1@shop.com"), 3.0),
    ("hook_rate_3s", Scope.member("e1@shop.com"), 0.4),                  # 4000 / 10000
    ("completion_rate", Scope.member("e1@shop.com"), 0.15),              # 1500 / 10000
]


@pytest.mark.parametrize(("kpi", "scope", "expected"), EVERY_KPI, ids=[f"{k}-{s}" for k, s, _ in EVERY_KPI])
def test_every_builtin_kpi_on_one_day(one_day: KpiEngine, kpi: str, scope: Scope, expected: float) -> None:
    result = one_day.status(KPI[kpi], scope, DAY)
    assert result.actual == pytest.approx(expected)
    assert result.data_through == ONE_DAY


# The flywheel KPIs are computed month by month, by hand, in tests/test_flywheel.py.
FLYWHEEL_KPIS = {"cac", "order_cvr", "repeat_rate", "nps", "ltv"}


def test_every_builtin_kpi_is_covered() -> None:
    assert {kpi for kpi, _, _ in EVERY_KPI} | FLYWHEEL_KPIS == set(KPI)


def test_ratio_kpi_is_a_ratio_of_sums_not_a_mean_of_daily_ratios(db: Database) -> None:
    d1, d2 = date(2026, 11, 2), date(2026, 11, 3)
    add_facts(db, [("gmv", d1, 2400, "b1"), ("ad_spend", d1, 800, "b1"),   # day ROAS 3.0
                   ("gmv", d2, 100, "b1"), ("ad_spend", d2, 100, "b1")])   # day ROAS 1.0
    week = Calendar(0).week(d1)
    result = engine_for(db, date(2026, 11, 20)).status(KPI["mer"], Scope.member("b1"), week)
    # (2400 + 100) / (800 + 100) = 2.777…, not (3.0 + 1.0) / 2 = 2.0
    assert result.actual == pytest.approx(2500 / 900)
    assert result.actual != pytest.approx(2.0)


def test_lower_is_better_kpi(db: Database) -> None:
    add_facts(db, [("returns", ONE_DAY, 3, ""), ("orders", ONE_DAY, 36, "")])
    set_target(db, "return_rate", Scope.team(), "2026-11", 0.05)
    month = Calendar(0).month(ONE_DAY)
    result = engine_for(db, date(2026, 12, 5)).status(KPI["return_rate"], Scope.team(), month)
    # actual 3/36 = 0.08333; lower is better: attainment = target / actual = 0.05 / 0.08333 = 0.6
    assert result.attainment == pytest.approx(0.6)
    assert result.pace_attainment == pytest.approx(0.6)  # a ratio KPI paces at its attainment
    assert result.status is Status.OFF_TRACK  # 0.6 < warn 0.9
    assert result.projection == pytest.approx(3 / 36)  # ratio KPI: projection = actual
    assert result.run_rate is None


def test_pacing_on_an_unfinished_month(db: Database) -> None:
    # 1,000 a day from Nov 1 through Nov 18; today is Nov 20, so data runs through the 18th.
    add_facts(db, [("gmv", date(2026, 11, 1) + timedelta(days=i), 1000, "") for i in range(18)])
    set_target(db, "gmv", Scope.team(), "2026-11", 45000)
    result = engine_for(db, date(2026, 11, 20)).status(KPI["gmv"], Scope.team(), Calendar(0).month(ONE_DAY))
    assert result.actual == 18000
    assert result.data_through == date(2026, 11, 18)
    assert result.elapsed == pytest.approx(18 / 30)
    assert result.attainment == pytest.approx(18000 / 45000)            # 0.4
    assert result.pace_attainment == pytest.approx(18000 / (45000 * 0.6))  # 0.667
    assert result.projection == pytest.approx(18000 / 0.6)               # 30,000
    assert result.run_rate == pytest.approx((45000 - 18000) / 12)        # 2,250 a day for Nov 19–30
    assert result.status is Status.OFF_TRACK                             # 0.667 < 0.9


def test_status_thresholds(db: Database) -> None:
    add_facts(db, [("gmv", date(2026, 10, 1), 950, "a"), ("gmv", date(2026, 10, 1), 850, "b"),
                   ("gmv", date(2026, 10, 1), 1000, "c")])
    for member in ("a", "b", "c"):
        set_target(db, "gmv", Scope.member(member), "2026-10", 1000)
    october = Calendar(0).month(date(2026, 10, 1))
    engine = engine_for(db, date(2026, 11, 5))  # October is finished: f = 1
    marks = {m: engine.status(KPI["gmv"], Scope.member(m), october).status for m in ("a", "b", "c")}
    # 950/1000 = 0.95 ≥ 0.9 → at risk; 850/1000 = 0.85 → off track; 1000/1000 = 1 → on track
    assert marks == {"a": Status.AT_RISK, "b": Status.OFF_TRACK, "c": Status.ON_TRACK}


def test_week_spanning_two_months_prorates_month_targets(db: Database) -> None:
    set_target(db, "gmv", Scope.team(), "2026-10", 31000)
    set_target(db, "gmv", Scope.team(), "2026-11", 60000)
    week = Calendar(0).week(date(2026, 10, 28))  # Mon Oct 26 – Sun Nov 1
    add_facts(db, [("gmv", week.start, 100, "")])
    result = engine_for(db, date(2026, 11, 10)).status(KPI["gmv"], Scope.team(), week)
    # 31,000 × 6/31 (Oct 26–31) + 60,000 × 1/30 (Nov 1) = 6,000 + 2,000 = 8,000
    assert result.target is not None
    assert result.target.value == pytest.approx(8000)
    assert result.target.derived_from == "month"
    assert result.target.sources == ("2026-10", "2026-11")


def test_ratio_kpi_week_target_is_taken_from_the_month_holding_most_days(db: Database) -> None:
    set_target(db, "mer", Scope.team(), "2026-10", 3.0)
    set_target(db, "mer", Scope.team(), "2026-11", 4.0)
    add_facts(db, [("gmv", date(2026, 10, 27), 300, ""), ("ad_spend", date(2026, 10, 27), 100, "")])
    week = Calendar(0).week(date(2026, 10, 28))  # 6 days in October
    result = engine_for(db, date(2026, 11, 10)).status(KPI["mer"], Scope.team(), week)
    assert result.target is not None and result.target.value == 3.0
    assert result.attainment == pytest.approx(1.0)  # (300 / 100) / 3.0


def test_month_target_derived_from_the_quarter(db: Database) -> None:
    set_target(db, "gmv", Scope.team(), "2026-Q4", 92000)
    add_facts(db, [("gmv", date(2026, 11, 3), 10, "")])
    result = engine_for(db, date(2026, 12, 10)).status(KPI["gmv"], Scope.team(), Calendar(0).month(ONE_DAY))
    # Q4 has 92 days; November 30 of them: 92,000 × 30/92 = 30,000
    assert result.target is not None and result.target.value == pytest.approx(30000)
    assert result.target.derived_from == "quarter"


def test_iso_week_53(db: Database) -> None:
    calendar = Calendar(0)
    week = calendar.from_key("2026-W53")
    assert week is not None and (week.start, week.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert calendar.week(date(2027, 1, 2)).key == "2026-W53"
    assert calendar.from_key("2027-W53") is None  # 2027 has 52 ISO weeks
    set_target(db, "gmv", Scope.team(), "2026-12", 31000)
    set_target(db, "gmv", Scope.team(), "2027-01", 62000)
    add_facts(db, [("gmv", date(2027, 1, 2), 10, "")])
    result = engine_for(db, date(2027, 1, 20)).status(KPI["gmv"], Scope.team(), week)
    # 31,000 × 4/31 (Dec 28–31) + 62,000 × 3/31 (Jan 1–3) = 4,000 + 6,000 = 10,000
    assert result.target is not None and result.target.value == pytest.approx(10000)


def test_a_week_across_the_dst_change_in_los_angeles(db: Database) -> None:
    from zoneinfo import ZoneInfo

    from bot.language.parser import Parser  # the period words of chat resolve in the team zone

    # Daylight saving ends Sunday 2026-11-01 02:00 in Los Angeles (clocks fall back to 01:00).
    add_facts(db, [("gmv", date(2026, 10, 26) + timedelta(days=i), 1000, "") for i in range(7)])
    set_target(db, "gmv", Scope.team(), "2026-W44", 7000)
    engine = KpiEngine(db, REGISTRY, tz=ZoneInfo("America/Los_Angeles"), week_start=0)
    parser_week = {}
    for instant in (datetime(2026, 11, 2, 7, 30, tzinfo=UTC),   # Sun Nov 1, 23:30 PST: still week 44
                    datetime(2026, 11, 2, 8, 30, tzinfo=UTC)):  # Mon Nov 2, 00:30 PST: week 45
        with time_machine.travel(instant, tick=False):
            today = engine.today()
            parser = Parser(REGISTRY, engine.calendar, engine.today)
            from bot.core.request import CommandRequest, UserRef

            command = parser.parse(CommandRequest("gmv week", UserRef("test", "u")))
            parser_week[today] = command.period  # type: ignore[attr-defined]
    assert [p.key for p in parser_week.values()] == ["2026-W44", "2026-W45"]
    week44 = parser_week[date(2026, 11, 1)]
    assert week44.days == 7  # 7 calendar days although the week has 169 hours
    with time_machine.travel(datetime(2026, 11, 2, 7, 30, tzinfo=UTC), tick=False):
        result = engine.status(KPI["gmv"], Scope.team(), week44)
    # data through Sun Nov 1 = the last day: f = 7/7, pace = 7,000 / (7,000 × 1) = 1
    assert result.elapsed == 1.0
    assert result.pace_attainment == pytest.approx(1.0)


def test_derived_role_target_is_the_sum_of_member_targets(db: Database) -> None:
    add_members(db)
    add_facts(db, [("gmv", ONE_DAY, 1000, "h1@shop.com"), ("gmv", ONE_DAY, 500, "h2@shop.com")])
    set_target(db, "gmv", Scope.member("h1@shop.com"), "2026-11", 30000)
    set_target(db, "gmv", Scope.member("h2@shop.com"), "2026-11", 20000)
    result = engine_for(db, date(2026, 12, 1)).status(KPI["gmv"], Scope.role("host"), Calendar(0).month(ONE_DAY))
    assert result.target is not None
    assert result.target.value == 50000  # 30,000 + 20,000
    assert result.target.derived_from == "members"
    assert result.attainment == pytest.approx(1500 / 50000)


def test_no_role_target_when_a_member_has_none(db: Database) -> None:
    add_members(db)
    add_facts(db, [("gmv", ONE_DAY, 1000, "h1@shop.com")])
    set_target(db, "gmv", Scope.member("h1@shop.com"), "2026-11", 30000)  # h2 has no target
    result = engine_for(db, date(2026, 12, 1)).status(KPI["gmv"], Scope.role("host"), Calendar(0).month(ONE_DAY))
    assert result.target is None
    assert result.status is Status.NO_TARGET


def test_undefined_when_the_denominator_is_zero_or_there_are_no_rows(db: Database) -> None:
    add_facts(db, [("gmv", ONE_DAY, 100, ""), ("orders", ONE_DAY, 0, "")])
    engine = engine_for(db, date(2026, 11, 10))
    assert engine.status(KPI["aov"], Scope.team(), DAY).actual is None        # 100 / 0
    nothing = engine.status(KPI["roas"], Scope.team(), DAY)
    assert nothing.actual is None and nothing.status is Status.NO_DATA       # no rows at all


def test_previous_period_is_compared_like_for_like(db: Database) -> None:
    # October 1–5: 100 a day; November 1–5: 120 a day; today Nov 6 (November unfinished)
    rows = [("gmv", date(2026, 10, 1) + timedelta(days=i), 100, "") for i in range(31)]
    rows += [("gmv", date(2026, 11, 1) + timedelta(days=i), 120, "") for i in range(5)]
    add_facts(db, rows)
    result = engine_for(db, date(2026, 11, 6)).status(KPI["gmv"], Scope.team(), Calendar(0).month(ONE_DAY))
    assert result.previous_actual == 500  # October 1–5 only, not all 31 days
    assert result.change == pytest.approx((600 - 500) / 500)  # +20 %


def test_like_for_like_per_scope_and_capped_at_today(db: Database) -> None:
    # h1: October every day 10; November 1–7 at 20 plus a row dated Nov 25 (after "today", Nov 8).
    # h2 (also a host): October every day 1, nothing in November.
    rows = [("gmv", date(2026, 10, 1) + timedelta(days=i), 10, "h1@shop.com") for i in range(31)]
    rows += [("gmv", date(2026, 10, 1) + timedelta(days=i), 1, "h2@shop.com") for i in range(31)]
    rows += [("gmv", date(2026, 11, 1) + timedelta(days=i), 20, "h1@shop.com") for i in range(7)]
    rows += [("gmv", date(2026, 11, 25), 500, "h1@shop.com")]
    add_members(db)
    add_facts(db, rows)
    engine = engine_for(db, date(2026, 11, 8))
    november = Calendar(0).month(ONE_DAY)
    member = engine.status(KPI["gmv"], Scope.member("h1@shop.com"), november)
    # Newest row Nov 25 but today Nov 8: the cut is min(Nov 25, Nov 8) − Nov 1 = 7 days → October 1–8.
    assert member.previous_actual == 80  # 8 days × 10
    role = engine.status(KPI["gmv"], Scope.role("host"), november)
    assert role.previous_actual == 88  # h1 8 × 10 + h2 8 × 1
    assert engine.status(KPI["gmv"], Scope.member("h2@shop.com"), november).previous_actual is None  # no data yet


def test_a_finished_period_is_compared_with_the_whole_previous_one(db: Database) -> None:
    # March 2027 (31 days) has data through Mar 30; February 2027 has 28 days of 5.
    rows = [("gmv", date(2027, 2, 1) + timedelta(days=i), 5, "") for i in range(28)]
    rows += [("gmv", date(2027, 3, 1) + timedelta(days=i), 7, "") for i in range(30)]
    add_facts(db, rows)
    march = Calendar(0).month(date(2027, 3, 1))
    finished = engine_for(db, date(2027, 4, 2)).status(KPI["gmv"], Scope.team(), march)
    assert finished.previous_actual == 140  # all of February: 28 × 5
    # Still running on Mar 31 (data through Mar 30): Feb 1 + 29 days is past Feb 28, so capped there.
    running = engine_for(db, date(2027, 3, 31)).status(KPI["gmv"], Scope.team(), march)
    assert running.previous_actual == 140


def test_board_lists_holders_without_rows_last_in_key_order(db: Database) -> None:
    add_members(db)
    with db.session() as session:
        from storage.repositories import members as member_repo

        for key in ("h4@shop.com", "h3@shop.com"):
            member_repo.assign_role(session, member_repo.ensure_member(session, key, email=key), "host")
    add_facts(db, [("gmv", ONE_DAY, 70, "h2@shop.com"), ("gmv", ONE_DAY, 30, "h1@shop.com")])
    rows = engine_for(db, date(2026, 11, 10)).board(KPI["gmv"], "host", DAY)
    assert [(r.member, r.display_name, r.status.actual) for r in rows] == [
        ("h2@shop.com", "Hugo", 70.0), ("h1@shop.com", "Hana", 30.0),
        ("h3@shop.com", "h3@shop.com", None), ("h4@shop.com", "h4@shop.com", None),  # no name: the key
    ]


def test_board_ranks_members_and_respects_direction(db: Database) -> None:
    add_members(db)
    add_facts(db, [("ad_spend", ONE_DAY, 100, "h1@shop.com"), ("impressions", ONE_DAY, 10000, "h1@shop.com"),
                   ("ad_spend", ONE_DAY, 100, "h2@shop.com"), ("impressions", ONE_DAY, 20000, "h2@shop.com")])
    rows = engine_for(db, date(2026, 11, 10)).board(KPI["cpm"], "host", DAY)
    # CPM is lower-is-better: h2 = 100/20000×1000 = 5 beats h1 = 100/10000×1000 = 10
    assert [(r.member, r.status.actual) for r in rows] == [("h2@shop.com", 5.0), ("h1@shop.com", 10.0)]


def test_composite_score_weights_pace_attainment(db: Database) -> None:
    add_members(db)
    add_facts(db, [("videos_published", ONE_DAY, 3, "e1@shop.com"), ("video_views", ONE_DAY, 1000, "e1@shop.com"),
                   ("views_3s", ONE_DAY, 400, "e1@shop.com"), ("completions", ONE_DAY, 100, "e1@shop.com")])
    day = "2026-11-02"
    set_target(db, "videos_published", Scope.member("e1@shop.com"), day, 2)   # 3/2 = 1.5
    set_target(db, "hook_rate_3s", Scope.member("e1@shop.com"), day, 0.5)     # 0.4/0.5 = 0.8
    set_target(db, "completion_rate", Scope.member("e1@shop.com"), day, 0.2)  # 0.1/0.2 = 0.5
    weights = REGISTRY.roles["editor"].kpis  # 0.4, 0.35, 0.25
    kpis = [KPI[k] for k in weights]
    [score] = engine_for(db, date(2026, 11, 10)).member_scores(kpis, "editor", DAY, weights)
    # (0.4×1.5 + 0.35×0.8 + 0.25×0.5) / (0.4 + 0.35 + 0.25) = (0.6 + 0.28 + 0.125) / 1 = 1.005
    assert score.composite == pytest.approx(1.005)


def test_a_question_costs_the_same_queries_whatever_the_data_size(db: Database) -> None:
    add_members(db)
    engine = engine_for(db, date(2026, 11, 20))
    month = Calendar(0).month(ONE_DAY)
    hosts = [KPI[k] for k in REGISTRY.roles["host"].kpis]

    def queries() -> int:
        count = 0

        def on_execute(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            engine.statuses(hosts, Scope.role("host"), month)
            engine.board(KPI["gmv"], "host", month)
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)
        return count

    add_facts(db, [("gmv", ONE_DAY, 1, "h1@shop.com")])
    small = queries()
    # 40 more hosts with 19 days of three metrics each
    from storage.repositories import members as member_repo

    with db.session() as session:
        for i in range(40):
            member_repo.assign_role(session, member_repo.ensure_member(session, f"x{i}"), "host")
    rows = [(m, date(2026, 11, 1) + timedelta(days=d), 1.0, f"x{i}") for i in range(40) for d in range(19)
            for m in ("gmv", "live_viewers", "live_sessions")]
    add_facts(db, rows)
    assert queries() == small
