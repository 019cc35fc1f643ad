"""Feishu's event encryption and signature: the test encryptor against Feishu's documented
example, and the SDK path the bot uses (AESCipher, EventDispatcherHandler) against it."""

from __future__ import annotations

import json

import pytest

from tests.fakes.feishu_api import decrypt, encrypt, signature, signed_headers

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

DOC_KEY = "test key"
DOC_CIPHERTEXT = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="


def test_decrypts_feishu_documentation_example() -> None:
    assert decrypt(DOC_CIPHERTEXT, DOC_KEY) == "hello world"


def test_sdk_cipher_decrypts_documentation_example() -> None:
    from lark_oapi.core.utils import AESCipher

    assert AESCipher(DOC_KEY).decrypt_str(DOC_CIPHERTEXT) == "hello world"


def test_encrypt_round_trips_through_sdk_cipher() -> None:
    from lark_oapi.core.utils import AESCipher

    text = json.dumps({"text": "GMV达成率多少", "n": 1}, ensure_ascii=False)
    ciphertext = encrypt(text, "another key")
    assert ciphertext != encrypt(text, "another key")  # a fresh IV each time
    assert decrypt(ciphertext, "another key") == text
    assert AESCipher("another key").decrypt_str(ciphertext) == text


def test_signature_is_sha256_of_timestamp_nonce_key_and_body() -> None:
    import hashlib

    body = b'{"encrypt":"abc"}'
    expected = hashlib.sha256(b"1700000000" + b"nonce1" + b"key" + body).hexdigest()
    assert signature("1700000000", "nonce1", "key", body) == expected
    headers = signed_headers(body, "key")
    assert headers["X-Lark-Signature"] == signature(
        headers["X-Lark-Request-Timestamp"], headers["X-Lark-Request-Nonce"], "key", body
    )
