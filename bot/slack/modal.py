"""The target form as a Slack modal, and its submission back to neutral fields.

Each input's block_id and action_id are the neutral field name (`kpi`, `scope`, `user`, `period`,
`value`), so the core's `field_errors` map straight onto Slack's `response_action: errors`.
The channel the form was opened from travels in `private_metadata` for the confirmation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.core.contracts import (
    ACTION_SUBMIT_TARGET,
    FIELD_KPI,
    FIELD_PERIOD,
    FIELD_SCOPE,
    FIELD_USER,
    FIELD_VALUE,
    Option,
    TargetFormSpec,
)
from bot.slack.blocks import clip
from bot.slack.errors import reason

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.core.bot import KpiBot
    from bot.core.request import UserRef

log = logging.getLogger(__name__)

CALLBACK_ID = ACTION_SUBMIT_TARGET
MODAL_TITLE_LIMIT = 24
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
OPTIONS_LIMIT = 100
LABEL_LIMIT = 2000
ERROR_TEXT_LIMIT = 150

FORM_FIELDS = (FIELD_KPI, FIELD_SCOPE, FIELD_USER, FIELD_PERIOD, FIELD_VALUE)


def target_modal(spec: TargetFormSpec, *, channel_id: str | None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": plain(clip(spec.title, MODAL_TITLE_LIMIT)),
        "submit": plain(clip(spec.submit_label, MODAL_TITLE_LIMIT)),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            select_input(FIELD_KPI, label(spec, FIELD_KPI), spec.kpis),
            select_input(FIELD_SCOPE, label(spec, FIELD_SCOPE), spec.scopes),
            {
                "type": "input",
                "block_id": FIELD_USER,
                "optional": True,
                "label": plain(label(spec, FIELD_USER)),
                "element": {"type": "users_select", "action_id": FIELD_USER},
            },
            select_input(FIELD_PERIOD, label(spec, FIELD_PERIOD), spec.periods),
            {
                "type": "input",
                "block_id": FIELD_VALUE,
                "label": plain(label(spec, FIELD_VALUE)),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD_VALUE,
                    "placeholder": plain(clip(spec.value_placeholder or "1.2m", 150)),
                },
            },
        ],
    }


def select_input(field_name: str, label_text: str, options: list[Option]) -> dict[str, Any]:
    slack_options = [option_object(option) for option in options[:OPTIONS_LIMIT]]
    element: dict[str, Any] = {"type": "static_select", "action_id": field_name, "options": slack_options}
    if slack_options:
        element["initial_option"] = slack_options[0]
    return {"type": "input", "block_id": field_name, "label": plain(label_text), "element": element}


def option_object(option: Option) -> dict[str, Any]:
    return {"text": plain(clip(option.label, OPTION_TEXT_LIMIT)), "value": option.value[:OPTION_VALUE_LIMIT]}


def label(spec: TargetFormSpec, field_name: str) -> str:
    return clip(spec.labels.get(field_name) or field_name, LABEL_LIMIT)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def submitted_fields(view: Mapping[str, Any]) -> dict[str, str]:
    """`view.state.values` → {field name: raw text}; empty inputs are left out."""
    fields: dict[str, str] = {}
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        for action_id, state in (actions or {}).items():
            value = element_value(state or {})
            if value:
                fields[action_id if action_id in FORM_FIELDS else block_id] = value
    return fields


def element_value(state: Mapping[str, Any]) -> str:
    kind = state.get("type")
    if kind in ("static_select", "external_select"):
        return ((state.get("selected_option") or {}).get("value")) or ""
    if kind == "users_select":
        return state.get("selected_user") or ""
    if kind == "conversations_select":
        return state.get("selected_conversation") or ""
    if kind == "channels_select":
        return state.get("selected_channel") or ""
    return (state.get("value") or "").strip()


def origin_channel(view: Mapping[str, Any]) -> str | None:
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    return channel if isinstance(channel, str) and channel else None


def slack_errors(field_errors: Mapping[str, str]) -> dict[str, str]:
    """Core field errors → `errors` for `response_action: errors` (unknown fields land on `value`)."""
    errors: dict[str, str] = {}
    for field_name, message in field_errors.items():
        block_id = field_name if field_name in FORM_FIELDS else FIELD_VALUE
        text = clip(message, ERROR_TEXT_LIMIT)
        errors[block_id] = f"{errors[block_id]}; {text}" if block_id in errors else text
    return errors


def open_target_form(
    client: WebClient, core: KpiBot, user: UserRef, *, trigger_id: str, channel_id: str | None,
    lang: str | None = None,
) -> bool:
    """views.open the target form for `user` (call within 3 s of the trigger); False on failure."""
    try:
        view = target_modal(core.target_form(user, lang), channel_id=channel_id)
        client.views_open(trigger_id=trigger_id, view=view)
        return True
    except Exception as exc:  # a failed form must not break the ack; the caller tells the user
        log.warning("could not open the target form: %s", reason(exc))
        return False
