"""Nothing from users or data can ping or link (issue 18 §3): every rendered field, Slack `text` included,
is escaped per platform. The contract is in tests/escaping_contract.py."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.bot import KpiBot
from bot.core.request import CommandRequest, UserRef
from bot.feishu.cards import message_content
from bot.slack.blocks import message_payload
from bot.slack.translate import parse_text
from jobs.present.reply import Reply
from storage.db import Database
from storage.kpi.registry import load_registry
from tests.escaping_contract import HOSTILE_PIECES, hostile_reply, hostile_text, live_markup

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def strings_where(node: Any, key: str, value: str, field: str) -> list[str]:
    """Every `node[field]` of the dicts in `node` (nested anywhere) whose `key` is `value`."""
    if isinstance(node, dict):
        own = [node[field]] if node.get(key) == value else []
        return own + [text for child in node.values() for text in strings_where(child, key, value, field)]
    if isinstance(node, list):
        return [text for child in node for text in strings_where(child, key, value, field)]
    return []


def slack_rendered(reply: Reply) -> list[str]:
    """`text` and every mrkdwn string of the blocks (plain_text objects never parse markup)."""
    payload = message_payload(reply)
    return [payload["text"], *strings_where(payload["blocks"], "type", "mrkdwn", "text")]


def feishu_rendered(reply: Reply) -> list[str]:
    """A text message's text, or every markdown element of the card."""
    msg_type, content = message_content(reply)
    body = json.loads(content)
    return [body["text"]] if msg_type == "text" else strings_where(body, "tag", "markdown", "content")


@pytest.mark.parametrize("piece", HOSTILE_PIECES)
def test_each_hostile_piece_is_inert_in_every_field(piece: str) -> None:
    reply = hostile_reply(piece)
    assert live_markup("slack", slack_rendered(reply)) == []
    assert live_markup("feishu", feishu_rendered(reply)) == []


def test_the_probe_channel_mention_is_escaped_in_slacks_text_fallback() -> None:
    """The probe: `@kpibot gmv <!channel> month` echoed the live mention in `text`."""
    reply = hostile_reply("<!channel>")
    payload = message_payload(reply)
    assert "<!channel>" not in payload["text"]
    assert "&lt;!channel&gt;" in payload["text"]  # shown as typed


def test_feishu_text_message_keeps_at_all_as_text() -> None:
    from jobs.present.reply import ReplyKind

    reply = Reply(title="?", kind=ReplyKind.ERROR, text='I don\'t understand “<at user_id="all">所有人</at>”.')
    msg_type, content = message_content(reply)
    assert msg_type == "text"
    text = json.loads(content)["text"]
    assert "<at" not in text and "所有人" in text


@settings(max_examples=300, deadline=None)
@given(hostile_text())
def test_fuzzed_reply_fields_render_nothing_live(text: str) -> None:
    reply = hostile_reply(text)
    assert live_markup("slack", slack_rendered(reply)) == [], text
    assert live_markup("feishu", feishu_rendered(reply)) == [], text


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> KpiBot:
    from storage.settings import load_settings

    path = tmp_path_factory.mktemp("escape") / "escape.db"
    config = load_settings(_env_file=None, DATABASE_URL=f"sqlite:///{path}", KPIBOT_ADMINS="test:fuzzer")
    db = Database(config.database_url)
    db.upgrade()
    return KpiBot(settings=config, db=db, registry=load_registry(None), today=lambda: date(2026, 11, 20))


WORDS = ["gmv", "month", "board", "role:host", "target", "set", "1.2m", "alert", "add", "<", "help", "sources",
         "me", "week", "roas", "member:"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(HOSTILE_PIECES), hostile_text()),
                min_size=1, max_size=6).map(" ".join))
def test_fuzzed_commands_through_the_bot_never_answer_with_live_markup(bot: KpiBot, command: str) -> None:
    """Slack delivers the text as typed (parse_text resolves and un-escapes it), the bot answers, each
    platform renders: no mention, no link in anything it would show."""
    parsed = parse_text(command)
    user = UserRef("test", "fuzzer")
    reply = bot.handle(CommandRequest(parsed.text, user, channel="C1", mentions=[user]))
    assert live_markup("slack", slack_rendered(reply)) == [], command
    assert live_markup("feishu", feishu_rendered(reply)) == [], command
