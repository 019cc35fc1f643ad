"""DingTalk OpenAPI calls kpibot makes (api.dingtalk.com and the older oapi.dingtalk.com), through
`requests` (as the SDK's own calls).

The app's access token (`POST /v1.0/oauth2/accessToken`, 2 h) is cached and renewed ten minutes early;
a token DingTalk rejects (HTTP 401, oapi errcode 40014/42001) is dropped and the call retried once.
Rate limits are a wait, never a failure (until `max_wait_seconds` in all): HTTP 429 (`Retry-After`),
the platform's flow control (HTTP 403 `…QpsLimit…`/`Throttling`, errcode 90002 / 90018 / 130101) and
the per-IP limit page `{"status":1111,"wait":N}`. Sends to one conversation are paced.

Nothing here logs or raises with a secret in it: the token travels in a header, or in the oapi query
string, which is never logged; errors carry DingTalk's code and message only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bot.chat_kit.pacing import ChannelPacer
from bot.chat_kit.tokens import TokenCache

log = logging.getLogger(__name__)

TOKEN_PATH = "/v1.0/oauth2/accessToken"
GROUP_SEND_PATH = "/v1.0/robot/groupMessages/send"
USERS_SEND_PATH = "/v1.0/robot/oToMessages/batchSend"
CARD_SEND_PATH = "/v1.0/im/v1.0/robot/interactiveCards/send"
CARD_UPDATE_PATH = "/v1.0/im/robots/interactiveCards"
MEDIA_UPLOAD_PATH = "/media/upload"
USER_GET_PATH = "/topapi/v2/user/get"

THROTTLE_ERRCODES = frozenset({90002, 90018, 130101})
TOKEN_ERRCODES = frozenset({40014, 42001})
DEFAULT_THROTTLE_WAIT = 2.0
SENDS_PER_SECOND_PER_CONVERSATION = 5.0


class DingTalkApiError(RuntimeError):
    def __init__(self, what: str, status: int, code: str, message: str) -> None:
        super().__init__(f"DingTalk {what} failed: HTTP {status} {code} {message}".strip())
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: float | None


class DingTalkApi:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        robot_code: str,
        api_url: str,
        oapi_url: str,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = 60.0,
    ) -> None:
        self.robot_code = robot_code or client_id  # an app robot's code is its AppKey unless told otherwise
        self._client_id = client_id
        self._client_secret = client_secret
        self._api_url = api_url.rstrip("/")
        self._oapi_url = oapi_url.rstrip("/")
        self._http = requests.Session()
        self._timeout = timeout
        self._sleep = sleep
        self._max_wait = max_wait_seconds
        self.tokens = TokenCache(self._fetch_token)
        self.pacer = ChannelPacer(1.0 / SENDS_PER_SECOND_PER_CONVERSATION, sleep=sleep)

    def close(self) -> None:
        self._http.close()

    # -- sends ---------------------------------------------------------------------------------

    def send_to_group(self, open_conversation_id: str, msg_key: str, msg_param: dict[str, Any]) -> str:
        body = {"robotCode": self.robot_code, "openConversationId": open_conversation_id, "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False)}
        answer = self.api("POST", GROUP_SEND_PATH, body, what="group message", pace=open_conversation_id)
        return str(answer.get("processQueryKey") or "")

    def send_to_user(self, staff_id: str, msg_key: str, msg_param: dict[str, Any]) -> str:
        """One person, directly; a user DingTalk flow-controls is a wait, then the send again."""
        body = {"robotCode": self.robot_code, "userIds": [staff_id], "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False)}
        waited = 0.0
        while True:
            answer = self.api("POST", USERS_SEND_PATH, body, what="direct message", pace=f"user:{staff_id}")
            if staff_id in (answer.get("invalidStaffIdList") or []):
                raise DingTalkApiError("direct message", 200, "invalidStaffId", "unknown staff id")
            if staff_id not in (answer.get("flowControlledStaffIdList") or []):
                return str(answer.get("processQueryKey") or "")
            waited = self._wait(DEFAULT_THROTTLE_WAIT, waited, "direct message")

    def send_card(self, card_biz_id: str, card_data: dict[str, Any], *, conversation_id: str | None = None,
                  staff_id: str | None = None, callback_route_key: str | None = None) -> str:
        """An interactive card (StandardCard); `card_biz_id` is DingTalk's idempotency id for it."""
        body: dict[str, Any] = {"cardTemplateId": "StandardCard", "cardBizId": card_biz_id,
                                "robotCode": self.robot_code,
                                "cardData": json.dumps(card_data, ensure_ascii=False),
                                "sendOptions": {"atAll": False}}
        if callback_route_key:
            body["callbackRouteKey"] = callback_route_key
        if conversation_id:
            body["openConversationId"] = conversation_id
        else:
            body["singleChatReceiver"] = json.dumps({"userId": staff_id})
        answer = self.api("POST", CARD_SEND_PATH, body, what="card", pace=conversation_id or f"user:{staff_id}")
        return str(answer.get("processQueryKey") or card_biz_id)

    def update_card(self, card_biz_id: str, card_data: dict[str, Any]) -> None:
        body = {"cardBizId": card_biz_id, "cardData": json.dumps(card_data, ensure_ascii=False)}
        self.api("PUT", CARD_UPDATE_PATH, body, what="card update")

    def post_session_webhook(self, url: str, payload: dict[str, Any], *, conversation: str) -> None:
        """The reply URL a robot message carries (valid ~90 min); answers `{errcode, errmsg}`."""
        waited = 0.0
        while True:
            self.pacer.wait(conversation)
            answer = self._send("POST", url, json_body=payload, token=None)
            errcode = _errcode(answer.body)
            if answer.status == 200 and errcode == 0:
                return
            if _throttled(answer):
                waited = self._wait(_throttle_wait(answer), waited, "session webhook reply")
                continue
            raise _error("session webhook reply", answer)

    # -- media and people ----------------------------------------------------------------------

    def upload_image(self, png: bytes, name: str) -> str:
        """media_id of an uploaded PNG (usable in markdown as `![](media_id)`; never expires)."""
        answer = self.oapi("POST", MEDIA_UPLOAD_PATH, what="media upload", data={"type": "image"},
                           files={"media": (name, png, "image/png")})
        media_id = answer.get("media_id")
        if not media_id:
            raise DingTalkApiError("media upload", 200, "no_media_id", "no media_id in the answer")
        return str(media_id)

    def upload_file(self, data: bytes, name: str) -> str:
        """media_id of an uploaded file (media type `file`, ≤ 20 MB), sent with msgKey `sampleFile`."""
        answer = self.oapi("POST", MEDIA_UPLOAD_PATH, what="file upload", data={"type": "file"},
                           files={"media": (name, data, "application/octet-stream")})
        media_id = answer.get("media_id")
        if not media_id:
            raise DingTalkApiError("file upload", 200, "no_media_id", "no media_id in the answer")
        return str(media_id)

    def get_user(self, staff_id: str) -> dict[str, Any]:
        answer = self.oapi("POST", USER_GET_PATH, what="user lookup", json_body={"userid": staff_id,
                                                                                "language": "en_US"})
        result = answer.get("result")
        return result if isinstance(result, dict) else {}

    # -- transport -----------------------------------------------------------------------------

    def api(
        self, method: str, path: str, body: dict[str, Any], *, what: str, pace: str | None = None
    ) -> dict[str, Any]:
        """api.dingtalk.com: token in `x-acs-dingtalk-access-token`; errors are HTTP 4xx/5xx + {code, message}."""
        return self._call(method, self._api_url + path, what=what, pace=pace, json_body=body, oapi=False)

    def oapi(self, method: str, path: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        """oapi.dingtalk.com: token in the query string; errors are HTTP 200 + {errcode, errmsg}."""
        return self._call(method, self._oapi_url + path, what=what, pace=None, oapi=True, **kwargs)

    def _call(self, method: str, url: str, *, what: str, pace: str | None, oapi: bool,
              **kwargs: Any) -> dict[str, Any]:
        waited = 0.0
        retried_token = False
        while True:
            if pace:
                self.pacer.wait(pace)
            token = self.tokens.get()
            answer = self._send(method, url, token=token, oapi=oapi, **kwargs)
            if _throttled(answer):
                waited = self._wait(_throttle_wait(answer), waited, what)
                continue
            if _token_rejected(answer) and not retried_token:
                self.tokens.drop(token)
                retried_token = True
                continue
            if 200 <= answer.status < 300 and _errcode(answer.body) == 0:
                return answer.body
            raise _error(what, answer)

    def _send(self, method: str, url: str, *, token: str | None, oapi: bool = False,
              json_body: dict[str, Any] | None = None, data: dict[str, str] | None = None,
              files: dict[str, Any] | None = None) -> Answer:
        headers = {"Accept": "application/json"}
        params = {}
        if token and oapi:
            params["access_token"] = token
        elif token:
            headers["x-acs-dingtalk-access-token"] = token
        try:
            response = self._http.request(method, url, headers=headers, params=params, json=json_body,
                                          data=data, files=files, timeout=self._timeout)
        except requests.RequestException as exc:
            raise DingTalkApiError("request", 0, type(exc).__name__, "network error") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        retry_after = _seconds(response.headers.get("retry-after"))
        return Answer(response.status_code, body if isinstance(body, dict) else {}, retry_after)

    def _fetch_token(self) -> tuple[str, float]:
        answer = self._send("POST", self._api_url + TOKEN_PATH, token=None,
                            json_body={"appKey": self._client_id, "appSecret": self._client_secret})
        token = answer.body.get("accessToken")
        if answer.status != 200 or not token:
            raise _error("access token", answer)
        return str(token), float(answer.body.get("expireIn") or 7200)

    def _wait(self, seconds: float, waited: float, what: str) -> float:
        if waited + seconds > self._max_wait:
            raise DingTalkApiError(what, 429, "throttled", f"still rate-limited after {waited:.0f} s")
        log.info("DingTalk %s rate-limited; waiting %.1f s", what, seconds)
        self._sleep(seconds)
        return waited + seconds


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


def _throttled(answer: Answer) -> bool:
    if answer.status == 429 or _errcode(answer.body) in THROTTLE_ERRCODES or answer.body.get("status") == 1111:
        return True
    code = str(answer.body.get("code") or "")
    return answer.status == 403 and ("QpsLimit" in code or "Throttl" in code or "Flow" in code)


def _throttle_wait(answer: Answer) -> float:
    if answer.retry_after is not None:
        return answer.retry_after
    wait = _seconds(answer.body.get("wait"))
    return wait if wait is not None else DEFAULT_THROTTLE_WAIT


def _token_rejected(answer: Answer) -> bool:
    return answer.status == 401 or _errcode(answer.body) in TOKEN_ERRCODES


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _error(what: str, answer: Answer) -> DingTalkApiError:
    body = answer.body
    code = str(body.get("code") or body.get("errcode") or "")
    message = str(body.get("message") or body.get("errmsg") or "")[:200]
    return DingTalkApiError(what, answer.status, code, message)
