"""A flywheel month whose daily flows start after its first day is partial: shown, said, never compared.
Monthly CRM pushes (one day a month, on any day) and levels (LTV) are whole-month figures and never flagged.

Team rows, reviewed through November 2026:

    daily feed "shop", Oct 21 – Nov 30 (11 + 30 days): gmv 500, orders 10, clicks 200 a day
    CRM "crm", once a month on the LAST day:
        Oct 31  new_customers 100  marketing_spend 5,000  promoters 50  passives 30  detractors 20  ltv 150
        Nov 30  new_customers 100  marketing_spend 6,000  promoters 60  passives 25  detractors 15  ltv 180
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jobs.meetings.flywheel import flywheel
from jobs.meetings.flywheel_reply import flywheel_chart, flywheel_notes, flywheel_table
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import make_engine

NOV = Calendar(0).month(date(2026, 11, 1))
OCT, NOV_I = 4, 5  # indexes of October and November among Jun–Nov


def _rows() -> list[FactRecord]:
    rows: list[FactRecord] = []
    day = date(2026, 10, 21)
    while day <= date(2026, 11, 30):
        rows += [FactRecord(m, day, v, source="shop") for m, v in (("gmv", 500), ("orders", 10), ("clicks", 200))]
        day += timedelta(days=1)
    crm = {
        date(2026, 10, 31): {"new_customers": 100, "marketing_spend": 5000, "promoters": 50, "passives": 30,
                             "detractors": 20, "ltv": 150},
        date(2026, 11, 30): {"new_customers": 100, "marketing_spend": 6000, "promoters": 60, "passives": 25,
                             "detractors": 15, "ltv": 180},
    }
    return rows + [FactRecord(m, d, v, source="crm") for d, values in crm.items() for m, v in values.items()]


@pytest.fixture
def engine(db: Database):
    with db.session() as session:
        upsert_facts(session, _rows())
    return make_engine(db, today=date(2026, 12, 1))


def test_month_with_late_daily_flows_is_partial_and_not_compared(engine) -> None:
    wheel = flywheel(engine, engine.registry, NOV)
    # AOV Oct: 11 days × 500 / (11 × 10) = 5,500 / 110 = 50; Nov: 15,000 / 300 = 50 — the value is kept …
    assert wheel.series["aov"][OCT:] == [pytest.approx(50), pytest.approx(50)]
    # … order conversion Oct 110 / 2,200 = 5 %; but October's feed starts Oct 21 > Oct 1: partial, no change
    assert wheel.starts_late("aov", OCT) == date(2026, 10, 21) == wheel.starts_late("order_cvr", OCT)
    assert wheel.starts_late("aov", NOV_I) is None  # November's feed starts Nov 1
    assert wheel.change("aov", NOV_I) is None and wheel.change("order_cvr", NOV_I) is None


def test_monthly_crm_pushes_and_levels_are_not_partial(engine) -> None:
    wheel = flywheel(engine, engine.registry, NOV)
    # One CRM row a month on its last day (Oct 31 > Oct 1) is a whole month, not "data from Oct 31 only"
    for kpi in ("cac", "nps", "ltv"):
        assert wheel.starts_late(kpi, OCT) is None, kpi
    # NPS Oct (50 − 20) / 100 × 100 = 30 → Nov (60 − 15) / 100 × 100 = 45: +15 points
    assert wheel.change("nps", NOV_I) == pytest.approx(15)
    # CAC Oct 5,000 / 100 = 50 → Nov 6,000 / 100 = 60: +20 %; LTV (a level) 150 → 180: +20 %
    assert wheel.change("cac", NOV_I) == pytest.approx(0.2)
    assert wheel.change("ltv", NOV_I) == pytest.approx(0.2)


def test_partial_month_is_said_in_both_languages(engine) -> None:
    wheel = flywheel(engine, engine.registry, NOV)
    table = flywheel_table(wheel, "en", "USD")
    aov = next(row for row in table.rows if row[0] == "Average order value")
    assert aov[-2:] == ["$50 (partial)", "$50"]
    nps = next(row for row in table.rows if row[0] == "NPS")
    assert nps[-2:] == ["30", "45 (+15 pts)"]
    assert ("October 2026: data from Oct 21 only (Order conversion, Average order value): partial, "
            "not compared with other months.") in flywheel_notes(wheel, "en")
    zh = "2026年10月：下单转化率、客单价 仅有 10月21日 起的数据，不完整，不与前后月份对比。"
    assert zh in flywheel_notes(wheel, "zh")
    assert flywheel_chart(wheel, "zh", "USD").png.startswith(b"\x89PNG")
