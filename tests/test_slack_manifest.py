"""The shipped manifest asks for exactly what the adapter uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import bot.slack

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

MANIFEST = Path(bot.slack.__file__).parent / "manifest.yaml"
README = Path(__file__).parent.parent / "README.md"

SCOPES = {"commands", "app_mentions:read", "im:history", "chat:write", "users:read", "users:read.email", "files:write",
          "assistant:write", "channels:history", "groups:history"}


def test_manifest_scopes_events_and_urls() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "app_home_opened", "assistant_thread_started", "assistant_thread_context_changed"}
    assert manifest["features"]["assistant_view"]["assistant_description"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/kpi"
    assert command["should_escape"] is True  # mentions arrive as <@U…> ids
    urls = {command["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_connect_doc_explains_every_scope() -> None:
    readme = README.read_text(encoding="utf-8")
    text = readme[readme.index("## Connect to Slack"):readme.index("## Connect to Feishu")]
    for scope in SCOPES:
        assert f"| `{scope}` |" in text
