"""`why` and `unusual` for a scope narrowed to one shop read only that shop's rows (as status/figures do)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from storage.db import Database
from storage.kpi.registry import load_registry
from storage.kpi.scan import scan_unusual
from storage.kpi.scope import Scope
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.series import split_window_sums, window_sums
from tests.fixtures import add_members

REGISTRY = load_registry(None)
GMV = REGISTRY.kpis["gmv"]
MONDAY = date(2026, 11, 23)  # Monday of 2026-W48
HOST = "h1@shop.com"  # a host (role host, judged per member)
SHOP_A = [1_000, 1_040, 960, 1_020, 980, 1_010, 990, 1_000]  # the 8 Mondays before, newest first
SHOP_B = [2_000, 0, 2_000, 0, 2_000, 0, 2_000, 0]


@pytest.fixture
def two_shops(db: Database) -> Database:
    """The same host sells in shops A and B: 8 history Mondays each, then Monday Nov 23 (A 1,600, B 100)."""
    add_members(db)
    rows = [FactRecord("gmv", MONDAY, 1_600, HOST, "test", "A"), FactRecord("gmv", MONDAY, 100, HOST, "test", "B")]
    for weeks_back, (a, b) in enumerate(zip(SHOP_A, SHOP_B, strict=True), start=1):
        day = MONDAY - timedelta(weeks=weeks_back)
        rows += [FactRecord("gmv", day, a, HOST, "test", "A"), FactRecord("gmv", day, b, HOST, "test", "B")]
    with db.session() as session:
        upsert_facts(session, rows)
    return db


def judged(db: Database, scope: Scope) -> list[tuple[tuple[str, str], float]]:
    found = scan_unusual(db, REGISTRY, MONDAY, MONDAY, kpis=[GMV], scope=scope)
    return [(f.scope, round(f.judgement.z, 1)) for f in found]


def test_unusual_in_one_shop_reads_only_that_shops_rows(two_shops: Database) -> None:
    # Shop A alone: median 1,000, deviations 0 40 40 20 20 10 10 0 → MAD 15; 1,600: z = 0.6745 · 600 / 15 = 26.98
    for scope in (Scope.role("host").in_shop("A"), Scope.member(HOST).in_shop("A")):
        assert judged(two_shops, scope) == [((scope.kind, scope.key), 27.0)]
    assert judged(two_shops, Scope.of_shop("A")) == [(("shop", "A"), 27.0)]
    # Both shops (the wrong answer): 3,000 1,040 2,960 1,020 2,980 1,010 2,990 1,000 → median (1,040 + 2,960) / 2
    # = 2,000, deviations 1,000 960 960 980 980 990 990 1,000 → MAD 985; 1,700: z = 0.6745 · −300 / 985 = −0.21
    assert judged(two_shops, Scope.role("host")) == []
    # Shop B alone: 2,000 0 2,000 0 … → median 1,000, MAD 1,000; 100: z = 0.6745 · −900 / 1,000 = −0.61
    assert judged(two_shops, Scope.role("host").in_shop("B")) == []


def test_why_windows_in_one_shop_read_only_that_shops_rows(two_shops: Database) -> None:
    week = (MONDAY, MONDAY + timedelta(days=6))
    previous = (MONDAY - timedelta(days=7), MONDAY - timedelta(days=1))
    with two_shops.session() as session:
        for scope in (Scope.role("host").in_shop("A"), Scope.member(HOST).in_shop("A"), Scope.of_shop("A")):
            # shop A: W48 1,600 (B's 100 left out), W47 1,000 (B's 2,000 left out)
            sums = window_sums(session, ["gmv"], scope, [week, previous])
            assert [s.sums for s in sums] == [{"gmv": 1_600}, {"gmv": 1_000}]
            # split by shop: only A's row; by member: the host's A rows only
            assert list(split_window_sums(session, ["gmv"], scope, [week], "shop")[0]) == ["A"]
            assert split_window_sums(session, ["gmv"], scope, [week], "member")[0][HOST].sums == {"gmv": 1_600}
        # every shop: 1,600 + 100 = 1,700 and 1,000 + 2,000 = 3,000
        assert [s.sums for s in window_sums(session, ["gmv"], Scope.role("host"), [week, previous])] == [
            {"gmv": 1_700}, {"gmv": 3_000}]


def test_why_for_a_role_in_one_shop_explains_only_that_shops_change(two_shops: Database) -> None:
    from zoneinfo import ZoneInfo

    from storage.kpi.engine import KpiEngine
    from storage.kpi.periods import Calendar
    from storage.kpi.why import explain

    engine = KpiEngine(two_shops, REGISTRY, tz=ZoneInfo("UTC"), week_start=0, today=lambda: date(2026, 11, 30))
    why = explain(engine, GMV, Scope.role("host").in_shop("A"), Calendar(0).week(MONDAY))
    # shop A: W48 1,600 − W47 1,000 = +600 (every shop: 1,700 − 3,000 = −1,300); only shop A's row moved
    assert why.change == pytest.approx(600)
    assert [(m.member, m.change) for m in why.movers] == [(HOST, pytest.approx(600))]
