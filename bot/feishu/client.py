"""Feishu Open API calls through lark-oapi, plus what the SDK leaves to its callers.

The SDK keeps tenant tokens in a process-global cache keyed by app id, never drops a token
Feishu rejected and never retries. Here each `FeishuApi` owns its token (a `TokenCache`),
sends it per request (`enable_set_token`), and `call` handles the answers that deserve another
try: a rejected token (99991663 / 99991661) is dropped and the call retried once; a rate limit
(HTTP 429 / 99991400) waits `x-ogw-ratelimit-reset` seconds; the per-chat limit (230020) backs
off. Sends to one chat are paced to Feishu's 5 messages per second.

Nothing here logs or raises with a secret in it: errors carry Feishu's code and message only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.chat_kit.pacing import ChannelPacer
from bot.chat_kit.tokens import TokenCache
from jobs.delivery import Throttled

log = logging.getLogger(__name__)

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
BOT_INFO_PATH = "/open-apis/bot/v3/info"
USER_PATH = "/open-apis/contact/v3/users/:user_id"
IMAGES_PATH = "/open-apis/im/v1/images"
FILES_PATH = "/open-apis/im/v1/files"
MESSAGES_PATH = "/open-apis/im/v1/messages"
REPLY_PATH = "/open-apis/im/v1/messages/:message_id/reply"
MESSAGE_PATH = "/open-apis/im/v1/messages/:message_id"

TOKEN_REJECTED_CODES = frozenset({99991661, 99991663})
RATE_LIMIT_CODE = 99991400
CHAT_RATE_LIMIT_CODE = 230020
MESSAGES_PER_SECOND_PER_CHAT = 5.0


class FeishuApiError(RuntimeError):
    """A call Feishu refused (or that never reached it). Carries Feishu's code, never a secret."""

    def __init__(self, what: str, code: int | None, msg: str, status: int | None = None) -> None:
        self.what = what
        self.code = code
        self.msg = msg
        self.status = status
        super().__init__(f"Feishu {what} failed (code={code}, status={status}): {msg}")


@dataclass(frozen=True)
class ApiResult:
    status: int
    code: int
    msg: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names

    @property
    def ok(self) -> bool:
        return self.code == 0 and 200 <= self.status < 300

    @property
    def data(self) -> dict[str, Any]:
        data = self.body.get("data")
        return data if isinstance(data, dict) else {}


class FeishuApi:
    """The Open API calls kpibot makes, over lark-oapi's transport."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        domain: str,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        max_wait_seconds: float = 30.0,
    ) -> None:
        import lark_oapi as lark

        self.domain = domain.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._client = (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret(app_secret)
            .domain(self.domain)
            .enable_set_token(True)  # we pass our own tenant token with every call
            .timeout(timeout)
            .log_level(lark.LogLevel.WARNING)
            .build()
        )
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._max_wait = max_wait_seconds
        self.tokens = TokenCache(self._fetch_tenant_token)
        self.pacer = ChannelPacer(1.0 / MESSAGES_PER_SECOND_PER_CHAT, sleep=sleep)
        self._bot_lock = threading.Lock()
        self._bot_open_id: str | None = None

    # -- calls -------------------------------------------------------------------------------

    def bot_open_id(self) -> str:
        """The bot's own open_id (cached after the first success)."""
        with self._bot_lock:
            if self._bot_open_id is None:
                result = self.call("GET", BOT_INFO_PATH, what="bot info")
                bot = result.body.get("bot") or {}
                open_id = bot.get("open_id") if isinstance(bot, dict) else None
                if not open_id:
                    raise FeishuApiError("bot info", result.code, "no open_id in the answer", result.status)
                self._bot_open_id = str(open_id)
            return self._bot_open_id

    def get_user(self, open_id: str) -> dict[str, Any]:
        result = self.call(
            "GET", USER_PATH, what="contact user", paths={"user_id": open_id},
            queries=[("user_id_type", "open_id")],
        )
        user = result.data.get("user")
        return user if isinstance(user, dict) else {}

    def upload_image(self, png: bytes, name: str = "chart.png") -> str:
        result = self.call(
            "POST", IMAGES_PATH, what="image upload",
            multipart={"image_type": "message", "image": (name, png, "image/png")},
        )
        key = result.data.get("image_key")
        if not key:
            raise FeishuApiError("image upload", result.code, "no image_key in the answer", result.status)
        return str(key)

    def upload_file(self, data: bytes, name: str, file_type: str) -> str:
        """im/v1/files (≤ 30 MB, not empty): `file_type` is opus, mp4, pdf, doc, xls, ppt or stream → file_key."""
        result = self.call(
            "POST", FILES_PATH, what="file upload",
            multipart={"file_type": file_type, "file_name": name, "file": (name, data, "application/octet-stream")},
        )
        key = result.data.get("file_key")
        if not key:
            raise FeishuApiError("file upload", result.code, "no file_key in the answer", result.status)
        return str(key)

    def send_message(
        self, chat_id: str, msg_type: str, content: str, uuid: str, *, raise_throttled: bool = False
    ) -> str:
        """Send to a chat (`oc_…`) or, by an open_id (`ou_…`), to a person directly. `raise_throttled`: a rate
        limit raises `Throttled` with the advertised wait instead of being waited out here."""
        receive_type = "open_id" if chat_id.startswith("ou_") else "chat_id"
        result = self.call(
            "POST", MESSAGES_PATH, what="send message", chat=chat_id,
            queries=[("receive_id_type", receive_type)],
            body={"receive_id": chat_id, "msg_type": msg_type, "content": content, "uuid": uuid},
            raise_throttled=raise_throttled,
        )
        return str(result.data.get("message_id") or "")

    def reply_message(
        self, message_id: str, msg_type: str, content: str, uuid: str, *, chat_id: str | None = None,
        raise_throttled: bool = False,
    ) -> str:
        result = self.call(
            "POST", REPLY_PATH, what="reply message", chat=chat_id or message_id,
            paths={"message_id": message_id},
            body={"msg_type": msg_type, "content": content, "uuid": uuid},
            raise_throttled=raise_throttled,
        )
        return str(result.data.get("message_id") or "")

    def update_card(self, message_id: str, content: str) -> None:
        self.call(
            "PATCH", MESSAGE_PATH, what="update card", paths={"message_id": message_id},
            body={"content": content},
        )

    # -- the retry loop ----------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        chat: str | None = None,
        paths: Mapping[str, str] | None = None,
        queries: list[tuple[str, str]] | None = None,
        body: Any = None,
        multipart: Mapping[str, Any] | None = None,
        raise_throttled: bool = False,
    ) -> ApiResult:
        """One API call with a tenant token; retried as the module docstring says. The request
        is rebuilt for every attempt with the same body, so a message keeps its `uuid`."""
        import requests

        token_renewed = False
        attempt = 0
        while True:
            attempt += 1
            if chat:
                self.pacer.wait(chat)
            try:
                token = self.tokens.get()
                result = self._execute(
                    method, path, token=token, paths=paths, queries=queries, body=body, multipart=multipart
                )
            except requests.RequestException as exc:
                if attempt < self._max_attempts:
                    log.warning("Feishu %s: %s; retrying", what, type(exc).__name__)
                    self._sleep(min(0.5 * attempt, 3.0))
                    continue
                raise FeishuApiError(what, None, type(exc).__name__) from None
            if result.ok:
                return result
            if result.code in TOKEN_REJECTED_CODES and not token_renewed:
                log.info("Feishu %s: tenant token rejected (code %s); fetching a new one", what, result.code)
                self.tokens.drop(token)
                token_renewed = True
                continue
            if raise_throttled and (result.status == 429 or result.code == RATE_LIMIT_CODE):
                raise Throttled(_advertised_reset(result.headers), f"Feishu {what}: rate limited ({result.code})")
            if attempt < self._max_attempts:
                if result.status == 429 or result.code == RATE_LIMIT_CODE:
                    wait = self._reset_seconds(result.headers)
                    log.warning("Feishu %s: rate limited (code %s); waiting %.1f s", what, result.code, wait)
                    self._sleep(wait)
                    continue
                if result.code == CHAT_RATE_LIMIT_CODE:
                    wait = min(float(2 ** (attempt - 1)), self._max_wait)
                    log.warning("Feishu %s: chat rate limit (230020); backing off %.1f s", what, wait)
                    self._sleep(wait)
                    continue
            raise FeishuApiError(what, result.code, result.msg, result.status)

    def _reset_seconds(self, headers: Mapping[str, str]) -> float:
        return min(max(_advertised_reset(headers), 0.2), self._max_wait)

    def _fetch_tenant_token(self) -> tuple[str, float]:
        result = self._execute(
            "POST", TOKEN_PATH, token=None, body={"app_id": self._app_id, "app_secret": self._app_secret}
        )
        token = result.body.get("tenant_access_token")
        if not result.ok or not token:
            raise FeishuApiError("tenant token", result.code, result.msg, result.status)
        try:
            expires_in = float(result.body.get("expire") or 7200)
        except (TypeError, ValueError):
            expires_in = 7200.0
        return str(token), expires_in

    def _execute(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        paths: Mapping[str, str] | None = None,
        queries: list[tuple[str, str]] | None = None,
        body: Any = None,
        multipart: Mapping[str, Any] | None = None,
    ) -> ApiResult:
        from lark_oapi.core.enum import AccessTokenType, HttpMethod
        from lark_oapi.core.http import Transport
        from lark_oapi.core.model import BaseRequest, RequestOption
        from lark_oapi.core.token import verify
        from requests_toolbelt import MultipartEncoder

        request = BaseRequest()
        request.http_method = HttpMethod[method]
        request.uri = path
        request.paths = dict(paths or {})
        request.queries = list(queries or [])
        request.headers = {}
        if multipart is not None:
            encoder = MultipartEncoder(fields=dict(multipart))
            request.body = encoder
            request.headers["Content-Type"] = encoder.content_type
        elif body is not None:
            request.body = body
            request.headers["Content-Type"] = "application/json; charset=utf-8"
        option = RequestOption()
        if token is not None:
            request.token_types = {AccessTokenType.TENANT}
            option.tenant_access_token = token
        config = self._client.config
        verify(config, request, option)
        raw = Transport.execute(config, request, option)
        return _parse(raw.status_code or 0, raw.headers or {}, raw.content or b"")


def _advertised_reset(headers: Mapping[str, str]) -> float:
    """Seconds until the limit resets, as `x-ogw-ratelimit-reset` says (1 when missing)."""
    try:
        return max(0.0, float(headers.get("x-ogw-ratelimit-reset", "1")))
    except ValueError:
        return 1.0


def _parse(status: int, headers: Mapping[str, str], content: bytes) -> ApiResult:
    body: dict[str, Any] = {}
    if content:
        try:
            parsed = json.loads(content)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            body = parsed
    code = body.get("code")
    if not isinstance(code, int):
        code = 0 if 200 <= status < 300 else -1
    msg = str(body.get("msg") or "")[:300]
    return ApiResult(status, code, msg, body, {key.lower(): value for key, value in headers.items()})
