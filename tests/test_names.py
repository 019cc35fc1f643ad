"""KPIs, roles and people by any name (issue 13), and did-you-mean that never changes the meaning."""

from __future__ import annotations

import pytest

from bot.language.names import NameIndex, Person
from bot.language.suggest import Suggester
from storage.kpi.registry import load_registry

PEOPLE = [Person("anna@demo.shop", "Anna Li", "anna@demo.shop"), Person("ben@demo.shop", "Ben Wu", "ben@demo.shop"),
          Person("chloe@demo.shop", "Chloe Zhang", "chloe@demo.shop"), Person("eva@demo.shop", "Eva Lin", None),
          Person("zxm", "张小明"), Person("will@demo.shop", "Will Ma", "will@demo.shop")]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    return NameIndex(load_registry(None), PEOPLE, reserved=["will", "last", "me"])


def hits(index: NameIndex, text: str) -> list[tuple[str, tuple[str, ...], str]]:
    return [(h.kind, h.ids, h.text) for h in index.find(text)]


@pytest.mark.parametrize(("text", "kpi"), [
    ("return rate month", "return_rate"), ("ad spend this month", "ad_spend"), ("conversion rate", "live_cvr"),
    ("average order value", "aov"), ("watch time", "avg_watch_seconds"), ("add to cart rate", "add_to_cart_rate"),
    ("add-to-cart rate", "add_to_cart_rate"), ("Add_To_Cart_Rate", "add_to_cart_rate"), ("ROAS", "roas"),
    ("roi", "roas"), ("投产比", "roas"), ("成交转化率", "live_cvr"), ("点击率", "ctr"), ("GMV!", "gmv"),
    ("orders", "orders"), ("order", "orders"), ("videos", "videos_published"), ("hook rate", "hook_rate_3s"),
    ("客单价", "aov"), ("review response time", "review_response_hours"),
])
def test_a_kpi_by_any_of_its_names(index: NameIndex, text: str, kpi: str) -> None:
    assert [(h.kind, h.id) for h in index.find(text)] == [("kpi", kpi)]


@pytest.mark.parametrize(("text", "role"), [
    ("host", "host"), ("hosts", "host"), ("Hosts", "host"), ("ad buyers", "ad_buyer"), ("ad-buyer", "ad_buyer"),
    ("ad buyer", "ad_buyer"), ("投手", "ad_buyer"), ("主播", "host"), ("剪辑师", "editor"), ("editors", "editor"),
    ("video editors", "editor"), ("ops manager", "ops_manager"),
])
def test_a_role_by_any_of_its_names_singular_or_plural(index: NameIndex, text: str, role: str) -> None:
    assert [(h.kind, h.id) for h in index.find(text)] == [("role", role)]


@pytest.mark.parametrize(("text", "person", "said"), [
    ("Chloe's GMV this month", "chloe@demo.shop", "Chloe's"), ("GMV for Ben last week", "ben@demo.shop", "Ben"),
    ("Chloe的GMV", "chloe@demo.shop", "Chloe的"), ("Ben上周的成交转化率", "ben@demo.shop", "Ben"),
    ("Eva的点击率", "eva@demo.shop", "Eva的"), ("How's Ben doing?", "ben@demo.shop", "Ben"),
    ("ben wu", "ben@demo.shop", "ben wu"), ("ben@demo.shop gmv", "ben@demo.shop", "ben@demo.shop"),
    ("eva gmv", "eva@demo.shop", "eva"), ("张小明的GMV", "zxm", "张小明的"), ("小明上周", "zxm", "小明"),
    ("Chloe’s roas", "chloe@demo.shop", "Chloe’s"), ("will ma gmv", "will@demo.shop", "will ma"),
])
def test_a_person_by_name_first_name_key_or_email_with_possessives(
        index: NameIndex, text: str, person: str, said: str) -> None:
    found = [h for h in index.find(text) if h.kind == "person"]
    assert [(h.id, h.text) for h in found] == [(person, said)]


def test_a_first_name_that_is_a_command_word_needs_the_full_name(index: NameIndex) -> None:
    assert [h for h in index.find("will gmv") if h.kind == "person"] == []


def test_two_people_sharing_a_first_name_come_back_together() -> None:
    index = NameIndex(load_registry(None), [*PEOPLE, Person("anna.k@demo.shop", "Anna Kim", None)])
    assert hits(index, "anna gmv")[0] == ("person", ("anna.k@demo.shop", "anna@demo.shop"), "anna")
    assert hits(index, "Anna Kim gmv")[0] == ("person", ("anna.k@demo.shop",), "Anna Kim")


def test_names_never_match_inside_longer_words(index: NameIndex) -> None:
    assert hits(index, "benchmark gmvx annabelle") == []


def test_several_names_in_one_message_left_to_right(index: NameIndex) -> None:
    assert [(h.kind, h.id) for h in index.find("hosts roas vs Chloe")] == [
        ("role", "host"), ("kpi", "roas"), ("person", "chloe@demo.shop")]


def test_did_you_mean_never_turns_a_meaningful_word_into_another() -> None:
    suggester = Suggester(["list", "status", "gmv", "roas", "board", "target"], meaningful=["last", "this", "week"])
    assert suggester.closest("last") is None  # a period word, not a typo of `list`
    assert suggester.closest("lst") == "list"
    assert suggester.closest("statsu") == "status"
    assert suggester.closest("weather") is None


def test_a_one_letter_slip_is_taken_only_when_unambiguous() -> None:
    suggester = Suggester(["conversion", "status", "costs", "hosts"], meaningful=["last"])
    assert suggester.typo_of("convesion") == "conversion"  # one letter dropped
    assert suggester.typo_of("stauts") == "status"  # neighbours swapped
    assert suggester.typo_of("gosts") is None  # `costs` and `hosts` are both one slip away
    assert suggester.typo_of("gmvv") is None  # too short to guess
    assert suggester.typo_of("converzzion") is None  # two slips
