"""Bad input gets a specific answer (which word, what was expected) and changes nothing;
arbitrary text never raises and never gets the generic apology."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.bot import KpiBot
from bot.core.messages import T
from bot.core.request import CommandRequest, UserRef
from bot.testing import TestAdapter
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.registry import load_registry
from storage.repositories import audit as audit_repo
from storage.repositories import targets as target_repo
from tests.conversation_fixture import conversation_team

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


@pytest.fixture
def chat(db: Database, make_settings) -> TestAdapter:  # type: ignore[no-untyped-def]
    return conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))


def snapshot(db: Database) -> tuple[list[tuple[str, str, str, float]], int]:
    with db.session() as session:
        rows = target_repo.list_targets(session, None, date(2000, 1, 1), date(2100, 1, 1))
        return [(t.kpi, t.scope_key, t.period_key, t.value) for t in rows], len(audit_repo.latest(session, 1000))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("target set gmv month", "The value is missing. Example: `target set gmv 1.2m month`."),
        ("target set gmv abc month", "I don't understand “abc”."),
        ("target set gmv -5 month", "A target must be greater than zero (got “-5”)."),
        ("target set gmv 0 month", "A target must be greater than zero (got “0”)."),
        ("target set foo 1m month", "Unknown KPI “foo”. KPIs: ad_gmv, ad_spend"),
        ("target set gmvv 1m month", "Unknown KPI “gmvv”. Did you mean “gmv”?"),
        ("target set gmv 1m role:astronaut", "Unknown role “astronaut”. Roles: ops_manager, host"),
        ("target set gmv 1m 2026-13", "“2026-13” is not a period I know."),
        ("target set gmv 1m 2026-W60", "“2026-W60” is not a period I know."),
        ("target set gmv 15% month", "gmv is not a percentage KPI, so “15%” does not fit"),
        ("target set return_rate 5 month", "return_rate is a percentage: write it as a percent, e.g. 15%"),
        ("target set orders $500 month", "orders is not a money KPI"),
        ("target set gmv 1,2,3 month", "“1,2,3” is not a number."),
        ("target set gmv 1m 2m month", "Give one value only."),
        ("target set gmv 1m month week", "Give one period only."),
        ("target set gmv roas 1m", "Name one KPI at a time"),
        ("target frobnicate gmv", "“frobnicate” is not a subcommand here; expected one of: set, list, clear, split."),
        ("gmv lst", "I don't understand “lst”. Did you mean “last”?"),  # never “list”: that changes the meaning
        ("alert add roas 2", "Give one comparison: <, <=, > or >=."),
        ("alert add gmv pace < 0.9", "A pace threshold is a percentage, e.g. 90% (got “0.9”)."),
        ("alert add roas < 2 for 400 days", "`for N days` takes N from 1 to 90."),
        ("alert rm x", "Give the id shown by the list command"),
        ("digest subscribe weekly funday 09:00", "I don't understand “funday”."),
        ("digest subscribe weekly mon 25:00", "“25:00” is not a time of day"),
        ("digest subscribe monthly 31 09:00", "A monthly digest takes a day of month from 1 to 28"),
        ("role assign host", "Mention the person"),
        ("role assign @hugo astronaut", "Unknown role “astronaut”."),
        ("audit 1000", "“1000” is not a count from 1 to 100."),
        ("target set gmv 1m @ghost", "I don't understand “ghost”."),
    ],
)
def test_bad_input_says_what_was_wrong_and_changes_nothing(
    chat: TestAdapter, db: Database, text: str, expected: str
) -> None:
    before = snapshot(db)
    reply = chat.ask(text, as_user="boss")
    assert reply.kind is ReplyKind.ERROR, reply.plain_text()
    assert expected in (reply.text or ""), reply.text
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("目标 设置 gmv 15% 本月", "gmv 不是百分比指标"),
        ("设置目标 gmv 本月", "缺少数值"),
        ("GMV 2026-13 达成率", "“2026-13”不是有效的时间段"),
    ],
)
def test_bad_input_in_chinese_is_answered_in_chinese(chat: TestAdapter, db: Database, text: str, expected: str) -> None:
    before = snapshot(db)
    reply = chat.ask(text, as_user="boss")
    assert reply.lang == "zh" and reply.kind is ReplyKind.ERROR
    assert expected in (reply.text or "")
    assert snapshot(db) == before


def test_unknown_input_gets_the_closest_commands(chat: TestAdapter) -> None:
    english = chat.ask("banana smoothie", as_user="hana")
    assert english.kind is ReplyKind.HINT and "`board gmv role:host week`" in (english.text or "")
    chinese = chat.ask("今天天气怎么样呀", as_user="hana")
    assert chinese.kind is ReplyKind.HINT and "`本周主播排名`" in (chinese.text or "")


def test_a_mentioned_user_who_is_not_linked(chat: TestAdapter) -> None:
    chat.user("stranger", "nobody@elsewhere.com")
    reply = chat.ask("gmv @stranger month", as_user="hana")
    assert reply.kind is ReplyKind.ERROR
    assert "stranger is not linked to a data member yet" in (reply.text or "")


@pytest.fixture(scope="module")
def fuzz_bot(tmp_path_factory: pytest.TempPathFactory) -> KpiBot:
    from storage.settings import load_settings

    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    settings = load_settings(_env_file=None, DATABASE_URL=f"sqlite:///{path}", KPIBOT_ADMINS="test:fuzzer")
    db = Database(settings.database_url)
    db.upgrade()
    return KpiBot(settings=settings, db=db, registry=load_registry(None), today=lambda: date(2026, 11, 20))


VOCABULARY = ["gmv", "roas", "target", "set", "list", "clear", "board", "me", "role", "assign", "alert", "add",
              "digest", "subscribe", "now", "<", ">=", "pace", "for", "days", "in", "#ch", "1.2m", "120万", "15%",
              "$1.2M", "month", "2026-13", "2026-W53", "本周", "主播", "排名", "达成率", "<@0>", "<@7>", "<#0>",
              "role:host", "member:", "public", "as", "help", "audit", "admin", "sources", "-5", "0"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So", "Lo"]), max_size=50),
))
def test_any_text_gets_a_reply_and_never_the_apology(fuzz_bot: KpiBot, text: str) -> None:
    user = UserRef("test", "fuzzer")
    reply = fuzz_bot.handle(CommandRequest(text, user, channel="C1", mentions=[user]))
    assert reply.title
    assert reply.title not in (T("oops_title", "en"), T("oops_title", "zh")), text


def test_very_long_input(fuzz_bot: KpiBot) -> None:
    reply = fuzz_bot.handle(CommandRequest("gmv " * 20000, UserRef("test", "x")))
    assert reply.kind is not ReplyKind.ERROR or reply.title != T("oops_title", "en")
