"""Why, unusual, baselines and before/after on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.db import Database
from storage.kpi.before_after import compare_around
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scan import scan_unusual
from storage.kpi.scope import Scope
from storage.kpi.why import compare, explain
from storage.repositories import baselines as baseline_repo
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo
from storage.repositories.series import DailyRead, daily_by_scope
from tests.fixtures import add_facts, add_members

REGISTRY = load_registry(None)
KPI = REGISTRY.kpis
CAL = Calendar(0)
TODAY = date(2026, 11, 30)  # a Monday: week 2026-W48 (Nov 23–29) is finished
W48 = CAL.week(date(2026, 11, 23))
HOST = "h1@shop.com"


def engine_for(db: Database, today: date = TODAY) -> KpiEngine:
    return KpiEngine(db, REGISTRY, tz=ZoneInfo("UTC"), week_start=0, today=lambda: today)


@pytest.fixture
def host_weeks(db: Database) -> KpiEngine:
    add_members(db)
    last, this = date(2026, 11, 16), date(2026, 11, 23)  # Mondays: each week is covered from its start
    add_facts(db, [
        ("live_viewers", last, 10_000, HOST), ("live_orders", last, 500, HOST), ("gmv", last, 20_000, HOST),
        ("live_viewers", this, 8_000, HOST), ("live_orders", this, 480, HOST), ("gmv", this, 19_200, HOST),
        ("gmv", last, 1_000, "h2@shop.com"), ("gmv", this, 1_300, "h2@shop.com"),
    ])
    return engine_for(db)


def test_why_splits_a_hosts_gmv_change_into_its_factors(host_weeks: KpiEngine) -> None:
    why = explain(host_weeks, KPI["gmv"], Scope.member(HOST), W48)
    # −800 = viewers −4,373.0, conversion +3,573.0, order value 0.0 (arithmetic in test_review_math)
    assert why.change == pytest.approx(-800)
    assert [f.factor.id for f in why.factors] == ["live_viewers", "live_cvr", "gmv / live_orders"]
    assert [round(f.contribution or 0, 1) for f in why.factors] == [-4373.0, 3573.0, 0.0]
    assert why.blocked == []


def test_waterfall_bars_print_what_the_why_reply_prints(host_weeks: KpiEngine) -> None:
    from jobs.analysis.why import why_chart_data, why_reply
    from jobs.charts.waterfall import waterfall_labels

    why = explain(host_weeks, KPI["gmv"], Scope.member(HOST), W48)
    # W47 $20,000 → W48 $19,200; contributions −4,373.01, +3,573.01, 0 (arithmetic in test_review_math): the
    # chart's labels are the table's texts, in the KPI's unit with the currency, compact above 10,000
    for lang, expected in (("en", ["$20K", "-$4,373.01", "+$3,573.01", "$0", "$19.2K"]),
                           ("zh", ["$2万", "-$4,373.01", "+$3,573.01", "$0", "$1.92万"])):
        reply = why_reply(why, scope_label="Hana", lang=lang, currency="USD", with_chart=False)
        labels = waterfall_labels(why_chart_data(why, scope_label="Hana", lang=lang, currency="USD"))
        assert labels == expected
        assert labels[1:-1] == [row[3] for row in reply.tables[0].rows]


def test_why_names_who_moved_the_team_and_explains_missing_factors(host_weeks: KpiEngine) -> None:
    why = explain(host_weeks, KPI["gmv"], Scope.team(), W48)
    # team GMV: 21,000 → 20,500 = −500; Hana −800 (share −800 / −500 = 160 %), Hugo +300 (−60 %)
    assert why.change == pytest.approx(-500)
    assert [(m.name, round(m.share or 0, 2)) for m in why.movers] == [("Hana", 1.6), ("Hugo", -0.6)]
    # the team's tree needs impressions and clicks, which this data has none of: not split, each named
    assert all(f.contribution is None for f in why.factors)
    assert [f.factor.id for f in why.blocked] == ["impressions", "ctr", "orders / clicks", "aov"]


def test_why_mentions_the_notes_of_those_days(host_weeks: KpiEngine) -> None:
    with host_weeks.db.session() as session:
        note_repo.add_note(session, date(2026, 11, 24), "new price on SKU-1", "boss", kpis=["gmv"])
        note_repo.add_note(session, date(2026, 11, 24), "new thumbnail style", "boss", kpis=["hook_rate_3s"])
        note_repo.add_note(session, date(2026, 10, 1), "long ago", "boss")
    why = explain(host_weeks, KPI["gmv"], Scope.member(HOST), W48)
    assert [n.text for n in why.notes] == ["new price on SKU-1"]


def test_year_ago_with_and_without_data(db: Database) -> None:
    add_members(db)
    year_ago = W48.start - timedelta(weeks=52)  # Mon 2025-11-24, same weekday
    add_facts(db, [("gmv", date(2026, 11, 25), 1_100, ""), ("gmv", year_ago, 1_000, "")])
    engine = engine_for(db)
    compared = compare(engine, KPI["gmv"], Scope.team(), W48)
    # 1,100 against 1,000 a year before = +10 %; no rows the week before or the 4 weeks before
    assert compared.reference_value("year") == 1_000 and compared.change("year") == pytest.approx(0.10)
    assert compared.reference_value("previous") is None and compared.change("avg4") is None
    assert "baseline" not in compared.references  # none set
    member = compare(engine, KPI["gmv"], Scope.member(HOST), W48)
    assert member.value is None and member.reference_value("year") is None


def test_a_reference_window_before_the_first_data_is_left_out(db: Database) -> None:
    # Data starts on Wed Nov 11: the week of Nov 9–15 is only partly covered, so it is no reference at all
    # (reading it would make last week look low); Nov 16–22 (700) is the 4-period average alone.
    add_facts(db, [("gmv", date(2026, 11, 11), 300, ""), ("gmv", date(2026, 11, 16), 700, ""),
                   ("gmv", date(2026, 11, 23), 800, "")])
    compared = compare(engine_for(db), KPI["gmv"], Scope.team(), W48)
    assert compared.reference_value("avg4") == 700 and compared.change("previous") == pytest.approx(800 / 700 - 1)


def test_four_period_average_and_a_named_baseline(db: Database) -> None:
    add_members(db)
    rows = [("gmv", W48.start + timedelta(days=2), 1_200, "")]
    # 4 weeks before: 1,000, 1,100, none, 900 → average of the weeks with data = 3,000 / 3 = 1,000
    for weeks_back, value in ((1, 1_000), (2, 1_100), (4, 900)):
        rows.append(("gmv", W48.start - timedelta(weeks=weeks_back), value, ""))
    # October: 3,100 + 2,200 + the 900 of Oct 26 (4 weeks back) = 6,200 over 31 days = 200 / day → 7 days 1,400
    rows += [("gmv", date(2026, 10, 1), 3_100, ""), ("gmv", date(2026, 10, 20), 2_200, "")]
    add_facts(db, rows)
    engine = engine_for(db)
    with db.session() as session:
        october = CAL.from_key("2026-10")
        assert october is not None
        assert baseline_repo.set_baseline(session, "gmv", Scope.team(), october, "boss") is None
    compared = compare(engine, KPI["gmv"], Scope.team(), W48)
    assert compared.reference_value("avg4") == pytest.approx(1_000) and compared.change("avg4") == pytest.approx(0.2)
    assert compared.reference_value("baseline") == pytest.approx(1_400)
    assert compared.change("baseline") == pytest.approx(1_200 / 1_400 - 1)
    assert compared.change("previous") == pytest.approx(0.2)  # 1,200 vs 1,000


def test_daily_series_of_the_team_each_role_and_each_holder(db: Database) -> None:
    # The one statement an unusual scan reads (SQLite rolls the team's and the roles' sums up in one pass,
    # PostgreSQL reads a branch per role): each scope's sums, only the metrics it reads, missing is not zero.
    add_members(db)  # h1, h2 host; b1 ad buyer; e1 editor
    with db.session() as session:
        member_repo.assign_role(session, member_repo.ensure_member(session, "h1@shop.com"), "ad_buyer")  # two roles
    d1, d2 = date(2026, 11, 2), date(2026, 11, 3)
    add_facts(db, [
        ("gmv", d1, 1_000, "h1@shop.com"), ("gmv", d1, 500, "h2@shop.com"), ("gmv", d1, 2_400, "b1@shop.com"),
        ("gmv", d1, 70, "e1@shop.com"), ("gmv", d1, 300, ""), ("gmv", d2, 50, ""),
        ("clicks", d1, 40, "h1@shop.com"), ("clicks", d1, 400, "b1@shop.com"), ("clicks", d1, 200, ""),
        ("live_viewers", d1, 3_000, "h1@shop.com"), ("live_viewers", d1, 1_000, "h2@shop.com"),
        ("ad_spend", d1, 100, "b1@shop.com"), ("ad_spend", d1, 10, "h1@shop.com"),
    ])
    add_facts(db, [("gmv", d1, 200, "h1@shop.com")], source="shop_export")  # a second row of Hana's GMV
    host, ads = ("gmv", "live_viewers"), ("ad_spend", "clicks")
    reads = [DailyRead("team", "", ("clicks", "gmv")),
             DailyRead("role", "host", host), DailyRead("holders", "host", host),
             DailyRead("role", "ad_buyer", ads), DailyRead("holders", "ad_buyer", ads)]
    with db.session() as session:
        series = daily_by_scope(session, reads, d1, d2)
        host_only = daily_by_scope(session, [DailyRead("role", "host", ("gmv",))], d1, d2)
    assert series == {
        # every row: GMV 1,000 + 200 + 500 + 2,400 + 70 + 300 = 4,470; clicks 40 + 400 + 200 = 640; Nov 3: 50
        ("team", ""): {d1: {"gmv": 4_470.0, "clicks": 640.0}, d2: {"gmv": 50.0}},
        # Hana and Hugo: GMV 1,200 + 500 = 1,700, viewers 3,000 + 1,000 = 4,000; Hana's 40 clicks are not host's
        ("role", "host"): {d1: {"gmv": 1_700.0, "live_viewers": 4_000.0}},
        # Bo and Hana: spend 100 + 10 = 110, clicks 400 + 40 = 440; their GMV is not the ad buyer's
        ("role", "ad_buyer"): {d1: {"ad_spend": 110.0, "clicks": 440.0}},
        # Hana holds both roles: both reads' metrics, her two GMV rows 1,000 + 200
        ("member", "h1@shop.com"): {d1: {"gmv": 1_200.0, "live_viewers": 3_000.0, "ad_spend": 10.0, "clicks": 40.0}},
        ("member", "h2@shop.com"): {d1: {"gmv": 500.0, "live_viewers": 1_000.0}},
        ("member", "b1@shop.com"): {d1: {"ad_spend": 100.0, "clicks": 400.0}},
    }  # Eli (editor, not read) has no series; no role has a Nov 3 row, so no Nov 3 entry (missing, not 0)
    assert host_only == {("role", "host"): {d1: {"gmv": 1_700.0}}}  # a role read alone, without the team's


def test_unusual_spike_found_and_steady_series_quiet(db: Database) -> None:
    add_members(db)
    rows = []
    # 9 Mondays of host GMV: 1,000, 1,040, 960, 1,020, 980, 1,010, 990, 1,000, then 1,600 on Mon Nov 23
    for weeks_back, value in enumerate([1_000, 1_040, 960, 1_020, 980, 1_010, 990, 1_000], start=1):
        rows.append(("gmv", W48.start - timedelta(weeks=weeks_back), value, HOST))
        rows.append(("gmv", W48.start - timedelta(weeks=weeks_back), 500, "h2@shop.com"))  # steady
    rows += [("gmv", W48.start, 1_600, HOST), ("gmv", W48.start, 505, "h2@shop.com")]
    add_facts(db, rows)
    found = scan_unusual(db, REGISTRY, W48.start, W48.end, kpis=[KPI["gmv"]])
    # Hana: median 1,000, deviations 0 40 40 20 20 10 10 0 → MAD 15; z = 0.6745 · 600 / 15 = 26.98
    # team (Hana + Hugo): 1,500 1,540 1,460 1,520 1,480 1,510 1,490 1,500 → median 1,500, MAD 15;
    #   2,105: z = 0.6745 · 605 / 15 = 27.2;   role host: the same sums as the team
    # Hugo: 500 every week, 505 → no spread at all, not judged; nothing else
    assert [(f.scope, round(f.judgement.z, 1)) for f in found] == [
        (("role", "host"), 27.2), (("team", ""), 27.2), (("member", HOST), 27.0)]
    assert found[-1].judgement.median == 1_000
    quiet = scan_unusual(db, REGISTRY, W48.start, W48.end, kpis=[KPI["gmv"]], scope=Scope.member("h2@shop.com"))
    assert quiet == []


def test_a_promo_day_in_the_history_is_left_out(db: Database) -> None:
    add_members(db)
    rows = [("gmv", W48.start - timedelta(weeks=w), v, "") for w, v in
            enumerate([1_000, 1_040, 960, 1_020, 980, 1_010, 990, 1_000], start=1)]
    rows.append(("gmv", W48.start - timedelta(weeks=3), 3_000, ""))  # the promo Monday (replaces 960)
    rows.append(("gmv", W48.start, 1_100, ""))
    add_facts(db, rows)
    before = scan_unusual(db, REGISTRY, W48.start, W48.start, kpis=[KPI["gmv"]])
    # with the promo in history: 1,000 1,040 3,000 1,020 980 1,010 990 1,000 → median 1,005,
    # deviations 5 35 1995 15 25 5 15 5 → MAD 15; 1,100: z = 0.6745 · 95 / 15 = 4.27 → unusual
    assert [round(f.judgement.z, 2) for f in before] == [4.27]
    with db.session() as session:
        note_repo.add_note(session, W48.start - timedelta(weeks=3), "Double 11", "boss", promo=True)
    # without it: 1,000 1,040 1,020 980 1,010 990 1,000 → median 1,000, deviations 0 40 20 20 10 10 0 → MAD 10;
    # z = 0.6745 · 100 / 10 = 6.745 → still unusual, but judged on 7 days
    after = scan_unusual(db, REGISTRY, W48.start, W48.start, kpis=[KPI["gmv"]])
    assert [(round(f.judgement.z, 3), f.judgement.history) for f in after] == [(6.745, 7)]


def test_before_and_after_a_note(db: Database) -> None:
    add_members(db)
    day = date(2026, 11, 16)
    rows = []
    # blocks of 7 days before the note (newest first): 700, 770, 700, 735, 700, 700, 665, 700, 700 (one row each)
    for j, value in enumerate([700, 770, 700, 735, 700, 700, 665, 700, 700], start=1):
        rows.append(("gmv", day - timedelta(days=7 * j), value, ""))
    rows.append(("gmv", day + timedelta(days=3), 910, ""))  # after: 910
    add_facts(db, rows)
    found = compare_around(engine_for(db), KPI["gmv"], Scope.team(), day)
    # after 910 vs before 700 = +30 %; week-to-week: 700/770 −9.1 %, 770/700 +10 %, 700/735 −4.8 %,
    # 735/700 +5 %, 0, 700/665 +5.3 %, 665/700 −5 %, 0 → largest 10 % → +30 % is larger than usual
    assert found.before == 700 and found.after == 910 and found.change == pytest.approx(0.3)
    assert found.largest_usual == pytest.approx(0.1) and found.larger_than_usual is True
    short = compare_around(engine_for(db, today=day + timedelta(days=4)), KPI["gmv"], Scope.team(), day)
    assert short.days == 4  # after window has data through day + 3: both windows cut to 4 days
