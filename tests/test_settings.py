"""Settings: a wrong setting stops start-up naming the setting and the expected form, never its value."""

from __future__ import annotations

import pytest

from storage.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("KPIBOT_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("DATABASE_URL", "not a url", "SQLAlchemy URL"),
        ("KPIBOT_LOCALE", "fr", "en or zh"),
        ("KPIBOT_WEEK_START", "someday", "mon, tue"),
        ("FEISHU_MODE", "pigeon", "http or ws"),
        ("DINGTALK_MODE", "webhook", "stream or http"),
    ],
)
def test_a_bad_setting_is_named_with_the_expected_form(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, **{name: value})
    assert name in str(error.value)
    assert expected in str(error.value)


def test_secrets_never_appear_in_the_error() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, SLACK_SIGNING_SECRET="s3cr3t-value", KPIBOT_TIMEZONE="Nowhere/Land")
    assert "s3cr3t-value" not in str(error.value)
    assert "s3cr3t-value" not in repr(load_settings(_env_file=None, SLACK_SIGNING_SECRET="s3cr3t-value"))


def test_defaults_match_the_spec() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite:///./kpibot.db"
    assert (settings.host, settings.port, settings.timezone, settings.week_start) == ("127.0.0.1", 3000, "UTC", "mon")
    assert (settings.locale, settings.currency, settings.feishu_mode) == ("en", "USD", "http")
    assert not settings.slack_enabled and not settings.feishu_enabled and not settings.api_enabled
    assert not settings.dingtalk_enabled
    assert (settings.dingtalk_mode, settings.dingtalk_api_url, settings.dingtalk_oapi_url) == (
        "stream", "https://api.dingtalk.com", "https://oapi.dingtalk.com")
