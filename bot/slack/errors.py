"""Short, secret-free reasons for log lines: Slack's error code (`not_in_channel`) or the type."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "slack_api_error")
    return type(exc).__name__
