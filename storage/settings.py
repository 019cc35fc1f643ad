"""Settings (SPEC §2), read from the environment and `.env` at start.

A wrong setting stops start-up with a message naming the setting and the expected form;
secret values never appear in that message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SettingsError(ValueError):
    """A setting has a value kpibot cannot use; the message says which and what is expected."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///./kpibot.db", validation_alias="DATABASE_URL")
    host: str = Field("127.0.0.1", validation_alias="KPIBOT_HOST")
    port: int = Field(3000, validation_alias="KPIBOT_PORT", ge=1, le=65535)
    timezone: str = Field("UTC", validation_alias="KPIBOT_TIMEZONE")
    week_start: str = Field("mon", validation_alias="KPIBOT_WEEK_START")
    locale: Literal["en", "zh"] = Field("en", validation_alias="KPIBOT_LOCALE")
    currency: str = Field("USD", validation_alias="KPIBOT_CURRENCY")
    admins: str = Field("", validation_alias="KPIBOT_ADMINS")
    api_token: SecretStr = Field(SecretStr(""), validation_alias="KPIBOT_API_TOKEN")
    kpis_file: str = Field("", validation_alias="KPIBOT_KPIS_FILE")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", validation_alias="KPIBOT_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", validation_alias="KPIBOT_LOG_FORMAT")
    shutdown_grace: float = Field(20.0, validation_alias="KPIBOT_SHUTDOWN_GRACE", ge=0, le=3600)

    # Scheduled sends (issue 18): a claimed send whose process shows no sign of life for this long is
    # resolved by the leader; throttling is waited out until the deadline; followers retry the lock.
    claim_timeout_seconds: float = Field(120.0, validation_alias="KPIBOT_CLAIM_TIMEOUT_SECONDS", gt=0)
    send_deadline_seconds: float = Field(6 * 3600.0, validation_alias="KPIBOT_SEND_DEADLINE_SECONDS", gt=0)
    leader_retry_seconds: float = Field(20.0, validation_alias="KPIBOT_LEADER_RETRY_SECONDS", gt=0)

    slack_bot_token: SecretStr = Field(SecretStr(""), validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(SecretStr(""), validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr = Field(SecretStr(""), validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # conversations.history allows 1 call a minute to apps outside the Marketplace (Tier 3 otherwise).
    slack_history_interval_seconds: float = Field(60.0, validation_alias="SLACK_HISTORY_INTERVAL_SECONDS", ge=0)

    feishu_app_id: str = Field("", validation_alias="FEISHU_APP_ID")
    feishu_app_secret: SecretStr = Field(SecretStr(""), validation_alias="FEISHU_APP_SECRET")
    feishu_verification_token: SecretStr = Field(SecretStr(""), validation_alias="FEISHU_VERIFICATION_TOKEN")
    feishu_encrypt_key: SecretStr = Field(SecretStr(""), validation_alias="FEISHU_ENCRYPT_KEY")
    feishu_domain: str = Field("https://open.feishu.cn", validation_alias="FEISHU_DOMAIN")
    feishu_mode: Literal["http", "ws"] = Field("http", validation_alias="FEISHU_MODE")

    dingtalk_client_id: str = Field("", validation_alias="DINGTALK_CLIENT_ID")
    dingtalk_client_secret: SecretStr = Field(SecretStr(""), validation_alias="DINGTALK_CLIENT_SECRET")
    dingtalk_robot_code: str = Field("", validation_alias="DINGTALK_ROBOT_CODE")
    dingtalk_mode: Literal["stream", "http"] = Field("stream", validation_alias="DINGTALK_MODE")
    dingtalk_api_url: str = Field("https://api.dingtalk.com", validation_alias="DINGTALK_API_URL")
    dingtalk_oapi_url: str = Field("https://oapi.dingtalk.com", validation_alias="DINGTALK_OAPI_URL")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                "expected a SQLAlchemy URL such as sqlite:///./kpibot.db or "
                "postgresql+psycopg://user@host:5432/dbname"
            ) from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone name such as UTC, Asia/Shanghai") from None
        return value

    @field_validator("week_start")
    @classmethod
    def _check_week_start(cls, value: str) -> str:
        day = value.strip().lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError("expected a day name: mon, tue, wed, thu, fri, sat or sun")
        return day

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not (len(code) == 3 and code.isalpha()):
            raise ValueError("expected a three-letter currency code such as USD, CNY")
        return code

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def week_start_index(self) -> int:
        """0 = Monday … 6 = Sunday, as `date.weekday()`."""
        return WEEKDAYS.index(self.week_start)

    @property
    def admin_list(self) -> list[str]:
        return [item.strip() for item in self.admins.split(",") if item.strip()]

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token.get_secret_value() and self.slack_signing_secret.get_secret_value())

    @property
    def feishu_enabled(self) -> bool:
        return bool(self.feishu_app_id and self.feishu_app_secret.get_secret_value())

    @property
    def dingtalk_enabled(self) -> bool:
        return bool(self.dingtalk_client_id and self.dingtalk_client_secret.get_secret_value())

    @property
    def api_enabled(self) -> bool:
        return bool(self.api_token.get_secret_value())

    def secret_values(self) -> list[str]:
        """Every secret set (tokens, keys, database password), for scrubbing from log lines."""
        values = [value.get_secret_value() for value in self.__dict__.values() if isinstance(value, SecretStr)]
        password = make_url(self.database_url).password
        values.extend([str(password)] if password else [])
        return [value for value in values if len(value) >= 4]


_EXPECTED_FORMS = {
    "KPIBOT_LOCALE": "en or zh",
    "FEISHU_MODE": "http or ws",
    "DINGTALK_MODE": "stream or http",
    "KPIBOT_PORT": "a port number from 1 to 65535",
    "KPIBOT_LOG_LEVEL": "DEBUG, INFO, WARNING, ERROR or CRITICAL",
    "KPIBOT_LOG_FORMAT": "text or json",
    "KPIBOT_SHUTDOWN_GRACE": "seconds from 0 to 3600, e.g. 20",
}


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise SettingsError naming each bad setting (never its value)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            reason = _EXPECTED_FORMS.get(name) or str(error.get("msg", "")).removeprefix("Value error, ")
            problems.append(f"{name}: {reason}")
        raise SettingsError("invalid setting — " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
