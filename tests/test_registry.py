"""Walks the command registry: every declared topic, example and admin command, so a new command
is tested the moment it is declared (bot/language/registry.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from bot.console import console_user, to_request
from bot.core.bot import KpiBot
from bot.core.messages import T
from bot.core.request import TYPED_MENTION, CommandRequest, UserRef, extract_typed_mentions
from bot.demo import build_demo
from bot.handlers import command_registry
from bot.handlers.context import Context
from bot.language.commands import Command, ParseError
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, CommandRegistry, Subcommand
from bot.testing import TestAdapter
from jobs.outbox import FileOutbox
from jobs.present.reply import Reply, ReplyKind
from storage.db import Database
from storage.repositories import audit as audit_repo
from storage.repositories import members as member_repo
from tests.fakes.dingtalk_api import ADMIN_STAFF_ID as DINGTALK_ADMIN
from tests.fakes.dingtalk_api import MEMBER_STAFF_ID as DINGTALK_MEMBER
from tests.fakes.dingtalk_api import DingTalkBot, robot_message
from tests.fakes.feishu_api import MEMBER_OPEN_ID as FEISHU_MEMBER
from tests.fakes.feishu_api import OTHER_OPEN_ID as FEISHU_OTHER
from tests.fakes.feishu_api import FeishuBot, bot_mention
from tests.fakes.slack_api import ADMIN_ID as SLACK_ADMIN
from tests.fakes.slack_api import MEMBER_ID as SLACK_MEMBER
from tests.fakes.slack_api import SlackBot

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

TODAY = date(2026, 11, 20)
OPERATOR = UserRef("console", "hana@demo.shop", email="hana@demo.shop", display_name="Hana")  # demo admin


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> KpiBot:
    folder = tmp_path_factory.mktemp("demo")
    core = build_demo(folder / "demo.db", today=TODAY)
    core.outboxes["file"] = FileOutbox(folder / "out")
    return core


def console_ask(core: KpiBot, text: str, user: UserRef = OPERATOR) -> Reply:
    line, mentions = extract_typed_mentions(text, lambda name: UserRef("console", name, display_name=name))
    return core.handle(CommandRequest(text=line, user=user, channel="console", mentions=mentions))


def is_apology(reply: Reply) -> bool:
    return reply.title in (T("oops_title", "en"), T("oops_title", "zh"))


def test_help_role_answers_in_both_languages(demo: KpiBot) -> None:
    english, chinese = console_ask(demo, "help role"), console_ask(demo, "帮助 角色")
    assert english.kind is ReplyKind.HELP and "role assign @user ROLE" in (english.text or "")
    assert chinese.kind is ReplyKind.HELP and "角色 分配 @成员 角色" in (chinese.text or "")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_help_topic_renders_in_both_languages(demo: KpiBot, lang: str) -> None:
    overview = demo.handle(CommandRequest(text="help", user=OPERATOR, lang=lang))
    for group in demo.commands.groups:
        assert f"*{group.name}*" in (overview.text or "")
        for word in group.all_words():
            reply = demo.handle(CommandRequest(text=f"help {word}", user=OPERATOR, lang=lang))
            assert not is_apology(reply), word
            assert reply.kind is ReplyKind.HELP and reply.title == f"kpibot — {group.name}", word
            assert group.summary(lang) in (reply.text or "") and group.usage(lang) in (reply.text or "")


def test_every_declared_example_parses_and_answers_on_the_demo(demo: KpiBot) -> None:
    for lang in ("en", "zh"):
        for group in demo.commands.groups:
            for example in group.examples.items(lang):
                reply = console_ask(demo, example)
                assert not is_apology(reply), example
                assert reply.kind not in (ReplyKind.ERROR, ReplyKind.HINT, ReplyKind.REFUSAL), (example, reply.text)


def examples_by_command(core: KpiBot) -> dict[type, str]:
    """The first English example of each command type, as the parser reads it."""
    found: dict[type, str] = {}
    for group in core.commands.groups:
        for example in group.examples.items("en"):
            line, mentions = extract_typed_mentions(example, lambda name: UserRef("test", name))
            command = core.parser.parse(CommandRequest(text=line, user=OPERATOR, mentions=mentions))
            found.setdefault(type(command), example)
    return found


def test_every_admin_command_has_an_example(demo: KpiBot) -> None:
    examples = examples_by_command(demo)
    missing = [sub.command.__name__ for _, sub in demo.commands.admin_commands() if sub.command not in examples]
    assert missing == []


def _test_adapter_as(platform: str) -> Callable[[KpiBot], Callable[[str], Reply]]:
    def surface(core: KpiBot) -> Callable[[str], Reply]:
        chat = TestAdapter(core)
        chat.user("alice", "alice@shop.com")
        chat.user("stranger", "stranger@shop.com", platform=platform, user_id="U0STRANGER")
        return lambda text: chat.ask(text, as_user="stranger")
    return surface


def _console_as(email: str) -> Callable[[KpiBot], Callable[[str], Reply]]:
    def surface(core: KpiBot) -> Callable[[str], Reply]:
        user = console_user(email)  # `kpibot console --as EMAIL`
        return lambda text: core.handle(to_request(text, user, None))
    return surface


# In process, one entry per surface a non-admin can write from; each returns "ask as a non-admin".
# The real platforms, over signed HTTP to the running process, are walked further down.
NON_ADMIN_SURFACES: dict[str, Callable[[KpiBot], Callable[[str], Reply]]] = {
    "console --as a demo host": _console_as("anna@demo.shop"),
    "test adapter": _test_adapter_as("test"),
    "test adapter as a Slack user": _test_adapter_as("slack"),
    "test adapter as a Feishu user": _test_adapter_as("feishu"),
    "test adapter as a DingTalk user": _test_adapter_as("dingtalk"),
}


@pytest.mark.parametrize("surface", list(NON_ADMIN_SURFACES))
def test_every_admin_command_is_refused_for_a_non_admin(demo: KpiBot, surface: str) -> None:
    ask = NON_ADMIN_SURFACES[surface](demo)
    examples = examples_by_command(demo)
    for _, sub in demo.commands.admin_commands():
        reply = ask(examples[sub.command])
        assert reply.kind is ReplyKind.REFUSAL, (surface, examples[sub.command], reply.text)


# --- the real platforms: a non-admin's signed request over HTTP to the running process ------------
# One running bot per platform walks every admin example; what the fake platform received is checked.

@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The platform walks run on SQLite only (tests/conftest.py would add PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'kpibot.db'}"


# Written by every request whatever it asks: the audit log, the event ledger, the sender's own record.
BOOKKEEPING = {"audit_entry", "processed_event", "delivery_ledger", "member", "identity"}


def rows_a_command_could_change(db: Database) -> dict[str, list[tuple[object, ...]]]:
    with db.engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(table.select())]
                for name, table in SQLModel.metadata.tables.items() if name not in BOOKKEEPING}


def assert_every_admin_example_refused(demo: KpiBot, db: Database, ask: Callable[[str], str]) -> None:
    """`ask` sends one line as the platform's non-admin and returns what the fake platform received."""
    examples = examples_by_command(demo)
    admin_commands = demo.commands.admin_commands()
    before = rows_a_command_could_change(db)
    for _, sub in admin_commands:
        received = ask(examples[sub.command])
        assert T("refused_title", "en") in received and "needs an admin" in received, (examples[sub.command], received)
    assert rows_a_command_could_change(db) == before
    with db.session() as session:
        assert member_repo.admins(session) == []
        audited = [(entry.action, entry.outcome) for entry in reversed(audit_repo.latest(session, 100))]
    assert audited == [(sub.audit, "refused") for _, sub in admin_commands]


def test_every_admin_command_is_refused_for_a_slack_non_admin(demo: KpiBot, slack_bot: SlackBot) -> None:
    def ask(text: str) -> str:
        line = TYPED_MENTION.sub(f"<@{SLACK_ADMIN}|ada>", text)  # a mention as Slack writes it
        response = slack_bot.slash(line, user_id=SLACK_MEMBER)  # the refusal is the ack Slack receives
        assert response.status_code == 200, response.text
        return json.dumps(response.json(), ensure_ascii=False)

    assert_every_admin_example_refused(demo, slack_bot.runtime.db, ask)


def test_every_admin_command_is_refused_for_a_feishu_non_admin(demo: KpiBot, bot: FeishuBot) -> None:
    def ask(text: str) -> str:
        line = TYPED_MENTION.sub("@_user_2", text)  # Feishu writes a key in the text, the person in `mentions`
        someone = [("@_user_2", FEISHU_OTHER, "Tom Lee")] if line != text else []
        return bot.ask(f"@_user_1 {line}", mentions=[bot_mention(), *someone], sender=FEISHU_MEMBER).text

    assert_every_admin_example_refused(demo, bot.runtime.db, ask)


def test_every_admin_command_is_refused_for_a_dingtalk_non_admin(demo: KpiBot, dingtalk: DingTalkBot) -> None:
    def ask(text: str) -> str:
        already = len(dingtalk.fake.sent)
        line = TYPED_MENTION.sub("@王经理", text)  # DingTalk writes the name, the person in `atUsers`
        someone = [{"dingtalkId": f"$:LWCP_v1:${DINGTALK_ADMIN}", "staffId": DINGTALK_ADMIN}] if line != text else []
        message = robot_message(dingtalk.fake, line, staff_id=DINGTALK_MEMBER, at_users=someone)
        assert dingtalk.signed_post(message).status_code == 200
        return dingtalk.fake.wait_for_sent(already + 1)[already].markdown

    assert_every_admin_example_refused(demo, dingtalk.runtime.db, ask)


def test_declarations_reject_clashing_words() -> None:
    groups = command_registry().groups
    with pytest.raises(ValueError, match="already"):
        CommandRegistry.of([*groups, groups[0]])


def test_an_unknown_subcommand_lists_the_declared_ones(demo: KpiBot) -> None:
    with pytest.raises(ParseError) as caught:
        demo.parser.parse(CommandRequest(text="role frobnicate", user=OPERATOR))
    assert caught.value.values["choices"] == "assign, list, remove"


def test_chinese_alert_days_are_read(demo: KpiBot) -> None:
    command = demo.parser.parse(CommandRequest(text="告警 添加 roas < 2 连续3天", user=OPERATOR))
    assert (command.kpi, command.op, command.value.value, command.days) == ("roas", "<", 2, 3)  # type: ignore[attr-defined]


def test_bare_console_is_the_operator_and_console_as_is_that_person(demo: KpiBot) -> None:
    operator = demo.handle(to_request("target set gmv 2m month", console_user(None), None))
    assert operator.kind is ReplyKind.CONFIRMATION
    anna = demo.handle(to_request("target set gmv 3m month", console_user("anna@demo.shop"), None))
    assert anna.kind is ReplyKind.REFUSAL
    audit = demo.handle(to_request("audit 2", console_user(None), None))
    rows = audit.tables[0].rows
    # newest first: Anna's refusal (by her email), then the operator's change
    assert rows[0][1] == "anna@demo.shop" and rows[0][4] == "refused"
    assert rows[1][4] == "done" and rows[1][2].startswith("target.set · target gmv team")


def test_a_question_uses_one_database_connection(demo: KpiBot) -> None:
    """Identity, the engine's sums, the freshness check and the handler share one unit of work."""
    from sqlalchemy import event

    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(1)

    event.listen(demo.db.engine.pool, "checkout", count)
    try:
        for text in ("gmv month", "me", "board gmv role:host week", "target set gmv 1.5m month"):
            checkouts.clear()
            assert console_ask(demo, text).kind is not ReplyKind.ERROR
            assert len(checkouts) == 1, text
    finally:
        event.remove(demo.db.engine.pool, "checkout", count)


def test_the_scheduler_hears_of_a_new_alert_after_it_is_committed(demo: KpiBot) -> None:
    from sqlalchemy import text

    seen: list[int] = []

    def reschedule() -> None:  # like the job service: reads the rules on its own connection
        with demo.db.engine.connect() as connection:
            seen.append(connection.execute(text("SELECT count(*) FROM alert_rule WHERE active")).scalar_one())

    with demo.db.engine.connect() as connection:
        before = connection.execute(text("SELECT count(*) FROM alert_rule WHERE active")).scalar_one()
    demo.on_schedule_change.append(reschedule)
    try:
        assert console_ask(demo, "alert add roas < 1.5 for 2 days").kind is ReplyKind.CONFIRMATION
    finally:
        demo.on_schedule_change.remove(reschedule)
    assert seen == [before + 1]


# --- a command declared the way bot/language/registry.py shows --------------------------------

@dataclass(frozen=True)
class Streak(Command):
    kpi: str


@dataclass(frozen=True)
class StreakReset(Command):
    kpi: str


def read_streak(parser: Parser, words: list[str], request: CommandRequest) -> Streak:
    found = parser.scan(words, request)
    parser.reject_unknown(found, "streak")
    return Streak(kpi=parser.one_kpi(found, default=True, topic="streak"))


def read_reset(parser: Parser, words: list[str], request: CommandRequest) -> StreakReset:
    return StreakReset(kpi=parser.one_kpi(parser.scan(words, request), default=False, topic="streak"))


def answer_streak(ctx: Context, cmd: Streak | StreakReset) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    return Reply(title=f"{type(cmd).__name__} {kpi.label(ctx.lang)}", lang=ctx.lang)


STREAK = CommandGroup(
    name="streak", words=("连续",), default="show",
    summary=Bilingual("Days in a row on track.", "连续达标天数。"),
    subcommands=(
        Subcommand(Streak, read_streak, answer_streak, name="show", words=("查看",),
                   usage=Bilingual("streak [show] [KPI]", "连续 [查看] [指标]")),
        Subcommand(StreakReset, read_reset, answer_streak, name="reset", words=("重置",), admin=True,
                   audit="streak.reset", subject=lambda ctx, session, cmd: f"streak {cmd.kpi}",
                   what=Bilingual("streaks", "连续记录"), usage=Bilingual("streak reset KPI", "连续 重置 指标")),
    ),
    examples=Bilingual("streak show gmv · streak reset gmv", "连续 查看 gmv"),
)


def test_a_new_declaration_is_dispatched_helped_and_guarded(demo: KpiBot) -> None:
    core = KpiBot(settings=demo.settings, db=demo.db, registry=demo.registry, today=lambda: TODAY,
                  commands=CommandRegistry.of([*command_registry().groups, STREAK]))
    assert console_ask(core, "streak").title == "Streak GMV"  # no subcommand written: the default one
    assert console_ask(core, "连续 查看 gmv").title == "Streak GMV"
    assert "连续 重置 指标" in (console_ask(core, "帮助 连续").text or "")
    assert "*streak* — Days in a row on track." in (console_ask(core, "help").text or "")
    assert "did you mean “streak”" in (console_ask(core, "streek gmv").text or "").lower()
    refused = core.handle(to_request("streak reset gmv", console_user("anna@demo.shop"), None))
    assert refused.kind is ReplyKind.REFUSAL and "streaks" in (refused.text or "")
    assert console_ask(core, "streak reset gmv").title == "StreakReset GMV"  # Hana is an admin
