"""Boards pace each row by the data-through rule of a single answer (SPEC §5, issue 14 §1): per member or
shop, the oldest newest-date among its ongoing sources — not the row's newest date. Hand-computed; runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text

from jobs.present.status import rows_through_note
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.repositories import targets as target_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures import add_members, set_target

OCTOBER = Calendar(0).month(date(2026, 10, 1))
TODAY = date(2026, 10, 20)
H1, H2 = "h1@shop.com", "h2@shop.com"


def engine_for(db: Database) -> KpiEngine:
    return KpiEngine(db, load_registry(None), tz=ZoneInfo("UTC"), week_start=0, today=lambda: TODAY)


def put(db: Database, metric: str, first: date, last: date, value: float, *, member: str = "", source: str,
        shop: str = "") -> None:
    count = (last - first).days + 1
    with db.session() as session:
        upsert_facts(session, [FactRecord(metric, first + timedelta(days=i), value, member, source, shop)
                               for i in range(count)])


def seed_hosts(db: Database) -> None:
    """h1: tiktok-us 1,000/day Oct 1–19, shopee-sg 500/day Oct 1–14, one `fix` row of 100 on Oct 3;
    live_viewers / live_orders from live-tool Oct 1–12. h2: tiktok-us 1,000/day Oct 1–19 only."""
    add_members(db)
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 19), 1000, member=H1, source="tiktok-us")
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 14), 500, member=H1, source="shopee-sg")
    put(db, "gmv", date(2026, 10, 3), date(2026, 10, 3), 100, member=H1, source="fix")
    put(db, "live_viewers", date(2026, 10, 1), date(2026, 10, 12), 1000, member=H1, source="live-tool")
    put(db, "live_orders", date(2026, 10, 1), date(2026, 10, 12), 30, member=H1, source="live-tool")
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 19), 1000, member=H2, source="tiktok-us")
    set_target(db, "gmv", Scope.member(H1), "2026-10", 62_000)
    set_target(db, "gmv", Scope.member(H2), "2026-10", 31_000)


def test_a_member_board_paces_each_member_on_their_own_data_through_date(db: Database) -> None:
    seed_hosts(db)
    engine = engine_for(db)
    gmv = engine.registry.kpis["gmv"]
    rows = {row.member: row.status for row in engine.board(gmv, "host", OCTOBER)}
    h1, h2 = rows[H1], rows[H2]
    # h1: tiktok-us through Oct 19, shopee-sg through Oct 14 (ongoing: within 7 days), fix Oct 3 (one-off) → Oct 14
    assert h1.data_through == date(2026, 10, 14)
    assert h1.actual == 19_000 + 7_000 + 100  # headline: every row = 26,100
    # pace: 14,000 + 7,000 + 100 = 21,100 through Oct 14 against 62,000 × 14/31 = 28,000 → 75.4 % (the newest
    # date of any row, Oct 19, would have said 26,100 / 38,000 = 68.7 %)
    assert h1.pace_attainment == pytest.approx(21_100 / 28_000)
    assert h1.projection == pytest.approx(21_100 * 31 / 14)  # 46,721.4
    assert h1.run_rate == pytest.approx((62_000 - 21_100) / 17)  # Oct 15–31: 17 days
    assert h1.lagging_sources == (("shopee-sg", date(2026, 10, 14)),)
    assert h1.later_sources == (("tiktok-us", date(2026, 10, 19)),)
    # h2 is not held back by h1's shopee-sg: its one source runs through Oct 19 → 19,000 / (31,000 × 19/31) = 100 %
    assert h2.data_through == date(2026, 10, 19)
    assert h2.pace_attainment == pytest.approx(1.0) and h2.lagging_sources == ()
    # The reply names the row held back and its lagging source
    names = [("Hana", [h1]), ("Hugo", [h2])]
    assert rows_through_note(names, "en") == "Data through 2026-10-19; Hana through 2026-10-14 (shopee-sg lags)"
    assert rows_through_note(names, "zh") == "数据截至 2026-10-19；Hana 截至 2026-10-14（shopee-sg 滞后）"
    # One implementation: a board row is the member's single answer
    single = engine.status(gmv, Scope.member(H1), OCTOBER)
    assert (single.data_through, single.pace_attainment, single.projection, single.lagging_sources) == (
        h1.data_through, h1.pace_attainment, h1.projection, h1.lagging_sources)


def test_role_tables_take_each_kpi_s_own_date(db: Database) -> None:
    seed_hosts(db)
    engine = engine_for(db)
    kpis = [engine.registry.kpis["gmv"], engine.registry.kpis["live_cvr"]]
    scores = {s.member: s for s in engine.member_scores(kpis, "host", OCTOBER)}
    gmv, live_cvr = scores[H1].statuses
    assert gmv.data_through == date(2026, 10, 14)  # its sources: tiktok-us, shopee-sg (see above)
    # live_cvr's metrics come from live-tool only, through Oct 12: 12 × 30 / (12 × 1,000) = 3.0 %
    assert live_cvr.data_through == date(2026, 10, 12)
    assert live_cvr.actual == pytest.approx(360 / 12_000)
    assert scores[H2].statuses[1].actual is None  # no live rows for h2: no data, not 0 %


def test_a_shop_board_paces_each_shop_on_its_own_data_through_date(db: Database) -> None:
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 19), 1000, source="tiktok-us", shop="shop-a")
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 16), 200, source="erp", shop="shop-a")
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 14), 500, source="shopee-sg", shop="shop-b")
    set_target(db, "gmv", Scope.of_shop("shop-a"), "2026-10", 40_000)
    set_target(db, "gmv", Scope.of_shop("shop-b"), "2026-10", 15_500)
    engine = engine_for(db)
    gmv = engine.registry.kpis["gmv"]
    rows = {row.member: row.status for row in engine.shop_board(gmv, OCTOBER)}
    a, b = rows["shop-a"], rows["shop-b"]
    # shop-a: tiktok-us through Oct 19, erp through Oct 16 (ongoing) → d = Oct 16
    assert a.data_through == date(2026, 10, 16)
    assert a.actual == 19 * 1000 + 16 * 200  # 22,200
    # pace: 16 × (1,000 + 200) = 19,200 against 40,000 × 16/31 → 19,200 × 31 / 640,000 = 93.0 %
    # (the newest row, Oct 19, would have said 22,200 × 31 / 760,000 = 90.6 %)
    assert a.pace_attainment == pytest.approx(0.93)
    assert a.lagging_sources == (("erp", date(2026, 10, 16)),)
    # shop-b: its own source through Oct 14, not held back by or waiting for shop-a: 7,000 / (15,500 × 14/31) = 100 %
    assert b.data_through == date(2026, 10, 14) and b.pace_attainment == pytest.approx(1.0)
    single = engine.status(gmv, Scope.of_shop("shop-a"), OCTOBER)
    assert (single.data_through, single.pace_attainment) == (a.data_through, a.pace_attainment)


def test_a_finished_period_board_counts_every_row(db: Database) -> None:
    seed_hosts(db)
    engine = KpiEngine(db, load_registry(None), tz=ZoneInfo("UTC"), week_start=0, today=lambda: date(2026, 11, 5))
    rows = {row.member: row.status for row in engine.board(engine.registry.kpis["gmv"], "host", OCTOBER)}
    # October is over: pace is attainment on every row, 26,100 / 62,000 = 42.1 %
    assert rows[H1].pace_attainment == pytest.approx(26_100 / 62_000)


def test_every_question_reads_its_figures_and_targets_in_one_statement(db: Database) -> None:
    seed_hosts(db)  # member targets for October: h1 62,000, h2 31,000
    put(db, "gmv", date(2026, 10, 1), date(2026, 10, 19), 1000, source="tiktok-us", shop="shop-a")
    set_target(db, "gmv", Scope.of_shop("shop-a"), "2026-10", 38_000)
    set_target(db, "gmv", Scope.team(), "2026-10", 100_000)
    engine = engine_for(db)
    gmv = engine.registry.kpis["gmv"]
    statements: list[str] = []

    def one(question: Callable[[], Any]) -> Any:
        statements.clear()
        listener = lambda *args: statements.append(args[2])  # noqa: E731 — (conn, cursor, statement, …)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            answer = question()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1, statements  # no second round trip for the targets
        return answer

    board = one(lambda: engine.board(gmv, "host", OCTOBER))
    assert {row.member: row.status.target.value for row in board if row.status.target} == {H1: 62_000, H2: 31_000}
    shops = one(lambda: engine.shop_board(gmv, OCTOBER))
    assert [(row.member, row.status.target.value if row.status.target else None) for row in shops] == [
        ("shop-a", 38_000)]
    assert one(lambda: engine.status(gmv, Scope.member(H1), OCTOBER)).target.value == 62_000
    # the team's own target: nothing to derive from members or shops, so nothing more to read
    assert one(lambda: engine.status(gmv, Scope.team(), OCTOBER)).target.value == 100_000


def test_a_question_inside_a_unit_of_work_sees_its_unsaved_target(db: Database) -> None:
    seed_hosts(db)  # h1's October target: 62,000
    engine = engine_for(db)
    gmv = engine.registry.kpis["gmv"]
    with db.shared_session() as session:
        target_repo.set_target(session, "gmv", Scope.member(H1), OCTOBER, 70_000, "test")
        session.flush()  # written in this unit of work, not committed: another connection would read 62,000
        status = engine.status(gmv, Scope.member(H1), OCTOBER)
        assert status.target is not None and status.target.value == 70_000


def test_a_question_outside_a_unit_of_work_opens_no_transaction(db: Database) -> None:
    """PostgreSQL: no BEGIN / COMMIT round trips around a one-statement question (autocommit). SQLite's
    driver opens none for a read either way."""
    with db.reading() as session:
        connection = session.connection()
        assert connection.execute(text("SELECT 1")).scalar() == 1
        driver = connection.connection.driver_connection
        if db.dialect == "postgresql":
            assert driver.info.transaction_status.name == "IDLE"
        else:
            assert not driver.in_transaction
