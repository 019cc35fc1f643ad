"""The real kpibot process against a fake Feishu: events in over HTTP (encrypted and signed as
Feishu sends them), replies out to the fake Open API: url_verification, answers, rejections."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.feishu_api import (
    ENCRYPT_KEY,
    MEMBER_EMAIL,
    MEMBER_OPEN_ID,
    OTHER_OPEN_ID,
    P2P_CHAT,
    SECRETS,
    VERIFICATION_TOKEN,
    EventPoster,
    FeishuBot,
    bot_mention,
    encrypt,
    no_reply_within,
    running_feishu_bot,
    signed_headers,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)


@pytest.fixture
def plain_bot(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[FeishuBot]:
    """No Encrypt Key: events arrive in clear and carry the verification token."""
    with running_feishu_bot(make_settings, tmp_path, FEISHU_ENCRYPT_KEY="") as running:
        yield running


# -- url_verification ---------------------------------------------------------------------------


def test_plain_challenge_is_echoed(plain_bot: FeishuBot) -> None:
    payload = {"challenge": "ch-plain-123", "token": VERIFICATION_TOKEN, "type": "url_verification"}
    response = plain_bot.poster.post(payload, encrypted=False, signed=False)
    assert response.status_code == 200
    assert response.json() == {"challenge": "ch-plain-123"}


def test_plain_challenge_with_wrong_token_is_refused(plain_bot: FeishuBot) -> None:
    payload = {"challenge": "ch-plain-123", "token": "not-the-token", "type": "url_verification"}
    response = plain_bot.poster.post(payload, encrypted=False, signed=False)
    assert response.status_code == 401
    assert "ch-plain-123" not in response.text


def test_encrypted_challenge_is_decrypted_and_echoed(bot: FeishuBot) -> None:
    payload = {"challenge": "ch-secret-456", "token": VERIFICATION_TOKEN, "type": "url_verification"}
    response = bot.poster.post(payload, encrypted=True, signed=False)
    assert response.status_code == 200
    assert response.json() == {"challenge": "ch-secret-456"}


# -- answering --------------------------------------------------------------------------------


def test_p2p_message_gets_a_reply_to_that_message(bot: FeishuBot) -> None:
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT, sender=MEMBER_OPEN_ID)
    message_id = event["event"]["message"]["message_id"]
    response = bot.poster.post(event)
    assert response.status_code == 200
    reply = bot.fake.wait_for_reply(message_id)
    assert reply.msg_type in ("interactive", "text")
    # identity: the sender was looked up through the contact API
    lookups = bot.fake.calls_to("GET", f"/open-apis/contact/v3/users/{MEMBER_OPEN_ID}")
    assert lookups and lookups[0].query["user_id_type"] == ["open_id"]


def test_group_message_without_mention_is_not_answered(bot: FeishuBot) -> None:
    event = bot.message("gmv", mentions=[("@_user_1", OTHER_OPEN_ID, "Tom Lee")])
    response = bot.poster.post(event)
    assert response.status_code == 200
    no_reply_within(bot, event["event"]["message"]["message_id"])


def test_group_message_with_mention_is_answered_and_tokens_passed_to_core(bot: FeishuBot) -> None:
    seen: list[Any] = []
    core = bot.runtime.core
    real_handle = core.handle

    def recording_handle(request: Any) -> Any:
        seen.append(request)
        return real_handle(request)

    core.handle = recording_handle  # the core boundary: record what the adapter hands over
    event = bot.message(
        "@_user_1 /kpi board gmv @_user_2",
        mentions=[bot_mention("@_user_1"), ("@_user_2", OTHER_OPEN_ID, "Tom Lee")],
    )
    bot.poster.post(event)
    bot.fake.wait_for_reply(event["event"]["message"]["message_id"])
    (request,) = seen
    assert request.text == "board gmv <@0>"
    assert request.user.platform == "feishu"
    assert request.user.user_id == MEMBER_OPEN_ID
    assert request.user.email == MEMBER_EMAIL
    assert request.mentions[0].user_id == OTHER_OPEN_ID
    assert request.mentions[0].display_name == "Tom Lee"
    assert request.channel == event["event"]["message"]["chat_id"]
    assert bot.fake.calls_to("GET", "/open-apis/bot/v3/info")


# -- rejections ---------------------------------------------------------------------------------


def test_bad_signature_is_refused_and_nothing_is_processed(bot: FeishuBot) -> None:
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
    message_id = event["event"]["message"]["message_id"]
    response = bot.poster.post(event, signing_key="not-the-encrypt-key")
    assert response.status_code == 401
    no_reply_within(bot, message_id)
    # the event was not even claimed: the genuine delivery is still answered
    assert bot.poster.post(event).status_code == 200
    bot.fake.wait_for_reply(message_id)


def test_unsigned_encrypted_event_is_refused(bot: FeishuBot) -> None:
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
    response = bot.poster.post(event, signed=False)
    assert response.status_code == 401
    no_reply_within(bot, event["event"]["message"]["message_id"])


def test_event_encrypted_with_another_key_is_refused(bot: FeishuBot) -> None:
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
    forger = EventPoster(bot.events_url, encrypt_key="forged-key")
    try:
        response = forger.post(event)
    finally:
        forger.close()
    assert response.status_code == 401
    no_reply_within(bot, event["event"]["message"]["message_id"])


def test_ciphertext_that_decrypts_to_non_text_is_refused(bot: FeishuBot) -> None:
    """Another key's ciphertext passes the PKCS7 check about once in 256 and then is not UTF-8:
    that is a request not from Feishu (401), not a server error (it was 500, a flaky test above)."""
    body = json.dumps({"encrypt": encrypt(b"\xff\xfe not text", ENCRYPT_KEY)}).encode()
    response = httpx.post(bot.events_url, content=body, headers=signed_headers(body, ENCRYPT_KEY), timeout=5)
    assert response.status_code == 401


def test_wrong_verification_token_is_refused_in_plain_mode(plain_bot: FeishuBot) -> None:
    event = plain_bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT, token="wrong-token")
    message_id = event["event"]["message"]["message_id"]
    response = plain_bot.poster.post(event, encrypted=False, signed=False)
    assert response.status_code == 401
    no_reply_within(plain_bot, message_id)
    event["header"]["token"] = VERIFICATION_TOKEN
    assert plain_bot.poster.post(event, encrypted=False, signed=False).status_code == 200
    plain_bot.fake.wait_for_reply(message_id)


def test_errors_and_responses_never_contain_secrets(bot: FeishuBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    event = bot.message("/kpi help", chat_type="p2p", chat_id=P2P_CHAT)
    responses = [
        bot.poster.post(event, signing_key="wrong"),
        bot.poster.post(event, signed=False),
        httpx.post(bot.events_url, content=b"not json", timeout=5),
        bot.poster.post(event),
    ]
    bot.fake.wait_for_reply(event["event"]["message"]["message_id"])
    texts = [r.text for r in responses] + [record.getMessage() for record in caplog.records]
    for secret in (*SECRETS, *bot.fake.tokens_issued):
        assert not any(secret in text for text in texts), secret
