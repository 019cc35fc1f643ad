"""The target form as a Feishu form card, and the callback answers for cards.

The form (a `form` container, JSON 2.0): KPI, scope, person, period as dropdowns, the value
as a text input, and a submit button whose callback carries `ACTION_SUBMIT_TARGET`. On submit
Feishu sends `card.action.trigger` with `action.form_value` keyed by the field names of
`bot.core.contracts`; the core validates and saves. A callback is answered with a toast and,
when the core has a reply, the card that replaces the one clicked.
"""

from __future__ import annotations

from typing import Any

from bot.core.contracts import (
    ACTION_SUBMIT_TARGET,
    FIELD_KPI,
    FIELD_PERIOD,
    FIELD_SCOPE,
    FIELD_USER,
    FIELD_VALUE,
    ActionResult,
    Option,
    TargetFormSpec,
)
from bot.core.messages import T
from bot.feishu.cards import escape, header, markdown, reply_card
from jobs.present.i18n import LANGS
from jobs.present.reply import ReplyKind

FORM_NAME = "target_form"
FORM_FIELDS = (FIELD_KPI, FIELD_SCOPE, FIELD_USER, FIELD_PERIOD, FIELD_VALUE)
DEFAULT_CHOICES = {FIELD_SCOPE: "team", FIELD_PERIOD: "month"}
DONE = {lang: T("done", lang) for lang in LANGS}


def target_form_card(spec: TargetFormSpec, lang: str | None = None) -> dict[str, Any]:
    def label(field: str) -> dict[str, Any]:
        return markdown(f"**{escape(spec.labels.get(field, field))}**")

    elements: list[dict[str, Any]] = [
        label(FIELD_KPI),
        _select(FIELD_KPI, spec.kpis, required=True),
        label(FIELD_SCOPE),
        _select(FIELD_SCOPE, spec.scopes, required=True),
        label(FIELD_USER),
        {
            "tag": "select_person",  # no options: Feishu offers the members of the chat
            "name": FIELD_USER,
            "required": False,
            "width": "fill",
            "placeholder": {"tag": "plain_text", "content": spec.labels.get(FIELD_USER, FIELD_USER)[:100]},
        },
        label(FIELD_PERIOD),
        _select(FIELD_PERIOD, spec.periods, required=True),
        label(FIELD_VALUE),
        {
            "tag": "input",
            "name": FIELD_VALUE,
            "required": True,
            "width": "fill",
            "max_length": 40,
            "placeholder": {"tag": "plain_text", "content": spec.value_placeholder[:100]},
        },
        {
            "tag": "button",
            "name": "submit_target",
            "text": {"tag": "plain_text", "content": spec.submit_label},
            "type": "primary_filled",
            "form_action_type": "submit",
            "behaviors": [{"type": "callback", "value": _submit_value(lang)}],
        },
    ]
    return {
        "schema": "2.0",
        "config": {"update_multi": True, "summary": {"content": spec.title[:100]}},
        "header": header(spec.title, "blue"),
        "body": {"elements": [{"tag": "form", "name": FORM_NAME, "elements": elements}]},
    }


def form_fields(form_value: dict[str, str]) -> dict[str, str]:
    """The submitted form as the core's field dict (unknown names dropped, blanks kept out)."""
    return {name: value.strip() for name, value in form_value.items() if name in FORM_FIELDS and value.strip()}


def callback_answer(result: ActionResult, lang: str = "en", image_keys: list[str] | None = None) -> dict[str, Any]:
    """`{"toast": …, "card": {"type": "raw", "data": …}}` as card.action.trigger expects."""
    if not result.ok:  # the core's toast names each field in the user's language
        problems = result.toast or "; ".join(f"{name}: {message}" for name, message in result.field_errors.items())
        return {"toast": {"type": "error", "content": problems}}
    answer: dict[str, Any] = {}
    content = result.toast or (result.reply.title if result.reply else DONE.get(lang, DONE["en"]))
    answer["toast"] = {"type": _toast_type(result), "content": content}
    if result.reply is not None:
        answer["card"] = {"type": "raw", "data": reply_card(result.reply, image_keys or [])}
    return answer


def _toast_type(result: ActionResult) -> str:
    if result.reply is None:  # a bare toast: the core says what, not how it went
        return "info"
    if result.reply.kind in (ReplyKind.REFUSAL, ReplyKind.ERROR):
        return "error"
    if result.reply.kind == ReplyKind.HINT:
        return "info"
    return "success"


def _submit_value(lang: str | None) -> dict[str, str]:
    value = {"action_id": ACTION_SUBMIT_TARGET}
    if lang:
        value["lang"] = lang
    return value


def _select(name: str, options: list[Option], *, required: bool) -> dict[str, Any]:
    element: dict[str, Any] = {
        "tag": "select_static",
        "name": name,
        "required": required,
        "width": "fill",
        "options": [{"text": {"tag": "plain_text", "content": o.label}, "value": o.value} for o in options],
    }
    default = DEFAULT_CHOICES.get(name)
    if default and any(option.value == default for option in options):
        element["initial_option"] = default
    return element
