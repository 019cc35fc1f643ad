"""A failed scheduled post is told to each admin through their own platform's outbox: admins named in
KPIBOT_ADMINS (`platform:ID`) and admin members with a chat identity on any configured platform."""

from __future__ import annotations

from datetime import UTC, datetime

from jobs.delivery import Deliverer, Outcome, RetryPolicy
from jobs.present.reply import Reply
from storage.db import Database
from storage.repositories import members as member_repo
from storage.repositories.ledger import DeliveryKey
from tests.fixtures_jobs import RecordingOutbox

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class NoDirectMessages(RecordingOutbox):
    def direct_channel(self, user_id: str) -> str | None:
        return None


def test_each_admin_is_told_on_their_own_platform(db: Database) -> None:
    with db.session() as session:
        boss = member_repo.ensure_member(session, "boss@shop.com")
        boss.is_admin = True
        member_repo.link_platform_id(session, boss, "feishu", "ou_boss")
        member_repo.link_platform_id(session, boss, "dingtalk", "0100")  # dingtalk not configured here
        member_repo.link_platform_id(session, member_repo.ensure_member(session, "anna"), "feishu", "ou_anna")
    slack = RecordingOutbox(platform="slack", fail_when="digest:", fail_times=None)
    feishu = RecordingOutbox(platform="feishu")
    deliverer = Deliverer(db, {"slack": slack, "feishu": feishu}, retry=RetryPolicy(()), clock=lambda: NOW,
                          admin_ids=["slack:UADMIN", "boss@shop.com"])
    result = deliverer.deliver(DeliveryKey("digest", "1", "2026-W47", "slack:C1"), lambda: Reply(title="Review"))
    assert result.outcome == Outcome.FAILED
    assert [s.channel for s in slack.sent] == ["UADMIN"]  # the Slack admin; never a note into the failing channel
    assert [s.channel for s in feishu.sent] == ["ou_boss"]  # anna is no admin
    assert "could not post the review digest" in (feishu.sent[0].reply.text or "")


def test_an_outbox_that_cannot_message_people_is_skipped(db: Database) -> None:
    deliverer = Deliverer(db, {"slack": NoDirectMessages()}, clock=lambda: NOW, admin_ids=["slack:UADMIN"])
    assert deliverer.admin_channels() == []
