"""DingTalk keeps the escaping contract (tests/escaping_contract.py): hostile text in every field of a
reply renders to markdown, a card title and button labels with no @all / 所有人 mention and no link."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings

from bot.dingtalk.render import reply_card, reply_markdown
from tests.escaping_contract import HOSTILE_PIECES, hostile_reply, hostile_text, live_markup

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def rendered_strings(text: str) -> list[str]:
    reply = hostile_reply(text)
    title, markdown = reply_markdown(reply)
    card = reply_card(reply)
    labels = [action["label"]["text"] for part in card["contents"] for action in part.get("actions", [])]
    return [title, markdown, card["header"]["title"]["text"], json.loads(json.dumps(card["contents"][0]))["text"],
            *labels]


def test_every_hostile_piece_is_inert() -> None:
    for piece in HOSTILE_PIECES:
        assert live_markup("dingtalk", rendered_strings(piece)) == [], piece


@hypothesis_settings(max_examples=200, deadline=None)
@given(hostile_text())
def test_hostile_text_never_renders_live_markup(text: str) -> None:
    assert live_markup("dingtalk", rendered_strings(text)) == []
