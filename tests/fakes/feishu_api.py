"""A fake Feishu Open API on 127.0.0.1 — the boundary the Feishu tests drive the real bot against.

`FakeFeishu` is a real HTTP server answering the calls kpibot makes (tenant token, bot info,
contact user, im/v1 messages / reply / patch / images, the long-connection endpoint) and a
real websocket server speaking the SDK's protobuf frames (`pbbp2.Frame`, encoded here by hand
so the fake does not borrow the SDK's codec). Every request is recorded. Like Feishu it
sends a message once per `uuid`, refuses cards over 30 KB and `img` keys it never issued.
Switches: `rate_limit_next()` (HTTP 429, code 99991400, `x-ogw-ratelimit-reset: 1`),
`chat_limit_next()` (code 230020, the per-chat limit) and `reject_next_token()` (code 99991663
for the first call with the current token, which is then dead). `bitable[(app_token, table_id)]`
holds records served page by page by the Bitable records search.

Events into the bot are encrypted and signed exactly as Feishu does (`encrypt`,
`signed_headers`, `EventPoster`), and `running_feishu_bot` starts the real process:
build_runtime + build_http_app + ServerThread, configured against this fake.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from Crypto.Cipher import AES
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.fakes.http_server import RecordingServer, send_reply

APP_SECRET = "fake-app-secret-0123456789abcdef"
ENCRYPT_KEY = "fake-encrypt-key-kpibot-9f8e7d"
VERIFICATION_TOKEN = "fake-verification-token-5a4b3c"
SECRETS = (APP_SECRET, ENCRYPT_KEY, VERIFICATION_TOKEN)

BOT_OPEN_ID = "ou_bot0kpi"
ADMIN_OPEN_ID = "ou_admin01"
MEMBER_OPEN_ID = "ou_member1"
OTHER_OPEN_ID = "ou_other01"
ADMIN_EMAIL = "li.na@example.com"
MEMBER_EMAIL = "wang.wei@example.com"
GROUP_CHAT = "oc_group01"
P2P_CHAT = "oc_p2p0001"
CARD_LIMIT_BYTES = 30 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

DEFAULT_USERS: dict[str, dict[str, Any]] = {
    ADMIN_OPEN_ID: {"open_id": ADMIN_OPEN_ID, "name": "李娜", "enterprise_email": ADMIN_EMAIL},
    MEMBER_OPEN_ID: {"open_id": MEMBER_OPEN_ID, "name": "王伟", "email": MEMBER_EMAIL},
    OTHER_OPEN_ID: {"open_id": OTHER_OPEN_ID, "name": "Tom Lee", "email": "tom@example.com"},
}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 0  # the status the fake answered
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


FILE_TYPES = ("opus", "mp4", "pdf", "doc", "xls", "ppt", "stream")
FILE_LIMIT_BYTES = 30 * 1024 * 1024


@dataclass(frozen=True)
class UploadedFile:
    name: str
    file_type: str
    data: bytes


@dataclass
class Message:
    """A message the fake accepted (sent, or a reply to `reply_to`)."""

    message_id: str
    chat_id: str | None
    reply_to: str | None
    msg_type: str
    content: Any  # the parsed `content` JSON
    uuid: str | None
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """Everything readable in the message, for assertions."""
        return json.dumps(self.content, ensure_ascii=False)


class FakeFeishu(RecordingServer):
    def __init__(self, *, app_id: str, app_secret: str = APP_SECRET, users: dict[str, dict[str, Any]] | None = None):
        self.app_id = app_id
        self.app_secret = app_secret
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.messages: list[Message] = []
        self.patches: list[tuple[str, Any]] = []
        self.images: dict[str, bytes] = {}
        self.files: dict[str, UploadedFile] = {}  # file_key → what im/v1/files received
        self.tokens_issued: list[str] = []
        self.bitable: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._valid_tokens: set[str] = set()
        self._by_uuid: dict[str, Message] = {}
        self._rate_limit: tuple[str, int] | None = None
        self._rate_limit_times = 0
        self.message_delay = 0.0  # seconds each message send waits before it is accepted (replica-kill test)
        self._chat_limit = False
        self._reject_token = False
        self._ids = itertools.count(1)
        self.long_connection = FakeLongConnection()
        super().__init__(_handler_for(self), name="fake-feishu")

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        super().stop()
        self.long_connection.stop()

    # -- switches -------------------------------------------------------------------------------

    def rate_limit_next(
        self, path_prefix: str = "/open-apis/im/v1/messages", reset_seconds: int = 1, times: int = 1
    ) -> None:
        with self.changed:
            self._rate_limit = (path_prefix, reset_seconds)
            self._rate_limit_times = times

    def chat_limit_next(self) -> None:
        with self.changed:
            self._chat_limit = True

    def reject_next_token(self) -> None:
        with self.changed:
            self._reject_token = True

    # -- what happened --------------------------------------------------------------------------

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        with self.changed:
            return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    def replies_to(self, message_id: str) -> list[Message]:
        with self.changed:
            return [m for m in self.messages if m.reply_to == message_id]

    def wait_for_reply(self, message_id: str, timeout: float = 10.0) -> Message:
        return self.wait_for(lambda: next(iter(self.replies_to(message_id)), None), timeout)

    # -- request handling (called from the server's threads) -----------------------------------

    def fake_error(self, exc: Exception) -> dict[str, Any]:
        return {"code": -1, "msg": f"fake error: {exc!r}"}

    def route(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        path, method = call.path, call.method
        if method == "POST" and path == "/open-apis/auth/v3/tenant_access_token/internal":
            return self._issue_token(call)
        if method == "POST" and path == "/callback/ws/endpoint":
            return self._ws_endpoint(call)
        if self._rate_limit is not None and path.startswith(self._rate_limit[0]):
            reset = self._rate_limit[1]
            self._rate_limit_times -= 1
            if self._rate_limit_times <= 0:
                self._rate_limit = None
            return 429, {"code": 99991400, "msg": "request trigger frequency limit"}, {
                "x-ogw-ratelimit-limit": "5", "x-ogw-ratelimit-reset": str(reset),
            }
        if self._chat_limit and path.startswith("/open-apis/im/v1/messages"):
            self._chat_limit = False
            return 400, {"code": 230020, "msg": "This operation triggers the frequency limit."}, {}
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self._valid_tokens or self._reject_token:
            self._reject_token = False
            self._valid_tokens.discard(token)
            return 400, {"code": 99991663, "msg": "Invalid access token for authorization."}, {}
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/open-apis/bot/v3/info":
            bot = {"activate_status": 2, "app_name": "kpibot", "open_id": BOT_OPEN_ID, "ip_white_list": []}
            return 200, {"code": 0, "msg": "ok", "bot": bot}, {}
        if method == "GET" and parts[:4] == ["open-apis", "contact", "v3", "users"] and len(parts) == 5:
            user = self.users.get(parts[4])
            if user is None or call.query.get("user_id_type") != ["open_id"]:
                return 400, {"code": 41050, "msg": "no user authority error"}, {}
            return 200, {"code": 0, "msg": "success", "data": {"user": user}}, {}
        if method == "POST" and len(parts) == 9 and parts[:4] == ["open-apis", "bitable", "v1", "apps"] \
                and parts[5] == "tables" and parts[7:] == ["records", "search"]:
            return self._bitable_search(call, parts[4], parts[6])
        if method == "POST" and path == "/open-apis/im/v1/images":
            return self._upload_image(call)
        if method == "POST" and path == "/open-apis/im/v1/files":
            return self._upload_file(call)
        if method == "POST" and path == "/open-apis/im/v1/messages":
            if call.query.get("receive_id_type") not in (["chat_id"], ["open_id"]):
                return 400, {"code": 99992402, "msg": "field validation failed: receive_id_type"}, {}
            body = call.json or {}
            return self._accept_message(body, chat_id=body.get("receive_id"), reply_to=None)
        if method == "POST" and len(parts) == 6 and parts[:4] == ["open-apis", "im", "v1", "messages"] \
                and parts[5] == "reply":
            return self._accept_message(call.json or {}, chat_id=None, reply_to=parts[4])
        if method == "PATCH" and len(parts) == 5 and parts[:4] == ["open-apis", "im", "v1", "messages"]:
            content = json.loads((call.json or {}).get("content") or "null")
            problem = self._card_problem(content)
            if problem:
                return 400, {"code": 230099, "msg": problem}, {}
            self.patches.append((parts[4], content))
            return 200, {"code": 0, "msg": "success", "data": {}}, {}
        return 404, {"code": 404, "msg": f"fake has no {method} {path}"}, {}

    def _issue_token(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = call.json or {}
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return 200, {"code": 10014, "msg": "app secret invalid"}, {}
        token = f"t-{len(self.tokens_issued) + 1}-{uuid.uuid4().hex[:16]}"
        self.tokens_issued.append(token)
        self._valid_tokens.add(token)
        return 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}, {}

    def _ws_endpoint(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = call.json or {}
        if body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            return 200, {"code": 403, "msg": "invalid app credentials"}, {}
        url = self.long_connection.start().url
        config = {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}
        return 200, {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": config}}, {}

    def _bitable_search(self, call: Call, app_token: str, table_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        records = self.bitable.get((app_token, table_id))
        if records is None:
            return 404, {"code": 91402, "msg": "NOTEXIST"}, {}
        size = min(int((call.query.get("page_size") or ["20"])[0]), 500)
        start = int((call.query.get("page_token") or ["0"])[0])
        page = records[start : start + size]
        more = start + size < len(records)
        data = {"items": page, "has_more": more, "total": len(records)}
        if more:
            data["page_token"] = str(start + size)
        return 200, {"code": 0, "msg": "success", "data": data}, {}

    def _upload_image(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        fields = parse_multipart(call.headers.get("content-type", ""), call.body)
        image = fields.get("image", b"")
        if fields.get("image_type") != b"message" or not image.startswith(PNG_SIGNATURE):
            return 400, {"code": 234001, "msg": "invalid image_type or image"}, {}
        key = f"img_v3_{next(self._ids):04d}"
        self.images[key] = image
        return 200, {"code": 0, "msg": "success", "data": {"image_key": key}}, {}

    def _upload_file(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        """im/v1/files: multipart file_type (Feishu's list), file_name, file; ≤ 30 MB and not empty."""
        fields = parse_multipart(call.headers.get("content-type", ""), call.body)
        data, file_type = fields.get("file", b""), fields.get("file_type", b"").decode()
        if file_type not in FILE_TYPES or not fields.get("file_name") or not data:
            return 400, {"code": 234001, "msg": "invalid file_type, file_name or empty file"}, {}
        if len(data) > FILE_LIMIT_BYTES:
            return 400, {"code": 234006, "msg": "file size exceeds 30 MB"}, {}
        key = f"file_v3_{next(self._ids):04d}"
        self.files[key] = UploadedFile(fields["file_name"].decode(), file_type, data)
        return 200, {"code": 0, "msg": "success", "data": {"file_key": key}}, {}

    def _accept_message(
        self, body: dict[str, Any], *, chat_id: str | None, reply_to: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        msg_uuid = body.get("uuid")
        if msg_uuid and len(msg_uuid) > 50:
            return 400, {"code": 99992402, "msg": "uuid longer than 50"}, {}
        if msg_uuid and msg_uuid in self._by_uuid:  # Feishu: one message per uuid
            return 200, {"code": 0, "msg": "success", "data": _message_data(self._by_uuid[msg_uuid])}, {}
        msg_type = body.get("msg_type")
        try:
            content = json.loads(body.get("content") or "")
        except ValueError:
            return 400, {"code": 230001, "msg": "content is not a JSON string"}, {}
        if msg_type == "interactive":
            problem = self._card_problem(content)
            if problem:
                return 400, {"code": 230099, "msg": problem}, {}
        elif msg_type == "text":
            if not isinstance(content, dict) or not isinstance(content.get("text"), str):
                return 400, {"code": 230001, "msg": "text content needs a text field"}, {}
        elif msg_type == "file":
            if not isinstance(content, dict) or content.get("file_key") not in self.files:
                return 400, {"code": 230001, "msg": "file content needs a file_key uploaded to im/v1/files"}, {}
        else:
            return 400, {"code": 230001, "msg": f"unexpected msg_type {msg_type}"}, {}
        message = Message(
            message_id=f"om_{next(self._ids):06d}", chat_id=chat_id, reply_to=reply_to,
            msg_type=str(msg_type), content=content, uuid=msg_uuid,
        )
        self.messages.append(message)
        if msg_uuid:
            self._by_uuid[msg_uuid] = message
        return 200, {"code": 0, "msg": "success", "data": _message_data(message)}, {}

    def _card_problem(self, card: Any) -> str | None:
        if not isinstance(card, dict) or card.get("schema") != "2.0":
            return "card must be JSON 2.0"
        if len(json.dumps(card, ensure_ascii=False).encode()) > CARD_LIMIT_BYTES:
            return "card content exceeds 30 KB"
        if not isinstance(card.get("body", {}).get("elements"), list):
            return "card body.elements missing"
        for key in find_values(card, "img_key"):
            if key not in self.images:
                return f"unknown img_key {key}"
        return _table_problem(find_elements(card, "table"))


def _table_problem(tables: list[dict[str, Any]]) -> str | None:
    """Card JSON 2.0 `table` limits: ≤ 5 per card, ≤ 50 columns, page_size 1–10, known data types, rows keyed by
    the columns' names."""
    if len(tables) > 5:
        return "a card holds at most 5 table components"
    for table in tables:
        columns = table.get("columns") or []
        names = {column.get("name") for column in columns}
        if not 0 < len(columns) <= 50 or not 1 <= int(table.get("page_size", 5)) <= 10:
            return "table: 1–50 columns and page_size 1–10"
        if any(column.get("data_type") not in TABLE_DATA_TYPES for column in columns):
            return "table: unknown column data_type"
        if any(not set(row) <= names for row in table.get("rows") or []):
            return "table: a row names a column the table does not have"
    return None


TABLE_DATA_TYPES = ("text", "lark_md", "options", "number", "persons", "date", "markdown")


def _message_data(message: Message) -> dict[str, Any]:
    return {
        "message_id": message.message_id, "chat_id": message.chat_id or "oc_unknown",
        "msg_type": message.msg_type, "body": {"content": json.dumps(message.content, ensure_ascii=False)},
    }


def _handler_for(fake: FakeFeishu) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            call = Call(
                method=self.command, path=split.path, query=parse_qs(split.query),
                headers={k.lower(): v for k, v in self.headers.items()}, body=body,
            )
            if fake.message_delay and self.command == "POST" and split.path == "/open-apis/im/v1/messages":
                time.sleep(fake.message_delay)
            status, payload, headers = fake.handle(call)
            data = json.dumps(payload, ensure_ascii=False).encode()
            send_reply(self, status, data, "application/json; charset=utf-8", headers)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_payload(decode=True) or b""
    return fields


def find_values(node: Any, key: str) -> list[Any]:
    """Every value of `key` anywhere in a JSON tree (card elements nest)."""
    found = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                found.append(value)
            found.extend(find_values(value, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(find_values(item, key))
    return found


def find_elements(node: Any, tag: str) -> list[dict[str, Any]]:
    return [element for element in _walk(node) if element.get("tag") == tag]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


# -- long connection: the SDK's protobuf frames over a websocket --------------------------------

FRAME_CONTROL, FRAME_DATA = 0, 1


def encode_frame(
    *, seq_id: int, log_id: int, service: int, method: int, headers: dict[str, str], payload: bytes = b""
) -> bytes:
    """pbbp2.Frame: 1 SeqID, 2 LogID, 3 service, 4 method (varints), 5 headers {1 key, 2 value},
    8 payload (bytes). Proto2 with the first four required."""
    out = bytearray()
    for number, value in ((1, seq_id), (2, log_id), (3, service), (4, method)):
        out += _varint(number << 3) + _varint(value)
    for key, value in headers.items():
        header = _length_field(1, key.encode()) + _length_field(2, value.encode())
        out += _length_field(5, header)
    if payload:
        out += _length_field(8, payload)
    return bytes(out)


def decode_frame(data: bytes) -> dict[str, Any]:
    fields = _decode_fields(data)
    headers = {}
    for raw in fields.get(5, []):
        header = _decode_fields(raw)
        headers[header[1][0].decode()] = header[2][0].decode()
    return {
        "seq_id": fields.get(1, [0])[0], "log_id": fields.get(2, [0])[0], "service": fields.get(3, [0])[0],
        "method": fields.get(4, [0])[0], "headers": headers, "payload": fields.get(8, [b""])[0],
    }


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _decode_fields(data: bytes) -> dict[int, list[Any]]:
    fields: dict[int, list[Any]] = {}
    position = 0

    def read_varint() -> int:
        nonlocal position
        shift = result = 0
        while True:
            byte = data[position]
            position += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    while position < len(data):
        key = read_varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: Any = read_varint()
        elif wire == 2:
            length = read_varint()
            value = data[position : position + length]
            position += length
        elif wire == 1:
            value, position = data[position : position + 8], position + 8
        elif wire == 5:
            value, position = data[position : position + 4], position + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


class FakeLongConnection:
    """The websocket end of Feishu's long connection: pushes event frames, records acks."""

    SERVICE_ID = 7

    def __init__(self) -> None:
        self.acks: dict[str, dict[str, Any]] = {}  # frame message_id → decoded ack payload
        self.pings = 0
        self.connected = threading.Event()
        self._connection: ServerConnection | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Condition()
        self._seq = itertools.count(1)

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws?device_id=fake-device&service_id={self.SERVICE_ID}"

    def start(self) -> FakeLongConnection:
        if self._server is None:
            self._server = serve(self._serve, "127.0.0.1", 0)
            self._thread = threading.Thread(target=self._server.serve_forever, name="fake-feishu-ws", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def drop(self) -> None:
        """Close the open connection from the server side (the client should reconnect)."""
        if self._connection is not None:
            self._connection.close()

    def push_event(self, payload: dict[str, Any]) -> str:
        """Send one event as a data frame; returns the frame's message_id."""
        if self._connection is None:
            raise AssertionError("no long connection open")
        message_id = f"ws-msg-{next(self._seq)}"
        frame = encode_frame(
            seq_id=next(self._seq), log_id=1, service=self.SERVICE_ID, method=FRAME_DATA,
            headers={"type": "event", "message_id": message_id, "trace_id": "trace-1", "sum": "1", "seq": "0"},
            payload=json.dumps(payload, ensure_ascii=False).encode(),
        )
        self._connection.send(frame)
        return message_id

    def wait_for_ack(self, message_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while message_id not in self.acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no ack for {message_id}")
                self._lock.wait(remaining)
            return self.acks[message_id]

    def _serve(self, connection: ServerConnection) -> None:
        self._connection = connection
        self.connected.set()
        try:
            for raw in connection:
                frame = decode_frame(raw if isinstance(raw, bytes) else raw.encode())
                headers = frame["headers"]
                if frame["method"] == FRAME_CONTROL and headers.get("type") == "ping":
                    self.pings += 1
                    connection.send(encode_frame(
                        seq_id=0, log_id=0, service=self.SERVICE_ID, method=FRAME_CONTROL,
                        headers={"type": "pong"},
                    ))
                elif frame["method"] == FRAME_DATA:
                    with self._lock:
                        self.acks[headers.get("message_id", "")] = json.loads(frame["payload"] or b"{}")
                        self._lock.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self._connection = None
            self.connected.clear()


# -- events into the bot, encrypted and signed as Feishu does -----------------------------------


def encrypt(plaintext: str | bytes, encrypt_key: str) -> str:
    """b64(iv + AES-256-CBC(key = sha256(encrypt_key), PKCS7)(plaintext))."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    pad = 16 - len(data) % 16
    cipher = AES.new(key, AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(data + bytes([pad]) * pad)).decode()


def decrypt(ciphertext: str, encrypt_key: str) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    raw = base64.b64decode(ciphertext)
    plain = AES.new(key, AES.MODE_CBC, raw[:16]).decrypt(raw[16:])
    return plain[: -plain[-1]].decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def signed_headers(body: bytes, encrypt_key: str, *, timestamp: float | None = None) -> dict[str, str]:
    """Signed as Feishu signs; `timestamp` (Unix seconds) back-dates the request."""
    timestamp, nonce = str(int(time.time() if timestamp is None else timestamp)), uuid.uuid4().hex[:16]
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature(timestamp, nonce, encrypt_key, body),
    }


def event_header(event_type: str, *, app_id: str, token: str, event_id: str | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "token": token,
        "create_time": str(int(time.time() * 1000)),
        "event_type": event_type,
        "tenant_key": "tenant-kpi",
        "app_id": app_id,
    }


def message_event(
    text: str,
    *,
    app_id: str,
    token: str = VERIFICATION_TOKEN,
    sender: str = MEMBER_OPEN_ID,
    chat_id: str = GROUP_CHAT,
    chat_type: str = "group",
    mentions: list[tuple[str, str, str]] | None = None,  # (key, open_id, name)
    message_id: str | None = None,
    event_id: str | None = None,
    message_type: str = "text",
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An `im.message.receive_v1` event as Feishu sends it (content is a JSON string)."""
    return {
        "schema": "2.0",
        "header": event_header("im.message.receive_v1", app_id=app_id, token=token, event_id=event_id),
        "event": {
            "sender": {
                "sender_id": {"open_id": sender, "union_id": f"on_{sender}", "user_id": None},
                "sender_type": "user",
                "tenant_key": "tenant-kpi",
            },
            "message": {
                "message_id": message_id or f"om_in_{uuid.uuid4().hex[:12]}",
                "create_time": str(int(time.time() * 1000)),
                "chat_id": chat_id,
                "chat_type": chat_type,
                "message_type": message_type,
                "content": json.dumps(content if content is not None else {"text": text}, ensure_ascii=False),
                "mentions": [
                    {"key": key, "id": {"open_id": open_id, "union_id": f"on_{open_id}"}, "name": name,
                     "tenant_key": "tenant-kpi"}
                    for key, open_id, name in (mentions or [])
                ],
            },
        },
    }


def bot_mention(key: str = "@_user_1") -> tuple[str, str, str]:
    return (key, BOT_OPEN_ID, "kpibot")


def card_action_event(
    *,
    app_id: str,
    open_id: str,
    value: dict[str, Any],
    form_value: dict[str, Any] | None = None,
    message_id: str = "om_card01",
    chat_id: str = GROUP_CHAT,
    token: str = VERIFICATION_TOKEN,
    event_id: str | None = None,
) -> dict[str, Any]:
    action: dict[str, Any] = {"value": value, "tag": "button", "timezone": "Asia/Shanghai"}
    if form_value is not None:
        action["form_value"] = form_value
        action["name"] = "submit_target"
    return {
        "schema": "2.0",
        "header": event_header("card.action.trigger", app_id=app_id, token=token, event_id=event_id),
        "event": {
            "operator": {"tenant_key": "tenant-kpi", "open_id": open_id, "union_id": f"on_{open_id}"},
            "token": "c-update-token",
            "action": action,
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": chat_id},
        },
    }


class EventPoster:
    """Posts events to the bot's `/feishu/events` as Feishu would (encrypted + signed by default)."""

    def __init__(self, url: str, *, encrypt_key: str = ENCRYPT_KEY) -> None:
        self.url = url
        self.encrypt_key = encrypt_key
        self.client = httpx.Client(timeout=10.0)

    def post(
        self,
        payload: dict[str, Any],
        *,
        encrypted: bool = True,
        signed: bool = True,
        signing_key: str | None = None,
        timestamp: float | None = None,
    ) -> httpx.Response:
        plaintext = json.dumps(payload, ensure_ascii=False)
        body = (
            json.dumps({"encrypt": encrypt(plaintext, self.encrypt_key)}).encode()
            if encrypted else plaintext.encode()
        )
        headers = (
            signed_headers(body, signing_key or self.encrypt_key, timestamp=timestamp)
            if signed else {"Content-Type": "application/json; charset=utf-8"}
        )
        return self.client.post(self.url, content=body, headers=headers)

    def close(self) -> None:
        self.client.close()


# -- the real bot against the fake ----------------------------------------------------------------


@dataclass
class FeishuBot:
    fake: FakeFeishu
    runtime: Any  # bot.runtime.Runtime
    server: Any  # bot.http.server.ServerThread
    poster: EventPoster
    app_id: str

    @property
    def adapter(self) -> Any:
        return self.runtime.adapters["feishu"]

    @property
    def events_url(self) -> str:
        return f"{self.server.url}/feishu/events"

    def message(self, text: str, **kwargs: Any) -> dict[str, Any]:
        return message_event(text, app_id=self.app_id, **kwargs)

    def card_action(self, **kwargs: Any) -> dict[str, Any]:
        return card_action_event(app_id=self.app_id, **kwargs)

    def ask(self, text: str, **kwargs: Any) -> Message:
        """Post a signed, encrypted message event; the reply the fake received."""
        event = self.message(text, **kwargs)
        assert self.poster.post(event).status_code == 200
        return self.fake.wait_for_reply(event["event"]["message"]["message_id"])


def no_reply_within(bot: FeishuBot, message_id: str, seconds: float = 0.6) -> None:
    """A processed event is answered in well under 0.2 s here; 0.6 s of silence means none."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert not bot.fake.replies_to(message_id)
        time.sleep(0.05)


@contextmanager
def running_feishu_bot(
    make_settings: Callable[..., Any], tmp_path: Path, **overrides: Any
) -> Iterator[FeishuBot]:
    """Fake Feishu + the real kpibot process (HTTP server on 127.0.0.1) wired to it.

    A distinct app id per bot keeps the tests apart; the adapter owns its token either way."""
    from bot.http.server import ServerThread
    from bot.runtime import build_http_app, build_runtime

    app_id = f"cli_test_{uuid.uuid4().hex[:10]}"
    with FakeFeishu(app_id=app_id) as fake:
        values: dict[str, Any] = {
            "FEISHU_APP_ID": app_id,
            "FEISHU_APP_SECRET": APP_SECRET,
            "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
            "FEISHU_VERIFICATION_TOKEN": VERIFICATION_TOKEN,
            "FEISHU_DOMAIN": fake.url,
            "KPIBOT_ADMINS": f"feishu:{ADMIN_OPEN_ID}",
            "KPIBOT_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "",
            "SLACK_SIGNING_SECRET": "",
        }
        values.update(overrides)
        runtime = build_runtime(make_settings(**values), file_outbox_dir=tmp_path / "outbox")
        # A card press is answered in its callback unless a test shortens this (the late path's tests do):
        # Feishu's 2 s would turn a test of the answer into a test of the late path on a loaded machine.
        runtime.adapters["feishu"].events.callback_deadline = 8.0
        server = ServerThread(build_http_app(runtime)).start()
        poster = EventPoster(f"{server.url}/feishu/events", encrypt_key=values["FEISHU_ENCRYPT_KEY"] or ENCRYPT_KEY)
        try:
            yield FeishuBot(fake=fake, runtime=runtime, server=server, poster=poster, app_id=app_id)
        finally:
            poster.close()
            server.stop()
            for adapter in runtime.adapters.values():
                adapter.stop()
            runtime.db.dispose()
