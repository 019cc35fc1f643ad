"""App Home: on `app_home_opened`, publish `KpiBot.home(user)` with a "my KPIs" button and,
for admins, a "set target" button (opens the target modal)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient

from bot.core.contracts import ACTION_ME, ACTION_OPEN_TARGET_FORM
from bot.core.messages import T
from bot.slack.blocks import SURFACE_BLOCK_LIMIT, reply_blocks
from bot.slack.errors import reason
from bot.slack.services import SlackServices
from jobs.present.reply import Action, Reply

log = logging.getLogger(__name__)

LABELS = {lang: {ACTION_ME: T("button_me", lang), ACTION_OPEN_TARGET_FORM: T("button_set_target", lang)}
          for lang in ("en", "zh")}


def register(app: Any, services: SlackServices) -> None:
    @app.event("app_home_opened")
    def on_app_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish_home(services, client, event["user"])


def publish_home(services: SlackServices, client: WebClient, user_id: str) -> None:
    user = services.user(user_id)
    try:
        reply = services.core.home(user)
    except Exception:
        log.exception("home view failed")
        return
    view = home_view(reply, admin=services.is_admin(user))
    try:
        client.views_publish(user_id=user_id, view=view)
    except Exception as exc:
        log.warning("views.publish failed: %s", reason(exc))


def home_view(reply: Reply, *, admin: bool) -> dict[str, Any]:
    labels = LABELS.get(reply.lang, LABELS["en"])
    actions = list(reply.actions)
    present = {action.action_id for action in actions}
    if ACTION_ME not in present:
        actions.insert(0, Action(ACTION_ME, labels[ACTION_ME], "me", style="primary"))
    if admin and ACTION_OPEN_TARGET_FORM not in present:
        actions.append(Action(ACTION_OPEN_TARGET_FORM, labels[ACTION_OPEN_TARGET_FORM], "target"))
    if not admin:
        actions = [action for action in actions if action.action_id != ACTION_OPEN_TARGET_FORM]
    shown = replace(reply, actions=actions, charts=[])
    return {"type": "home", "blocks": reply_blocks(shown, max_blocks=SURFACE_BLOCK_LIMIT)}
