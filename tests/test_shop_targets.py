"""Targets for a role or a member inside one shop (`shop:S role:R`, `shop:S member:M`): set, derived, paced,
and kept apart from the role's or member's own targets. Hand-computed; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures import add_members, set_target

NOVEMBER = Calendar(0).month(date(2026, 11, 1))
H1, H2 = "h1@shop.com", "h2@shop.com"
HOSTS_IN_A = Scope.role("host").in_shop("shop-a")


def seed(db: Database) -> KpiEngine:
    """Nov 2: h1 700 and h2 200 in shop-a, h1 5,000 in shop-b. November is over on Dec 5."""
    add_members(db)
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", date(2026, 11, 2), 700, H1, "test", "shop-a"),
                               FactRecord("gmv", date(2026, 11, 2), 200, H2, "test", "shop-a"),
                               FactRecord("gmv", date(2026, 11, 2), 5000, H1, "test", "shop-b")])
    return KpiEngine(db, load_registry(None), tz=ZoneInfo("UTC"), today=lambda: date(2026, 12, 5))


def test_a_role_in_a_shop_has_its_own_target(db: Database) -> None:
    engine = seed(db)
    gmv = engine.registry.kpis["gmv"]
    set_target(db, "gmv", HOSTS_IN_A, "2026-11", 1200)
    set_target(db, "gmv", Scope.role("host"), "2026-11", 9000)  # the role across shops: another target
    st = engine.status(gmv, HOSTS_IN_A, NOVEMBER)
    # hosts in shop-a: 700 + 200 = 900 against 1,200 → 75.0 %
    assert st.actual == 900 and st.target is not None and st.target.value == 1200 and not st.target.derived
    assert st.attainment == pytest.approx(0.75)
    hosts = engine.status(gmv, Scope.role("host"), NOVEMBER)
    assert hosts.target is not None and hosts.target.value == 9000  # 5,900 / 9,000: not the in-shop one
    assert hosts.actual == 5900


def test_a_role_in_a_shop_sums_its_members_targets_in_that_shop(db: Database) -> None:
    engine = seed(db)
    gmv = engine.registry.kpis["gmv"]
    set_target(db, "gmv", Scope.member(H1).in_shop("shop-a"), "2026-11", 600)
    set_target(db, "gmv", Scope.member(H1), "2026-11", 10_000)  # h1 across shops: not summed into shop-a
    assert engine.status(gmv, HOSTS_IN_A, NOVEMBER).target is None  # h2 has none in shop-a: no partial sum
    set_target(db, "gmv", Scope.member(H2).in_shop("shop-a"), "2026-11", 400)
    st = engine.status(gmv, HOSTS_IN_A, NOVEMBER)
    # 600 + 400 = 1,000 (members) → 900 / 1,000 = 90.0 %
    assert st.target is not None and st.target.value == 1000 and st.target.derived_from == "members"
    assert st.attainment == pytest.approx(0.9)
    member = engine.status(gmv, Scope.member(H1).in_shop("shop-a"), NOVEMBER)
    assert member.attainment == pytest.approx(700 / 600)  # 116.7 %
    # the hosts' board inside shop-a: their rows and targets there (h1 700 / 600, h2 200 / 400)
    board = {row.member: row.status for row in engine.board(gmv, "host", NOVEMBER, shop="shop-a")}
    assert board[H1].actual == 700 and board[H1].attainment == pytest.approx(700 / 600)
    assert board[H2].actual == 200 and board[H2].attainment == pytest.approx(0.5)
    # the shop itself: every member holding a role would need a target in shop-a (Bo and Eli have none)
    assert engine.status(gmv, Scope.of_shop("shop-a"), NOVEMBER).target is None


def test_a_month_target_in_a_shop_is_derived_from_its_quarter(db: Database) -> None:
    engine = seed(db)
    set_target(db, "gmv", HOSTS_IN_A, "2026-Q4", 9200)
    st = engine.status(engine.registry.kpis["gmv"], HOSTS_IN_A, NOVEMBER)
    # Q4 has 92 days, November 30: 9,200 × 30 / 92 = 3,000
    assert st.target is not None and st.target.value == pytest.approx(3000) and st.target.derived_from == "quarter"


def test_a_board_asked_in_chat_for_one_shop_ranks_the_rows_in_that_shop(db: Database, make_settings) -> None:  # type: ignore[no-untyped-def]
    from bot.core.bot import KpiBot
    from bot.testing import TestAdapter

    engine = seed(db)
    set_target(db, "gmv", Scope.member(H1).in_shop("shop-a"), "2026-11", 1400)
    chat = TestAdapter(KpiBot(settings=make_settings(), db=db, registry=engine.registry,
                              today=lambda: date(2026, 12, 5)))
    chat.user("hana", H1)
    # shop-a only: h1 700 (of 1,400 → 50.0 %), h2 200; h1's 5,000 in shop-b is not in this board.
    board = chat.ask("board gmv role:host shop:shop-a 2026-11", as_user="hana")
    assert "Live host · shop-a" in board.title
    assert [row[1:5] for row in board.tables[0].rows] == [
        ["Hana", "$700", "$1,400", "50.0%"], ["Hugo", "$200", "—", "—"]]
    everyone = chat.ask("board gmv role:host 2026-11", as_user="hana")  # across shops: 5,000 + 700 = 5,700
    assert everyone.tables[0].rows[0][1:3] == ["Hana", "$5,700"]
