"""A fake DingTalk on 127.0.0.1, for end-to-end tests of the DingTalk adapter.

`FakeDingTalk` is a real HTTP server answering the calls kpibot makes on both origins (api + oapi:
one server, both URLs point at it): the app access token, `gateway/connections/open` (returning a
ws://127.0.0.1 endpoint and a one-time ticket), robot group and 1:1 sends, interactive card send and
update, `media/upload` (multipart), `topapi/v2/user/get`, and session webhooks (`/robot/sendBySession`).
Its websocket speaks the Stream frame protocol: it pushes CALLBACK frames (robot messages, card
callbacks) and records each ACK. Rate limits can be injected: the next N calls to a path answer 429
with `Retry-After`, or a 1:1 send lists the user as flow-controlled.

`DingTalkBot` is the real kpibot process (HTTP server + runtime) wired to a fake, in either mode;
`signed_post` signs an HTTP callback exactly as DingTalk does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.fakes.http_server import RecordingServer, send_reply

CLIENT_ID = "dingkpibottest"
CLIENT_SECRET = "test-dingtalk-app-secret-0123456789"
ROBOT_CODE = "dingkpibottest"
CORP_ID = "ding0corp"
BOT_USER_ID = "$:LWCP_v1:$botbotbot"
GROUP = "cidGroupSales0001=="
ADMIN_STAFF_ID = "0100"
MEMBER_STAFF_ID = "0200"
USERS = {
    ADMIN_STAFF_ID: {"userid": ADMIN_STAFF_ID, "name": "王经理", "org_email": "boss@shop.com"},
    MEMBER_STAFF_ID: {"userid": MEMBER_STAFF_ID, "name": "Anna", "email": "anna@shop.com"},
}
ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Sent:
    """One message that reached a chat: via a group/1:1 send, a card, or a session webhook."""

    how: str  # "group" | "user" | "card" | "webhook"
    target: str  # conversation id, staff id or session key
    body: dict[str, Any]

    @property
    def markdown(self) -> str:
        if self.how == "webhook":
            return str((self.body.get("markdown") or {}).get("text") or self.body.get("text", {}).get("content"))
        if self.how == "card":
            card = json.loads(self.body["cardData"])
            return " ".join(str(part.get("text") or "") for part in card.get("contents", []))
        return str(json.loads(self.body["msgParam"]).get("text") or "")


@dataclass
class Throttle:
    path: str
    times: int
    retry_after: str


class FakeDingTalk(RecordingServer):
    def __init__(self) -> None:
        super().__init__(_handler_for(self), name="fake-dingtalk")
        self.sent: list[Sent] = []
        self.card_updates: list[tuple[str, dict[str, Any]]] = []
        self.media: dict[str, bytes] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # media_id → (uploaded file name, bytes) of type `file`
        self.acks: dict[str, dict[str, Any]] = {}
        self.tokens_issued = 0
        self._tokens: set[str] = set()
        self._tickets: dict[str, set[str]] = {}  # one-time ticket → the CALLBACK topics it subscribed to
        self.subscribed: set[str] = set()  # the CALLBACK topics of the open Stream connection
        self._throttles: list[Throttle] = []
        self._flow_controlled: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._connection: ServerConnection | None = None
        self.stream_connected = threading.Event()
        self._ws = serve(self._serve_stream, "127.0.0.1", 0)
        self._threads.append(threading.Thread(target=self._ws.serve_forever, name="fake-dingtalk-ws", daemon=True))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._ws.shutdown()
        super().stop()

    # -- what tests set up and inspect -----------------------------------------------------------

    def throttle_next(self, path: str, *, times: int = 1, retry_after: str = "0.2") -> None:
        """The next `times` calls to `path` answer 429 with `Retry-After`."""
        with self.changed:
            self._throttles.append(Throttle(path, times, retry_after))

    def flow_control_user(self, staff_id: str, *, times: int = 1) -> None:
        """The next `times` 1:1 sends to this user list it in `flowControlledStaffIdList`."""
        with self.changed:
            self._flow_controlled[staff_id] = times

    def calls_to(self, path: str) -> list[Call]:
        with self.changed:
            return [call for call in self.calls if call.path == path]

    def wait_for_sent(self, count: int = 1, timeout: float = 10.0) -> list[Sent]:
        return self.wait_for(lambda: list(self.sent) if len(self.sent) >= count else None, timeout)

    # -- the Stream websocket ---------------------------------------------------------------------

    def push(self, topic: str, data: dict[str, Any]) -> str:
        """One CALLBACK frame to the connected client; returns its messageId. Like DingTalk, only on a topic
        the client subscribed to when it opened the connection (the SDK subscribes one per registered
        handler): a press on a card whose topic nobody subscribed to reaches no one."""
        if not self.stream_connected.wait(10):
            raise AssertionError("no Stream connection open")
        assert self._connection is not None
        assert topic in self.subscribed, f"the client did not subscribe to {topic} (it did to {self.subscribed})"
        message_id = f"stream-{uuid.uuid4().hex[:12]}"
        frame = {
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {"appId": CLIENT_ID, "connectionId": "conn-1", "contentType": "application/json",
                        "messageId": message_id, "time": str(int(time.time() * 1000)), "topic": topic},
            "data": json.dumps(data, ensure_ascii=False),
        }
        self._connection.send(json.dumps(frame, ensure_ascii=False))
        return message_id

    def drop(self) -> None:
        """Close the Stream connection from the server side (the client should reconnect)."""
        if self._connection is not None:
            self._connection.close()

    def wait_for_ack(self, message_id: str, timeout: float = 10.0) -> dict[str, Any]:
        return self.wait_for(lambda: self.acks.get(message_id), timeout)

    def _serve_stream(self, connection: ServerConnection) -> None:
        ticket = parse_qs(urlsplit(connection.request.path).query).get("ticket", [""])[0]
        with self.changed:
            topics = self._tickets.pop(ticket, None)  # a ticket opens one connection only
        if topics is None:
            connection.close(code=4001, reason="invalid ticket")
            return
        self.subscribed = topics
        self._connection = connection
        self.stream_connected.set()
        try:
            for raw in connection:
                ack = json.loads(raw)
                with self.changed:
                    self.acks[ack["headers"]["messageId"]] = ack
                    self.changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self._connection = None
            self.stream_connected.clear()

    # -- HTTP (called from the server's threads) -----------------------------------------------------

    def fake_error(self, exc: Exception) -> dict[str, Any]:
        return {"code": "fake.error", "message": repr(exc)}

    def route(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        path = call.path
        if call.method == "POST" and path == "/v1.0/oauth2/accessToken":
            return self._issue_token(call)
        if call.method == "POST" and path == "/v1.0/gateway/connections/open":
            return self._open_connection(call)
        for throttle in self._throttles:
            if throttle.path == path and throttle.times > 0:
                throttle.times -= 1
                return 429, {"code": "Throttling.Api", "message": "too many requests"}, {
                    "Retry-After": throttle.retry_after}
        if call.method == "POST" and path == "/robot/sendBySession":
            return self._session_webhook(call)
        if path.startswith("/v1.0/") and call.headers.get("x-acs-dingtalk-access-token") not in self._tokens:
            return 401, {"code": "InvalidAuthentication", "message": "token is invalid"}, {}
        if path in ("/media/upload", "/topapi/v2/user/get") and call.query.get("access_token", [""])[0] \
                not in self._tokens:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}, {}
        if call.method == "POST" and path == "/v1.0/robot/groupMessages/send":
            if not call.json["openConversationId"].startswith("cid"):
                return 400, {"code": "invalidParameter.openConversationId", "message": "群不存在"}, {}
            return self._robot_send(call, "group", call.json["openConversationId"])
        if call.method == "POST" and path == "/v1.0/robot/oToMessages/batchSend":
            return self._batch_send(call)
        if call.method == "POST" and path == "/v1.0/im/v1.0/robot/interactiveCards/send":
            body = call.json
            target = body.get("openConversationId") or json.loads(body.get("singleChatReceiver") or "{}").get("userId")
            self.sent.append(Sent("card", str(target), body))
            # The processQueryKey is not the card's id: an update names the card by its cardBizId.
            return 200, {"processQueryKey": f"pqk-card-{next(self._ids)}"}, {}
        if call.method == "PUT" and path == "/v1.0/im/robots/interactiveCards":
            body = call.json
            if not any(sent.how == "card" and sent.body.get("cardBizId") == body["cardBizId"] for sent in self.sent):
                return 400, {"code": "invalidParameter.cardBizId", "message": "card not found"}, {}
            self.card_updates.append((body["cardBizId"], json.loads(body["cardData"])))
            return 200, {"success": True}, {}
        if call.method == "POST" and path == "/media/upload":
            return self._upload(call)
        if call.method == "POST" and path == "/topapi/v2/user/get":
            user = USERS.get(call.json.get("userid"))
            if user is None:
                return 200, {"errcode": 60121, "errmsg": "找不到该用户"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "result": user}, {}
        return 404, {"code": "NotFound", "message": f"fake has no {call.method} {path}"}, {}

    def _issue_token(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = call.json or {}
        if body.get("appKey") != CLIENT_ID or body.get("appSecret") != CLIENT_SECRET:
            return 400, {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"}, {}
        token = f"tok-{next(self._ids)}"
        self._tokens.add(token)
        self.tokens_issued += 1
        return 200, {"accessToken": token, "expireIn": 7200}, {}

    def _open_connection(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = call.json or {}
        if body.get("clientId") != CLIENT_ID or body.get("clientSecret") != CLIENT_SECRET:
            return 401, {"code": "Forbidden", "message": "bad client"}, {}
        ticket = uuid.uuid4().hex
        topics = {str(item.get("topic")) for item in body.get("subscriptions") or []
                  if isinstance(item, dict) and item.get("type") == "CALLBACK"}
        with self.changed:
            self._tickets[ticket] = topics
        port = self._ws.socket.getsockname()[1]
        return 200, {"endpoint": f"ws://127.0.0.1:{port}/connect", "ticket": ticket}, {}

    def _robot_send(self, call: Call, how: str, target: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = call.json
        if body.get("robotCode") != ROBOT_CODE:
            return 400, {"code": "invalidParameter.robotCode.auth", "message": "robotCode mismatch"}, {}
        if body.get("msgKey") not in ("sampleMarkdown", "sampleText", "sampleFile"):
            return 400, {"code": "invalidParameter.msgKey.invalid", "message": "msgKey"}, {}
        if body["msgKey"] == "sampleFile":
            param = json.loads(body.get("msgParam") or "{}")
            if param.get("mediaId") not in self.files or not param.get("fileName") or not param.get("fileType"):
                return 400, {"code": "invalidParameter.msgParam.invalid", "message": "sampleFile needs an uploaded "
                             "file's mediaId, fileName and fileType"}, {}
        if len(body.get("msgParam", "").encode()) > 15_000:
            return 400, {"code": "invalidParameter.msgParam.invalid", "message": "msgParam too long"}, {}
        self.sent.append(Sent(how, target, body))
        return 200, {"processQueryKey": f"pqk-{next(self._ids)}"}, {}

    def _batch_send(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        (user,) = call.json["userIds"]
        if self._flow_controlled.get(user, 0) > 0:
            self._flow_controlled[user] -= 1
            return 200, {"processQueryKey": "pqk-throttled", "flowControlledStaffIdList": [user]}, {}
        return self._robot_send(call, "user", user)

    def _session_webhook(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        session = call.query.get("session", [""])[0]
        body = call.json
        if (body.get("at") or {}).get("isAtAll"):
            return 200, {"errcode": 400, "errmsg": "test: @all is never expected"}, {}
        self.sent.append(Sent("webhook", session, body))
        return 200, {"errcode": 0, "errmsg": "ok"}, {}

    def _upload(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        message = BytesParser().parsebytes(
            f"Content-Type: {call.headers['content-type']}\r\n\r\n".encode() + call.body
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in message.get_payload()}
        media_type = parts["type"].get_payload(decode=True)
        if media_type == b"file":
            data = parts["media"].get_payload(decode=True) or b""
            if not data or len(data) > 20 * 1024 * 1024:
                return 200, {"errcode": 40006, "errmsg": "不合法的文件大小"}, {}
            media_id = f"@lAzPfile{next(self._ids)}"
            self.files[media_id] = (str(parts["media"].get_filename()), data)
            return 200, {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media_id, "created_at": 1}, {}
        if media_type != b"image":
            return 200, {"errcode": 40005, "errmsg": "不支持的文件类型"}, {}
        png = parts["media"].get_payload(decode=True)
        if not png.startswith(b"\x89PNG"):
            return 200, {"errcode": 40005, "errmsg": "not a png"}, {}
        media_id = f"@lADPmedia{next(self._ids)}"
        self.media[media_id] = png
        return 200, {"errcode": 0, "errmsg": "ok", "type": "image", "media_id": media_id, "created_at": 1}, {}


def _handler_for(fake: FakeDingTalk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            call = Call(self.command, split.path, parse_qs(split.query),
                        {k.lower(): v for k, v in self.headers.items()}, body)
            status, payload, headers = fake.handle(call)
            send_reply(self, status, json.dumps(payload, ensure_ascii=False).encode(),
                       "application/json; charset=utf-8", headers)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


# -- robot messages as DingTalk sends them ----------------------------------------------------------


def robot_message(fake: FakeDingTalk, text: str, *, staff_id: str = MEMBER_STAFF_ID, group: bool = True,
                  msg_id: str | None = None, at_users: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The payload of topic /v1.0/im/bot/messages/get (and of the HTTP callback)."""
    now = int(time.time() * 1000)
    session = uuid.uuid4().hex
    payload: dict[str, Any] = {
        "conversationId": GROUP if group else f"cidDM{staff_id}==",
        "atUsers": [{"dingtalkId": BOT_USER_ID}, *(at_users or [])],
        "chatbotCorpId": CORP_ID,
        "chatbotUserId": BOT_USER_ID,
        "msgId": msg_id or f"msg{uuid.uuid4().hex[:16]}",
        "senderNick": USERS.get(staff_id, {}).get("name", "someone"),
        "isAdmin": False,
        "senderStaffId": staff_id,
        "sessionWebhookExpiredTime": now + 90 * 60 * 1000,
        "createAt": now,
        "senderCorpId": CORP_ID,
        "conversationType": "2" if group else "1",
        "senderId": f"$:LWCP_v1:${staff_id}",
        "sessionWebhook": f"{fake.url}/robot/sendBySession?session={session}",
        "text": {"content": f" {text}"},
        "robotCode": ROBOT_CODE,
        "msgtype": "text",
    }
    if group:
        payload["conversationTitle"] = "销售群"
        payload["isInAtList"] = True
    return payload


def card_callback(card_id: str, button_id: str, *, staff_id: str = MEMBER_STAFF_ID) -> dict[str, Any]:
    """The payload of topic /v1.0/card/instances/callback for a pressed StandardCard button."""
    return {
        "extension": "{}",
        "corpId": CORP_ID,
        "type": "actionCallback",
        "userId": staff_id,
        "content": json.dumps({"cardPrivateData": {"actionIds": [button_id], "params": {}}}),
        "outTrackId": card_id,
    }


def dingtalk_sign(timestamp: str, secret: str = CLIENT_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# -- the real bot against the fake ----------------------------------------------------------------


@dataclass
class DingTalkBot:
    fake: FakeDingTalk
    runtime: Any  # bot.runtime.Runtime
    server: Any  # bot.http.server.ServerThread
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10, trust_env=False))

    @property
    def adapter(self) -> Any:
        return self.runtime.adapters["dingtalk"]

    @property
    def events_url(self) -> str:
        return f"{self.server.url}/dingtalk/events"

    def signed_post(self, payload: dict[str, Any], *, timestamp_ms: int | None = None,
                    secret: str = CLIENT_SECRET) -> httpx.Response:
        stamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
        headers = {"Content-Type": "application/json; charset=utf-8", "timestamp": stamp,
                   "sign": dingtalk_sign(stamp, secret)}
        return self.http.post(self.events_url, content=json.dumps(payload, ensure_ascii=False).encode(),
                              headers=headers)


@contextmanager
def running_dingtalk_bot(make_settings: Callable[..., Any], tmp_path: Path, **overrides: Any) -> Iterator[DingTalkBot]:
    """Fake DingTalk + the real kpibot process (HTTP server on 127.0.0.1, Stream client if in stream mode)."""
    from bot.http.server import ServerThread
    from bot.runtime import build_http_app, build_runtime

    with FakeDingTalk() as fake:
        values: dict[str, Any] = {
            "DINGTALK_CLIENT_ID": CLIENT_ID,
            "DINGTALK_CLIENT_SECRET": CLIENT_SECRET,
            "DINGTALK_ROBOT_CODE": ROBOT_CODE,
            "DINGTALK_MODE": "http",
            "DINGTALK_API_URL": fake.url,
            "DINGTALK_OAPI_URL": fake.url,
            "KPIBOT_ADMINS": f"dingtalk:{ADMIN_STAFF_ID}",
            "KPIBOT_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "",
            "SLACK_SIGNING_SECRET": "",
            "FEISHU_APP_ID": "",
        }
        values.update(overrides)
        runtime = build_runtime(make_settings(**values), file_outbox_dir=tmp_path / "outbox")
        server = ServerThread(build_http_app(runtime)).start()
        bot = DingTalkBot(fake=fake, runtime=runtime, server=server)
        for adapter in runtime.adapters.values():
            adapter.start()
        try:
            yield bot
        finally:
            bot.http.close()
            server.stop()
            for adapter in runtime.adapters.values():
                adapter.stop()
            runtime.db.dispose()
