"""Slack's assistant surface (the AI split view) through Bolt's `Assistant` middleware.

Opening the assistant starts a thread: kpibot greets the user and suggests prompts in the user's
language (Slack's `locale` of the user, else KPIBOT_LOCALE). Each message in that thread is answered
by the same parser and core as any DM, in the thread, and the first question becomes the thread's
title. Follow-ups in the thread inherit the previous question (conversation = the thread).

Bolt's `user_message` matches every threaded IM message and does not pass it on (PLATFORM-NOTES-2
§8), so a threaded reply in an ordinary DM arrives here too: it is answered exactly like a DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Assistant
from slack_bolt.context import BoltContext

from bot.slack.errors import reason
from bot.slack.services import SlackServices

log = logging.getLogger(__name__)

GREETING = {
    "en": "Hi! Ask me about your team's KPIs in plain words: “GMV this month”, “how am I doing”, “top hosts”.",
    "zh": "你好！直接问团队的 KPI 就行，比如“本月GMV”“我怎么样”“本周主播排名”。",
}
PROMPTS_TITLE = {"en": "Try one of these:", "zh": "可以试试："}
PROMPTS = {
    "en": ["GMV this month", "how am I doing", "top hosts this week", "GMV trend"],
    "zh": ["本月GMV", "本周主播排名", "我怎么样", "GMV走势"],
}
TITLE_LIMIT = 80


def register(app: Any, services: SlackServices, answer: Callable[[SlackServices, dict[str, Any], BoltContext], None],
             default_lang: str) -> Assistant:
    """Add the assistant middleware to `app`; `answer` is how a DM message is answered."""
    assistant = Assistant(logger=log)

    @assistant.thread_started
    def greet(payload: dict[str, Any], say: Any, set_suggested_prompts: Any) -> None:
        user_id = (payload.get("assistant_thread") or {}).get("user_id")
        lang = user_language(services, user_id, default_lang)
        try:
            say(GREETING[lang])
            set_suggested_prompts(prompts=PROMPTS[lang], title=PROMPTS_TITLE[lang])
        except Exception as exc:
            log.warning("could not greet in the assistant thread: %s", reason(exc))

    @assistant.user_message
    def on_message(payload: dict[str, Any], context: BoltContext, set_title: Any) -> None:
        text = (payload.get("text") or "").strip()
        if text and payload.get("thread_ts"):
            try:  # in an ordinary DM thread Slack refuses a title: logged, answered all the same
                set_title(text[:TITLE_LIMIT])
            except Exception as exc:  # a title is a nicety: the answer still goes out
                log.info("could not set the assistant thread title: %s", reason(exc))
        answer(services, payload, context)

    app.assistant(assistant)
    return assistant


def user_language(services: SlackServices, user_id: str | None, default_lang: str) -> str:
    """zh for a Slack user whose locale is Chinese, en for another locale, else the team default."""
    if not user_id:
        return default_lang
    try:
        info = services.outbox.client.users_info(user=user_id, include_locale=True)
    except Exception as exc:
        log.info("users.info for the locale failed: %s", reason(exc))
        return default_lang
    locale = str((info.get("user") or {}).get("locale") or "")
    if not locale:
        return default_lang
    return "zh" if locale.lower().startswith("zh") else "en"

