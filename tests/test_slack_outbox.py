"""SlackOutbox (what scheduled jobs post through): blocks, charts via files_upload_v2, 429, pacing."""

from __future__ import annotations

import pytest

from bot.slack.blocks import fallback_text
from jobs.outbox import Outbox
from jobs.present.reply import Chart, Figure, Mark, Reply, ReplyKind, Table
from tests.fakes.slack_api import SlackBot

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

PNG_A = b"\x89PNG\r\n\x1a\n" + b"chart-a" * 300
PNG_B = b"\x89PNG\r\n\x1a\n" + b"chart-b" * 500


@pytest.fixture
def outbox(slack_bot: SlackBot) -> Outbox:
    box = slack_bot.runtime.outbox_for("slack")
    assert box is not None and box.platform == "slack"
    return box


def digest(charts: list[Chart] | None = None) -> Reply:
    return Reply(
        title="Weekly review 2026-W47",
        kind=ReplyKind.NOTICE,
        mark=Mark.AT_RISK,
        figures=[Figure("GMV", "$812.4K", Mark.AT_RISK), Figure("Attainment", "81.2%")],
        tables=[
            Table(
                columns=["member", "GMV", "att."],
                rows=[["ada", "$400K", "95.0%"], ["mo", "$412K", "70.1%"]],
                marks=[Mark.ON_TRACK, Mark.OFF_TRACK],
                title="Hosts",
            )
        ],
        footnotes=["data through 2026-11-22"],
        charts=charts or [],
        public=True,
    )


def test_send_posts_blocks_with_text_fallback_and_returns_ts(slack_bot: SlackBot, outbox: Outbox) -> None:
    reply = digest()
    ts = outbox.send("C0DIGEST1", reply, idempotency_key="digest:1:2026-W47:slack:C0DIGEST1")
    [posted] = slack_bot.fake.calls_to("chat.postMessage")
    assert posted.params["channel"] == "C0DIGEST1"
    assert posted.params["text"] == fallback_text(reply)
    assert posted.params["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🟡 Weekly review 2026-W47", "emoji": True},
    }
    assert ts and ts.startswith(tuple("0123456789"))
    assert slack_bot.fake.calls_to("files.getUploadURLExternal") == []


def test_send_with_charts_uploads_them_with_files_upload_v2(slack_bot: SlackBot, outbox: Outbox) -> None:
    charts = [Chart("gmv-pace.png", PNG_A, "GMV pace"), Chart("hosts.png", PNG_B, "Hosts")]
    outbox.send("C0DIGEST1", digest(charts))
    methods = [call.method for call in slack_bot.fake.calls if call.method != "auth.test"]
    assert methods == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "files.getUploadURLExternal",
        "upload",
        "upload",
        "files.completeUploadExternal",
    ]
    get_urls = slack_bot.fake.calls_to("files.getUploadURLExternal")
    assert [(c.params["filename"], int(c.params["length"])) for c in get_urls] == [
        ("gmv-pace.png", len(PNG_A)),
        ("hosts.png", len(PNG_B)),
    ]
    uploads = slack_bot.fake.calls_to("upload")
    assert [u.body for u in uploads] == [PNG_A, PNG_B]
    [complete] = slack_bot.fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0DIGEST1"
    assert [(f["id"], f["title"]) for f in complete.json_param("files")] == [
        (uploads[0].params["file_id"], "GMV pace"),
        (uploads[1].params["file_id"], "Hosts"),
    ]
    assert slack_bot.fake.uploads == {u.params["file_id"]: u.body for u in uploads}


def test_rate_limited_chat_post_is_retried_after_retry_after_and_lands_once(
    slack_bot: SlackBot, outbox: Outbox
) -> None:
    slack_bot.fake.rate_limit_next("chat.postMessage")
    ts = outbox.post("C0DIGEST2", digest())
    first, second = slack_bot.fake.calls_to("chat.postMessage")
    assert second.at - first.at >= 1.0  # Retry-After: 1
    assert first.params == second.params
    assert ts  # the answer of the one accepted post


def test_rate_limited_scheduled_send_raises_throttled_with_the_advertised_wait(
    slack_bot: SlackBot, outbox: Outbox
) -> None:
    """The deliverer waits it out (exactly, without spending an attempt): the outbox must not retry early."""
    from jobs.delivery import Throttled

    slack_bot.fake.rate_limit_next("chat.postMessage")
    with pytest.raises(Throttled) as raised:
        outbox.send("C0DIGEST2", digest())
    assert raised.value.retry_after == 1.0  # Retry-After: 1
    assert len(slack_bot.fake.calls_to("chat.postMessage")) == 1
    assert outbox.send("C0DIGEST2", digest())


def test_sends_to_one_channel_are_paced(slack_bot: SlackBot, outbox: Outbox) -> None:
    outbox.send("C0PACED01", digest())
    outbox.send("C0OTHER01", digest())
    outbox.send("C0PACED01", digest())
    posts = slack_bot.fake.calls_to("chat.postMessage")
    same = [call.at for call in posts if call.params["channel"] == "C0PACED01"]
    other = next(call.at for call in posts if call.params["channel"] == "C0OTHER01")
    assert same[1] - same[0] >= 0.95
    assert other - same[0] < 0.5  # another channel does not wait


def test_slack_error_is_raised_to_the_job(slack_bot: SlackBot, outbox: Outbox) -> None:
    slack_bot.fake.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(Exception, match="channel_not_found"):
        outbox.send("C0DIGEST3", digest())
    assert slack_bot.fake.calls_to("files.getUploadURLExternal") == []
