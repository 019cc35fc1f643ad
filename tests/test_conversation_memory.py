"""Conversation memory (migration 0007): the last question per (platform, conversation, user), 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.repositories.conversations import ConversationKey, prune_conversations, recall, remember

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY = ConversationKey("slack", "C1:1700000000.0001", "U1")


def test_a_question_is_recalled_within_15_minutes_then_forgotten(db: Database) -> None:
    with db.session() as session:
        remember(session, KEY, '{"kpi": "gmv"}', NOW)
    with db.session() as session:
        assert recall(session, KEY, NOW + timedelta(minutes=15)) == '{"kpi": "gmv"}'
        assert recall(session, KEY, NOW + timedelta(minutes=15, seconds=1)) is None


def test_the_latest_question_replaces_the_previous_one(db: Database) -> None:
    with db.session() as session:
        remember(session, KEY, "first", NOW)
    with db.session() as session:
        remember(session, KEY, "second", NOW + timedelta(minutes=10))
    with db.session() as session:  # the clock restarts with the second question: 10 + 14 minutes
        assert recall(session, KEY, NOW + timedelta(minutes=24)) == "second"


def test_memories_are_per_person_per_conversation_per_platform(db: Database) -> None:
    with db.session() as session:
        remember(session, KEY, "mine", NOW)
    with db.session() as session:
        assert recall(session, ConversationKey("slack", KEY.conversation, "U2"), NOW) is None
        assert recall(session, ConversationKey("slack", "C1:other-thread", "U1"), NOW) is None
        assert recall(session, ConversationKey("feishu", KEY.conversation, "U1"), NOW) is None


def test_old_memories_are_pruned(db: Database) -> None:
    with db.session() as session:
        remember(session, KEY, "old", NOW)
        remember(session, ConversationKey("slack", "C2", "U1"), "new", NOW + timedelta(minutes=20))
    with db.session() as session:
        assert prune_conversations(session, NOW + timedelta(minutes=21)) == 1
    with db.session() as session:
        assert recall(session, ConversationKey("slack", "C2", "U1"), NOW + timedelta(minutes=21)) == "new"
