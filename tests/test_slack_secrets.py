"""Bot token, signing secret and app token never appear in logs, errors or HTTP answers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.http.server import free_port
from bot.runtime import build_runtime
from bot.slack.app import SlackSetupError
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    SECRETS,
    FakeSlack,
    isolate_environment,
    message_event,
    running_slack_bot,
    signed_headers,
    slack_settings,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_no_secret_in_debug_logs_or_answers(
    fake_slack: FakeSlack,
    make_settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    caplog.set_level(logging.DEBUG)
    settings = make_settings(**slack_settings(fake_slack, SLACK_APP_TOKEN=APP_TOKEN))
    answers: list[str] = []
    with running_slack_bot(settings, fake_slack, tmp_path) as bot:
        assert bot.adapter.socket_mode.wait_connected(5)
        answers.append(bot.slash("help").text)
        answers.append(bot.event(message_event(f"<@{BOT_USER_ID}> help"), event_id="Ev0SECRET01").text)
        fake_slack.wait_for("chat.postMessage")
        forged = bot.post("command=%2Fkpi&text=help", signed_headers("command=%2Fkpi&text=help", secret="guess"))
        assert forged.status_code == 401
        answers.append(forged.text)
    assert "chat.postMessage" in caplog.text  # the SDK did log its calls at DEBUG …
    assert_no_secret(caplog.text)  # … without the tokens
    assert_no_secret("\n".join(answers))
    assert_no_secret(repr(settings))


def test_rejected_bot_token_fails_start_up_without_showing_it(
    fake_slack: FakeSlack,
    make_settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    caplog.set_level(logging.DEBUG)
    fake_slack.fail_next("auth.test", "invalid_auth")
    with pytest.raises(SlackSetupError) as failure:
        build_runtime(make_settings(**slack_settings(fake_slack)), file_outbox_dir=tmp_path)
    assert "invalid_auth" in str(failure.value)
    assert "SLACK_BOT_TOKEN" in str(failure.value)
    assert_no_secret(str(failure.value))
    assert_no_secret(caplog.text)


def test_unreachable_slack_fails_start_up_without_showing_secrets(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    nobody = f"http://127.0.0.1:{free_port()}/api/"
    settings = make_settings(**slack_settings(nobody))
    with pytest.raises(SlackSetupError) as failure:
        build_runtime(settings, file_outbox_dir=tmp_path)
    assert "SLACK_API_URL" in str(failure.value)
    assert_no_secret(str(failure.value))
    assert BOT_TOKEN not in repr(failure.value.__cause__)
