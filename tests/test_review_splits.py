"""`why` names the shops and sources whose own change accounts for most of the total, next to the members.

Fixture (GMV, one row per member · shop · source):
  week 47 (Mon Nov 16): Hana shop-a api 6,000; Hugo shop-b csv 4,000; Hugo shop-a csv 1,000   → 11,000
  week 48 (Mon Nov 23): Hana shop-a api 5,000; Hugo shop-b api 1,500; Hugo shop-b csv 1,000;
                        Hugo shop-a csv 800                                                    →  8,300
Team change: 8,300 − 11,000 = −2,700.
  members: Hana 6,000 → 5,000 = −1,000 → −1,000 / −2,700 = 37.0 %; Hugo 5,000 → 3,300 = −1,700 → 63.0 %
  shops:   shop-a 7,000 → 5,800 = −1,200 → 44.4 %;  shop-b 4,000 → 2,500 = −1,500 → 55.6 %
  sources: api 6,000 → 6,500 = +500 → −18.5 %;      csv 5,000 → 1,800 = −3,200 → 118.5 %
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.core.bot import KpiBot
from bot.testing import TestAdapter
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.kpi.why import explain
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures import add_members

REGISTRY = load_registry(None)
TODAY = date(2026, 11, 30)
LAST, THIS = date(2026, 11, 16), date(2026, 11, 23)
HANA, HUGO = "h1@shop.com", "h2@shop.com"
W48 = Calendar(0).week(THIS)


@pytest.fixture
def split_db(db: Database) -> Database:
    add_members(db)
    rows = [(LAST, 6_000, HANA, "shop-a", "api"), (LAST, 4_000, HUGO, "shop-b", "csv"),
            (LAST, 1_000, HUGO, "shop-a", "csv"),
            (THIS, 5_000, HANA, "shop-a", "api"), (THIS, 1_500, HUGO, "shop-b", "api"),
            (THIS, 1_000, HUGO, "shop-b", "csv"), (THIS, 800, HUGO, "shop-a", "csv")]
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", day, value, member, source, shop)
                               for day, value, member, shop, source in rows])
    return db


def test_why_splits_the_change_by_member_shop_and_source(split_db: Database) -> None:
    engine = KpiEngine(split_db, REGISTRY, tz=ZoneInfo("UTC"), week_start=0, today=lambda: TODAY)
    why = explain(engine, REGISTRY.kpis["gmv"], Scope.team(), W48)
    assert why.change == pytest.approx(-2_700)
    assert [(m.name, round(m.share or 0, 3)) for m in why.movers] == [("Hugo", 0.630), ("Hana", 0.370)]
    assert [(m.member, m.before, m.after, round(m.share or 0, 3)) for m in why.shops] == [
        ("shop-b", 4_000, 2_500, 0.556), ("shop-a", 7_000, 5_800, 0.444)]
    assert [(m.member, m.before, m.after, round(m.share or 0, 3)) for m in why.sources] == [
        ("csv", 5_000, 1_800, 1.185), ("api", 6_000, 6_500, -0.185)]
    # one member's own view: Hana sold through one shop and one source only, so neither split is shown
    hana = explain(engine, REGISTRY.kpis["gmv"], Scope.member(HANA), W48)
    assert hana.shops == [] and hana.sources == [] and hana.movers == []


def test_why_reply_shows_the_shop_and_source_tables_in_both_languages(split_db: Database, make_settings) -> None:  # type: ignore[no-untyped-def]
    chat = TestAdapter(KpiBot(settings=make_settings(KPIBOT_ADMINS="boss@shop.com"), db=split_db,
                              registry=REGISTRY, today=lambda: TODAY))
    chat.user("boss", "boss@shop.com")
    english = chat.ask("why gmv last-week", as_user="boss")
    tables = {t.title: t.rows for t in english.tables}
    assert [row[0] for row in tables["Who moved it"]] == ["Hugo", "Hana"]
    assert tables["Which shops moved it"] == [["shop-b", "$4,000", "$2,500", "55.6%"],
                                              ["shop-a", "$7,000", "$5,800", "44.4%"]]
    assert [[row[0], row[3]] for row in tables["Which sources moved it"]] == [["csv", "118.5%"], ["api", "-18.5%"]]
    chinese = chat.ask("上周 GMV为什么下降", as_user="boss")
    tables = {t.title: t.rows for t in chinese.tables}
    assert [row[0] for row in tables["哪些店铺带来的变化"]] == ["shop-b", "shop-a"]
    assert [row[3] for row in tables["哪些数据来源带来的变化"]] == ["118.5%", "-18.5%"]
    assert chinese.tables[-1].columns[0] == "数据来源"
