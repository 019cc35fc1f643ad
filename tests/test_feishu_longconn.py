"""FEISHU_MODE=ws: the SDK's long connection against a local fake (endpoint over HTTP, then a
websocket of protobuf frames). Events go through the same handlers as the webhook."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.feishu_api import ADMIN_OPEN_ID, P2P_CHAT, running_feishu_bot

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


def test_long_connection_round_trip_and_reconnect(make_settings: Callable[..., Any], tmp_path: Path) -> None:
    with running_feishu_bot(make_settings, tmp_path, FEISHU_MODE="ws") as bot:
        adapter = bot.adapter
        connection = adapter.long_connection
        assert connection is not None
        adapter.start()
        try:
            assert connection.wait_connected(10), connection.state
            (endpoint,) = bot.fake.calls_to("POST", "/callback/ws/endpoint")
            assert endpoint.json["AppID"] == bot.app_id

            # a message event: acknowledged with 200 on the socket, answered through the API
            event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
            frame_id = bot.fake.long_connection.push_event(event)
            assert bot.fake.long_connection.wait_for_ack(frame_id)["code"] == 200
            bot.fake.wait_for_reply(event["event"]["message"]["message_id"])

            # the same event again (a redelivery): acknowledged, not answered twice
            again = bot.fake.long_connection.push_event(event)
            assert bot.fake.long_connection.wait_for_ack(again)["code"] == 200
            time.sleep(0.5)
            assert len(bot.fake.replies_to(event["event"]["message"]["message_id"])) == 1

            # a card callback: the answer travels back in the ack, base64-encoded JSON
            payload = bot.card_action(open_id=ADMIN_OPEN_ID, value={"action_id": "unknown.action"})
            ack = bot.fake.long_connection.wait_for_ack(bot.fake.long_connection.push_event(payload))
            assert ack["code"] == 200
            answer = json.loads(base64.b64decode(ack["data"]))
            assert answer["toast"]["type"] == "info"

            # the server drops the connection: the client reconnects by itself
            bot.fake.long_connection.drop()
            bot.fake.wait_for(lambda: len(bot.fake.calls_to("POST", "/callback/ws/endpoint")) >= 2, timeout=10)
            deadline = time.monotonic() + 10
            while not (bot.fake.long_connection.connected.is_set() and connection.connected):
                assert time.monotonic() < deadline, connection.state
                time.sleep(0.05)
            event = bot.message("gmv", chat_type="p2p", chat_id=P2P_CHAT)
            frame_id = bot.fake.long_connection.push_event(event)
            assert bot.fake.long_connection.wait_for_ack(frame_id)["code"] == 200
            bot.fake.wait_for_reply(event["event"]["message"]["message_id"])
        finally:
            adapter.stop()
        assert connection.state == "stopped"
