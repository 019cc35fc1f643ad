"""Fixtures for the Slack tests (registered in conftest.py): the fake Slack and the real bot against it.

`slack_bot` takes its extra settings from `slack_overrides` (none by default): a test module
overrides that fixture for a variant, e.g. Socket Mode's `SLACK_APP_TOKEN`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.request import CommandRequest
from jobs.present.reply import Reply
from tests.fakes.slack_api import FakeSlack, SlackBot, isolate_environment, running_slack_bot, slack_settings


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_overrides() -> dict[str, str]:
    """Settings (SPEC §2 names) added to `slack_settings` for `slack_bot`."""
    return {}


@pytest.fixture
def slack_bot(
    fake_slack: FakeSlack,
    slack_overrides: dict[str, str],
    make_settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SlackBot]:
    isolate_environment(monkeypatch, tmp_path)
    settings = make_settings(**slack_settings(fake_slack, **slack_overrides))
    with running_slack_bot(settings, fake_slack, tmp_path) as bot:
        yield bot


@pytest.fixture
def answers(slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> list[tuple[CommandRequest, Reply]]:
    """Each request the core got and the (real) reply it gave."""
    seen: list[tuple[CommandRequest, Reply]] = []
    real_handle = slack_bot.runtime.core.handle

    def handle(request: CommandRequest) -> Reply:
        reply = real_handle(request)
        seen.append((request, reply))
        return reply

    monkeypatch.setattr(slack_bot.runtime.core, "handle", handle)
    return seen
