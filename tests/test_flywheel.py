"""Flywheel review: NPS, CAC with and without marketing spend, repeat rate, order conversion, AOV and LTV
per month, hand-computed. Team rows (source crm), months Jun–Nov 2026, reviewed through November:

    month  marketing_spend  ad_spend  new_customers  customers  repeat  promoters passives detractors  ltv
    Nov    2000+3000        3000      40+60          400        120     30+30     25       15          180
    Oct    —                3000      120            300        60      50        30       20          150
    Sep    nothing at all
    Nov also gmv 10,000, orders 200, clicks 4,000.
"""

from __future__ import annotations

from datetime import date

import pytest

from jobs.meetings.flywheel import flywheel
from jobs.meetings.flywheel_reply import flywheel_chart, flywheel_notes, flywheel_table
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import make_engine

NOV = Calendar(0).month(date(2026, 11, 1))


def _rows() -> list[FactRecord]:
    n1, n15, n30 = date(2026, 11, 1), date(2026, 11, 15), date(2026, 11, 30)
    o5 = date(2026, 10, 5)
    rows = {
        n1: {"marketing_spend": 2000, "new_customers": 40, "promoters": 30, "passives": 25, "detractors": 15,
             "gmv": 10000, "orders": 200, "clicks": 4000},
        n15: {"marketing_spend": 3000, "ad_spend": 3000, "new_customers": 60, "promoters": 30},
        n30: {"customers": 400, "repeat_customers": 120, "ltv": 180},
        o5: {"ad_spend": 3000, "new_customers": 120, "customers": 300, "repeat_customers": 60, "promoters": 50,
             "passives": 30, "detractors": 20, "ltv": 150},
    }
    return [FactRecord(metric, day, value, source="crm")
            for day, values in rows.items() for metric, value in values.items()]


@pytest.fixture
def engine(db: Database):
    with db.session() as session:
        upsert_facts(session, _rows())
    return make_engine(db, today=date(2026, 12, 1))


def test_flywheel_figures_by_hand(engine) -> None:
    wheel = flywheel(engine, engine.registry, NOV)
    assert [m.key for m in wheel.months] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    series = {k: v[-3:] for k, v in wheel.series.items()}  # Sep, Oct, Nov
    # CAC Nov: (2000 + 3000) / (40 + 60) = 50 (marketing spend); Oct: no marketing spend → ad spend 3000 / 120 = 25
    assert series["cac"] == [None, pytest.approx(25), pytest.approx(50)]
    assert [m.key for m in wheel.cac_from_ad_spend] == ["2026-10"]
    # NPS Nov: (60 − 15) / (60 + 25 + 15) × 100 = 45; Oct: (50 − 20) / 100 × 100 = 30
    assert series["nps"] == [None, pytest.approx(30), pytest.approx(45)]
    # Repeat rate Nov: 120 / 400 = 30 %; Oct: 60 / 300 = 20 %
    assert series["repeat_rate"] == [None, pytest.approx(0.2), pytest.approx(0.3)]
    # Order conversion Nov 200 / 4,000 = 5 %; AOV 10,000 / 200 = 50; nothing in October: missing, not 0
    assert series["order_cvr"] == [None, None, pytest.approx(0.05)]
    assert series["aov"] == [None, None, pytest.approx(50)]
    assert series["ltv"] == [None, pytest.approx(150), pytest.approx(180)]
    # Month over month: NPS 30 → 45 = +15 points (a score: points, not %); CAC 25 → 50 = +100 %
    assert wheel.change("nps", 5) == pytest.approx(15) and wheel.change("cac", 5) == pytest.approx(1.0)


def test_flywheel_table_notes_and_chart(engine) -> None:
    wheel = flywheel(engine, engine.registry, NOV)
    table = flywheel_table(wheel, "en", "USD")
    assert table.columns == ["KPI", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]
    nps = next(row for row in table.rows if row[0] == "NPS")
    assert nps[-2:] == ["30", "45 (+15 pts)"]
    notes = flywheel_notes(wheel, "en")
    assert notes[0] == "CAC for October 2026 uses ad spend: no marketing spend was reported for those months."
    assert flywheel_notes(wheel, "zh")[0] == "2026年10月 的获客成本按广告消耗计算：这些月份没有上报营销费用。"
    assert flywheel_chart(wheel, "zh", "USD").png.startswith(b"\x89PNG")


def test_cac_uses_marketing_spend_when_both_exist(engine) -> None:
    # November has marketing spend 5,000 and ad spend 3,000: CAC takes marketing spend (50, not 30) and no note.
    wheel = flywheel(engine, engine.registry, NOV)
    assert wheel.series["cac"][-1] == pytest.approx(50)
    assert NOV not in wheel.cac_from_ad_spend


def test_no_flywheel_data(db: Database) -> None:
    engine = make_engine(db, today=date(2026, 12, 1))
    wheel = flywheel(engine, engine.registry, NOV)
    assert wheel.empty
    assert flywheel_notes(wheel, "en") == [
        "No flywheel data (new customers, NPS answers, LTV …) in the last 6 months."]
