"""Posting to Feishu: charts, idempotent retries (rate limits, a rejected token), pacing."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobs.present.reply import Chart, Figure, Mark, Reply, ReplyKind
from tests.fakes.feishu_api import (
    GROUP_CHAT,
    P2P_CHAT,
    SECRETS,
    FeishuBot,
    find_elements,
    parse_multipart,
    running_feishu_bot,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) \
        + chunk(b"IEND", b"")


def _digest() -> Reply:
    return Reply(
        title="Weekly review",
        kind=ReplyKind.NOTICE,
        mark=Mark.ON_TRACK,
        figures=[Figure("GMV", "$1.3M", Mark.ON_TRACK)],
        charts=[Chart("gmv-pace.png", tiny_png(), "GMV pace")],
    )


def test_chart_is_uploaded_and_the_card_shows_it(bot: FeishuBot) -> None:
    outbox = bot.runtime.outboxes["feishu"]
    message_id = outbox.send(GROUP_CHAT, _digest(), idempotency_key="digest:1:2026-W47:feishu:oc_group01")
    (upload,) = bot.fake.calls_to("POST", "/open-apis/im/v1/images")
    fields = parse_multipart(upload.headers["content-type"], upload.body)
    assert fields["image_type"] == b"message"
    assert fields["image"] == tiny_png()
    (image_key,) = bot.fake.images
    (message,) = [m for m in bot.fake.messages if m.message_id == message_id]
    assert message.chat_id == GROUP_CHAT
    assert message.msg_type == "interactive"
    (img,) = find_elements(message.content, "img")
    assert img["img_key"] == image_key
    (send,) = bot.fake.calls_to("POST", "/open-apis/im/v1/messages")
    assert send.query["receive_id_type"] == ["chat_id"]


def test_same_idempotency_key_sends_once(bot: FeishuBot) -> None:
    outbox = bot.runtime.outboxes["feishu"]
    reply = Reply(
        title="Alert: ROAS below 2.0", kind=ReplyKind.NOTICE, mark=Mark.OFF_TRACK, figures=[Figure("ROAS", "1.6")]
    )
    first = outbox.send(GROUP_CHAT, reply, idempotency_key="alert:7:2026-11-20")
    second = outbox.send(GROUP_CHAT, reply, idempotency_key="alert:7:2026-11-20")
    assert first == second
    assert len(bot.fake.messages) == 1
    uuids = {call.json["uuid"] for call in bot.fake.calls_to("POST", "/open-apis/im/v1/messages")}
    assert len(uuids) == 1


def test_rate_limited_reply_waits_and_lands_once_with_the_same_uuid(bot: FeishuBot) -> None:
    bot.fake.rate_limit_next()
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
    message_id = event["event"]["message"]["message_id"]
    assert bot.poster.post(event).status_code == 200
    bot.fake.wait_for_reply(message_id, timeout=10)
    attempts = bot.fake.calls_to("POST", f"/open-apis/im/v1/messages/{message_id}/reply")
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[0].json["uuid"] == attempts[1].json["uuid"]
    assert attempts[1].at - attempts[0].at >= 0.95  # x-ogw-ratelimit-reset: 1
    assert len(bot.fake.replies_to(message_id)) == 1


def test_chat_rate_limit_backs_off_and_retries(bot: FeishuBot) -> None:
    bot.fake.chat_limit_next()
    outbox = bot.runtime.outboxes["feishu"]
    outbox.send(GROUP_CHAT, Reply(title="hello", figures=[Figure("a", "1")]))
    attempts = bot.fake.calls_to("POST", "/open-apis/im/v1/messages")
    assert [a.status for a in attempts] == [400, 200]
    assert attempts[0].json["uuid"] == attempts[1].json["uuid"]
    assert len(bot.fake.messages) == 1


def test_rejected_token_is_dropped_renewed_and_the_call_retried(
    bot: FeishuBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    outbox = bot.runtime.outboxes["feishu"]
    outbox.send(GROUP_CHAT, Reply(title="first", figures=[Figure("a", "1")]))
    bot.fake.reject_next_token()
    outbox.send(GROUP_CHAT, Reply(title="second", figures=[Figure("a", "2")]))
    assert len(bot.fake.tokens_issued) == 2
    sends = bot.fake.calls_to("POST", "/open-apis/im/v1/messages")
    assert [s.status for s in sends] == [200, 400, 200]
    first_token, second_token = bot.fake.tokens_issued
    assert sends[1].headers["authorization"] == f"Bearer {first_token}"
    assert sends[2].headers["authorization"] == f"Bearer {second_token}"
    assert [m.content["header"]["title"]["content"] for m in bot.fake.messages] == ["first", "second"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (*SECRETS, first_token, second_token):
        assert secret not in logged


def test_sends_to_one_chat_are_paced_to_five_per_second(bot: FeishuBot) -> None:
    outbox = bot.runtime.outboxes["feishu"]
    reply = Reply(title="tick", figures=[Figure("a", "1")])
    outbox.send("oc_warmup", reply)  # token fetched outside the measured window
    threads = [threading.Thread(target=outbox.send, args=("oc_paced", reply)) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    sends = [c for c in bot.fake.calls_to("POST", "/open-apis/im/v1/messages") if c.json["receive_id"] == "oc_paced"]
    assert len(sends) == 6
    times = sorted(c.at for c in sends)
    # six sends need five gaps of 0.2 s = 1.0 s, less what a loaded box delays the first one in flight;
    # unpaced, the six land within a few milliseconds
    assert times[-1] - times[0] >= 0.8
    assert time.monotonic() - started < 5


def test_two_apps_in_one_process_keep_their_own_tokens(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    """The SDK's token cache is process-global; ours is per adapter. Each fake accepts only the
    tokens it issued, so a shared token would be refused."""
    with running_feishu_bot(make_settings, tmp_path / "a") as first, \
            running_feishu_bot(make_settings, tmp_path / "b") as second:
        reply = Reply(title="hi", figures=[Figure("a", "1")])
        for _ in range(2):
            first.runtime.outboxes["feishu"].send(GROUP_CHAT, reply)
            second.runtime.outboxes["feishu"].send(GROUP_CHAT, reply)
        assert len(first.fake.tokens_issued) == 1 and len(second.fake.tokens_issued) == 1
        assert all(c.status == 200 for c in first.fake.calls + second.fake.calls)
        assert len(first.fake.messages) == 2 and len(second.fake.messages) == 2
