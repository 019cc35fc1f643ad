"""Funnel review: stage rates, scores (rate ÷ threshold × 100, capped at 120), change against the previous
period and the biggest leak, all hand-computed from the fixture below.

Team rows per day (source shop), week starts Monday, today Monday 2026-11-23:
    W46 (Nov 9–15):  impressions 10,000  clicks 150  add_to_cart 30  orders 12  paid_orders 11
    W47 (Nov 16–22): impressions 10,000  clicks 200  add_to_cart 40  orders 10  paid_orders 9
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from jobs.digest.funnel import FunnelStage, biggest_leak, funnel_config
from jobs.meetings.funnel import funnel_by_role, funnel_review
from jobs.meetings.funnel_reply import funnel_table, leak_sentence
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import TODAY, days, make_engine

W47 = Calendar(0).previous(Calendar(0).week(TODAY))
PER_DAY = {
    "W46": {"impressions": 10000, "clicks": 150, "add_to_cart": 30, "orders": 12, "paid_orders": 11},
    "W47": {"impressions": 10000, "clicks": 200, "add_to_cart": 40, "orders": 10, "paid_orders": 9},
}


@pytest.fixture
def engine(db: Database):
    records = []
    for day in days(date(2026, 11, 9), date(2026, 11, 22)):
        week = "W47" if day >= date(2026, 11, 16) else "W46"
        records += [FactRecord(metric, day, value, source="shop") for metric, value in PER_DAY[week].items()]
    with db.session() as session:
        upsert_facts(session, records)
    return make_engine(db, today=TODAY)


def test_scores_changes_and_leak_below_threshold(engine) -> None:
    review = funnel_review(engine, engine.registry, Scope.team(), W47)
    rows = [(s.metric, s.value, s.rate, s.previous_rate) for s in review.stages]
    # W47 ×7: 70,000 → 1,400 (2 %) → 280 (20 %) → 70 (25 %) → 63 (90 %)
    # W46 ×7: 70,000 → 1,050 (1.5 %) → 210 (20 %) → 84 (40 %) → 77 (77/84 = 91.67 %)
    assert rows == [
        ("impressions", 70000, None, None),
        ("clicks", 1400, pytest.approx(0.02), pytest.approx(0.015)),
        ("add_to_cart", 280, pytest.approx(0.20), pytest.approx(0.20)),
        ("orders", 70, pytest.approx(0.25), pytest.approx(0.40)),
        ("paid_orders", 63, pytest.approx(0.90), pytest.approx(77 / 84)),
    ]
    # Scores: 2/1 × 100 = 200 → 120 (cap); 20/15 × 100 = 133.3 → 120; 25/30 × 100 = 83.3; 90/90 × 100 = 100
    assert [s.score for s in review.stages] == [None, 120, 120, pytest.approx(250 / 3), pytest.approx(100)]
    # Change of orders' rate: 0.25 / 0.40 − 1 = −37.5 %
    assert review.stages[3].change == pytest.approx(-0.375)
    assert review.leak is not None and review.leak.metric == "orders"  # the only stage under its threshold
    assert leak_sentence(review, engine.registry, "en") == (
        "Biggest leak: Orders — 25.0% against a threshold of 30.0% (score 83).")
    assert leak_sentence(review, engine.registry, "zh") == "最大漏损：订单数，转化率 25.0%，低于阈值 30.0%（得分 83）。"
    table = funnel_table(review, engine.registry, "en")
    assert table.rows[3] == ["Orders", "70", "25.0%", "30.0%", "83", "40.0%", "-37.5%"]


def test_leak_is_largest_fall_when_every_stage_meets_its_threshold(engine) -> None:
    registry = replace(engine.registry, sections={"funnel": {"thresholds": {"orders": 0.2}}})
    review = funnel_review(engine, registry, Scope.team(), W47)
    # orders: 25 % against 20 % → score 125 → capped 120; paid 90 % against 90 % → 100 (lowest, but not below).
    # Falls: clicks +33 %, add to cart 0 %, orders 0.25/0.40 − 1 = −37.5 %, paid 0.90/(77/84) − 1 = −1.8 %.
    assert not any(s.below_threshold for s in review.stages)
    assert review.leak is not None and review.leak.metric == "orders"
    assert leak_sentence(review, registry, "en") == (
        "No stage with data is below its threshold; the largest fall is Orders: 25.0%, -37.5% vs previous.")


def test_stages_and_thresholds_from_the_kpi_file(engine) -> None:
    registry = replace(engine.registry, sections={"funnel": {
        "stages": ["impressions", "clicks", "orders"], "thresholds": {"orders": 0.08, "paid_orders": 0.5}}})
    config = funnel_config(registry)
    assert config.stages == ("impressions", "clicks", "orders")
    assert config.thresholds == {"clicks": 0.01, "orders": 0.08}  # paid_orders is not a stage here
    review = funnel_review(engine, registry, Scope.team(), W47)
    # orders / clicks = 70 / 1,400 = 5 % against 8 % → score 62.5
    assert [s.metric for s in review.stages] == ["impressions", "clicks", "orders"]
    assert review.stages[2].rate == pytest.approx(0.05) and review.stages[2].score == pytest.approx(62.5)


def test_leak_of_hand_made_stages() -> None:
    stages = [
        FunnelStage("a", 100, None, None),
        FunnelStage("b", 10, 0.10, 0.20, previous_rate=0.10),  # score 50, flat
        FunnelStage("c", 4, 0.40, 0.80, previous_rate=0.80),  # score 50, fell 50 %: same score, larger fall wins
        FunnelStage("d", 3, 0.75, 0.50, previous_rate=1.0),  # above threshold
    ]
    assert biggest_leak(stages).metric == "c"
    assert biggest_leak(stages[:1]) is None


def test_funnel_by_role_compares_roles_with_rows(db: Database, engine) -> None:
    with db.session() as session:
        member_repo.assign_role(session, member_repo.ensure_member(session, "dan"), "ad_buyer")
        upsert_facts(session, [FactRecord(m, day, v, member="dan") for day in days(W47.start, W47.end)
                               for m, v in (("impressions", 1000), ("clicks", 5), ("add_to_cart", 1))])
    reviews = funnel_by_role(engine, engine.registry, W47, "en")
    assert [r.label for r in reviews] == ["Ad buyer"]
    # dan: 7,000 → 35 (0.5 %, score 50) → 7 (20 %); orders and paid orders have no rows: missing, no rate
    stages = reviews[0].stages
    assert [s.value for s in stages] == [7000, 35, 7, None, None]
    assert stages[1].score == pytest.approx(50) and stages[3].rate is None
    assert reviews[0].leak.metric == "clicks"


def test_no_funnel_data_gives_no_stages(db: Database) -> None:
    engine = make_engine(db, load_registry(None), today=TODAY)
    assert funnel_review(engine, engine.registry, Scope.team(), W47).stages == []


def test_funnel_chart_says_when_widths_are_compressed() -> None:
    from jobs.charts.render import funnel_bar_widths, funnel_widths_compressed

    # 70,000 → 70: the narrowest is 0.1 % of the widest (< 10 %), so widths are compressed and the chart says so
    assert funnel_widths_compressed([70000, 1400, 70])
    assert funnel_bar_widths([70000, 1400, 70])[2] == pytest.approx(0.1)
    # 100 → 20: proportional, nothing to say
    assert not funnel_widths_compressed([100, 50, 20])
