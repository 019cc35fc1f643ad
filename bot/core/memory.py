"""Conversation memory for follow-ups: the person's last understood question in a conversation, kept
in the database for 15 minutes (so whichever replica gets `and last week?` can answer it)."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from bot.core.request import CommandRequest
from bot.language.names import Person
from bot.language.questions import Question
from storage.db import Database
from storage.models import Member
from storage.repositories.conversations import ConversationKey, recall, remember
from storage.repositories.facts import newest_date_by_source


def conversation_key(request: CommandRequest) -> ConversationKey | None:
    if not request.conversation:
        return None
    return ConversationKey(request.platform, request.conversation, request.user.user_id)


def recall_question(db: Database, request: CommandRequest) -> Question | None:
    key = conversation_key(request)
    if key is None:
        return None
    with db.session() as session:
        stored = recall(session, key)
    if stored is None:
        return None
    try:
        return Question.from_memory(json.loads(stored))
    except ValueError:
        return None


def remember_question(db: Database, request: CommandRequest, question: Question) -> None:
    key = conversation_key(request)
    if key is None:
        return
    with db.session() as session:
        remember(session, key, json.dumps(question.to_memory()))


def members_by_name(db: Database) -> tuple[Person, ...]:
    """Every member as the question reader knows people: key, display name, email."""
    with db.session() as session:
        rows = session.exec(select(Member.key, Member.display_name, Member.email).order_by(Member.key)).all()
    return tuple(Person(key, name, email) for key, name, email in rows)


def data_through(db: Database, today: date) -> date | None:
    """The newest day with data anywhere in the workspace, not after today (rolling windows end there)."""
    with db.session() as session:
        newest = [day for day in newest_date_by_source(session).values() if day is not None]
    return min(max(newest), today) if newest else None
