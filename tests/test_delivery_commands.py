"""`digest sends` lists scheduled sends with their problems; `digest resend ID` (admins) sends a failed one
again, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.testing import TestAdapter
from jobs.delivery import Deliverer, RetryPolicy
from jobs.digest.schedule import DigestRunner
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.repositories import ledger
from storage.settings import Settings
from tests.conversation_fixture import conversation_team
from tests.delivery_fixtures import due_subscriptions
from tests.fixtures_jobs import RecordingOutbox


def test_history_lists_a_failed_send_and_an_admin_resends_it_once(
    db: Database, make_settings: Callable[..., Settings]
) -> None:
    chat: TestAdapter = conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))
    outbox = RecordingOutbox(fail_when="digest:", fail_times=4)  # the scheduled send fails all 4 attempts
    chat.core.outboxes["slack"] = outbox
    due_subscriptions(db, "slack", ["C0HIST01"])
    deliverer = Deliverer(db, {"slack": outbox}, retry=RetryPolicy((0.0, 0.0, 0.0)), sleep=lambda _: None)
    runner = DigestRunner(db, chat.core.engine, chat.core.registry, deliverer, currency="USD",
                          default_timezone="UTC", charts=False)
    runner.run_due(datetime.now(UTC))
    with db.session() as session:
        (row,) = ledger.entries(session, kind="digest")
    assert row.status == "failed"

    history = chat.ask("digest sends", as_user="hana")
    (table,) = history.tables
    assert table.rows[0][:5] == [f"#{row.id}", "digest", "slack:C0HIST01", row.period_key, "failed"]
    assert "platform unavailable (4)" in table.rows[0][6]
    assert "`digest resend ID`" in history.footnotes[0]
    assert chat.ask("周报 记录", as_user="hana").tables[0].rows[0][4] == "失败"

    refused = chat.ask(f"digest resend {row.id}", as_user="hana")
    assert refused.kind is ReplyKind.REFUSAL and outbox.sent == []

    done = chat.ask(f"digest resend {row.id}", as_user="boss")
    assert done.kind is ReplyKind.CONFIRMATION, done.text
    assert f"Send #{row.id} went out to slack:C0HIST01." == done.text
    assert [sent.channel for sent in outbox.sent] == ["C0HIST01"]
    again = chat.ask(f"digest resend {row.id}", as_user="boss")
    assert again.title == "Nothing to resend" and "is not a digest that failed or may be missing" in (again.text or "")
    assert len(outbox.sent) == 1
    with db.session() as session:
        assert ledger.by_id(session, row.id or 0).status == "sent"  # type: ignore[union-attr]  # the row exists: it was just resent
