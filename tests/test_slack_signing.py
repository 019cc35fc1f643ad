"""Requests into /slack/events must be signed by Slack: anything else is 401 and changes nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from storage.models import ProcessedEvent
from tests.fakes.slack_api import (
    SIGNING_SECRET,
    SlackBot,
    event_envelope,
    message_event,
    signed_headers,
    slack_signature,
)

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

SLACK_DOCS_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


def test_signer_matches_slack_documentation_example() -> None:
    signature = slack_signature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, SLACK_DOCS_BODY)
    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def slash_body(text: str = "help") -> str:
    return urlencode(
        {
            "team_id": "T0KPI",
            "channel_id": "C0SALES1",
            "user_id": "UMEMBER1",
            "command": "/kpi",
            "text": text,
            "response_url": "http://127.0.0.1:9/hooks/x",
            "trigger_id": "1.2.3",
        }
    )


def mention_body() -> str:
    return json.dumps(event_envelope(message_event("<@UBOT0KPI> help"), event_id="Ev0UNSIGNED"))


def processed_events(bot: SlackBot) -> int:
    with bot.runtime.db.session() as session:
        return int(session.execute(select(func.count()).select_from(ProcessedEvent)).scalar_one())


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda body: {"Content-Type": "application/x-www-form-urlencoded"}, id="no-signature-headers"),
        pytest.param(lambda body: signed_headers(body, secret="not-the-secret"), id="wrong-secret"),
        pytest.param(lambda body: signed_headers(body, timestamp=int(time.time()) - 301), id="stale-timestamp"),
        pytest.param(lambda body: signed_headers(body, timestamp=int(time.time()) + 301), id="future-timestamp"),
        pytest.param(
            lambda body: {**signed_headers(body), "X-Slack-Signature": slack_signature(SIGNING_SECRET, 1, body)},
            id="signature-for-other-timestamp",
        ),
        pytest.param(
            lambda body: {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Signature": slack_signature(SIGNING_SECRET, int(time.time()), body),
            },
            id="no-timestamp-header",
        ),
        pytest.param(
            lambda body: {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"},
            id="non-numeric-timestamp",
        ),
    ],
)
def test_unsigned_or_badly_signed_requests_get_401_and_change_nothing(slack_bot: SlackBot, make_headers) -> None:
    for body, content_type in (
        (slash_body(), "application/x-www-form-urlencoded"),
        (mention_body(), "application/json"),
    ):
        headers = make_headers(body)
        headers["Content-Type"] = content_type
        response = slack_bot.post(body, headers)
        assert response.status_code == 401, response.text
    time.sleep(0.3)  # anything wrongly dispatched would have called Slack by now
    assert [call.method for call in slack_bot.fake.calls if call.method != "auth.test"] == []
    assert processed_events(slack_bot) == 0


def test_body_tampered_after_signing_is_rejected(slack_bot: SlackBot) -> None:
    headers = signed_headers(slash_body("help"))
    response = slack_bot.post(slash_body("target set gmv 1 month"), headers)
    assert response.status_code == 401


def test_unparseable_unsigned_body_is_401_not_500(slack_bot: SlackBot) -> None:
    response = slack_bot.post("{not json", {"Content-Type": "application/json"})
    assert response.status_code == 401


def test_signed_but_unparseable_body_is_400(slack_bot: SlackBot) -> None:
    response = slack_bot.post_signed("{not json", content_type="application/json")
    assert response.status_code == 400


def test_correctly_signed_request_is_accepted(slack_bot: SlackBot) -> None:
    response = slack_bot.post_signed(slash_body("help"))
    assert response.status_code == 200


def test_url_verification_challenge_is_echoed(slack_bot: SlackBot) -> None:
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    response = slack_bot.post_signed(body, content_type="application/json")
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text
