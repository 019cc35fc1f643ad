"""When digests fire (triggers built from our rows) and how a due send is made exactly once, on a frozen clock."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from apscheduler.triggers.cron import CronTrigger

from jobs.delivery import Deliverer, Outcome
from jobs.digest.recent import RecentDigests
from jobs.digest.schedule import DigestRunner
from jobs.scheduler import crontab_trigger, crontab_weekdays, digest_trigger, fire_times, latest_fire_time
from storage.db import Database
from storage.repositories import ledger
from storage.repositories import subscriptions as subscription_repo
from tests.fixtures_jobs import RecordingOutbox, make_engine, subscribe, utc


def runner_for(db: Database, outbox: RecordingOutbox) -> DigestRunner:
    engine = make_engine(db)  # team timezone UTC, weeks from Monday; "today" follows the (frozen) clock
    return DigestRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}), currency="USD",
                        default_timezone="UTC", charts=False)


# --- triggers ------------------------------------------------------------------------------------------


def test_monday_nine_in_los_angeles_across_both_dst_changes() -> None:
    trigger = digest_trigger("weekly", "mon", "09:00", "America/Los_Angeles")
    # PDT (UTC−7) until Sunday Nov 1 2026, then PST (UTC−8): 09:00 local moves from 16:00 to 17:00 UTC.
    assert fire_times(trigger, utc(2026, 10, 20), utc(2026, 11, 10)) == [
        utc(2026, 10, 26, 16), utc(2026, 11, 2, 17), utc(2026, 11, 9, 17)]
    # PST → PDT on Sunday Mar 14 2027: back to 16:00 UTC.
    assert fire_times(trigger, utc(2027, 3, 1), utc(2027, 3, 16)) == [
        utc(2027, 3, 1, 17), utc(2027, 3, 8, 17), utc(2027, 3, 15, 16)]


def test_monday_nine_in_shanghai() -> None:
    trigger = digest_trigger("weekly", "Monday", "9:00", "Asia/Shanghai")
    assert fire_times(trigger, utc(2026, 11, 15), utc(2026, 11, 30, 12)) == [
        utc(2026, 11, 16, 1), utc(2026, 11, 23, 1), utc(2026, 11, 30, 1)]
    assert latest_fire_time(trigger, utc(2026, 11, 23, 0, 59)) == utc(2026, 11, 16, 1)
    assert latest_fire_time(trigger, utc(2026, 11, 23, 1)) == utc(2026, 11, 23, 1)


def test_monthly_trigger_days() -> None:
    first = digest_trigger("monthly", "1", "08:30", "UTC")
    assert fire_times(first, utc(2026, 11, 15), utc(2027, 1, 15)) == [utc(2026, 12, 1, 8, 30), utc(2027, 1, 1, 8, 30)]
    # 31 means the month's last day, so February and 30-day months still get their digest.
    last = digest_trigger("monthly", "31", "18:00", "UTC")
    assert fire_times(last, utc(2027, 1, 15), utc(2027, 4, 15)) == [
        utc(2027, 1, 31, 18), utc(2027, 2, 28, 18), utc(2027, 3, 31, 18)]
    with pytest.raises(ValueError, match="weekday name"):
        digest_trigger("weekly", "1", "09:00", "UTC")


def test_crontab_weekdays_use_crontab_numbering() -> None:
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("0") == crontab_weekdays("7") == "sun"
    assert crontab_weekdays("*/2") == "tue,thu,sat,sun"  # crontab days 0, 2, 4, 6
    assert crontab_weekdays("5-0") == "fri,sat,sun"
    assert crontab_weekdays("MON,wed") == "mon,wed"
    assert crontab_weekdays("*") == "*"


def test_crontab_trigger_fires_on_the_crontab_day_unlike_from_crontab() -> None:
    # "30 8 * * 1" is Monday 08:30 in crontab terms. Thursday Nov 19 2026 → next is Monday Nov 23.
    ours = crontab_trigger("30 8 * * 1", "Asia/Shanghai")
    assert ours.get_next_fire_time(None, utc(2026, 11, 19)) == utc(2026, 11, 23, 0, 30)
    theirs = CronTrigger.from_crontab("30 8 * * 1", timezone="Asia/Shanghai")
    assert theirs.get_next_fire_time(None, utc(2026, 11, 19)) == utc(2026, 11, 24, 0, 30)  # Tuesday: the trap
    with pytest.raises(ValueError, match="5 crontab fields"):
        crontab_trigger("0 * * *", "UTC")


# --- the job, driven by a frozen clock ------------------------------------------------------------------


def test_shanghai_subscription_sends_once_per_week(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    sub = subscribe(db, timezone="Asia/Shanghai", created_at=utc(2026, 11, 20))
    with time_machine.travel(utc(2026, 11, 23, 0, 59), tick=False):
        runner.run_scheduled(sub)  # a minute early; the fire time before (Nov 16) predates the subscription
    assert outbox.keys() == []
    with time_machine.travel(utc(2026, 11, 23, 1, 0), tick=False):  # Monday 09:00 CST
        runner.run_scheduled(sub)
        runner.run_scheduled(sub)  # a redelivered / doubled job
    with time_machine.travel(utc(2026, 11, 23, 1, 30), tick=False):
        runner.run_due()  # the minute sweep finds nothing left to do
    with time_machine.travel(utc(2026, 11, 30, 1, 0), tick=False):
        runner.run_scheduled(sub)
    assert outbox.keys() == ["digest:1:2026-W47:slack:C1", "digest:1:2026-W48:slack:C1"]
    assert outbox.sent[0].reply.title.startswith("Weekly review · week 47, 2026")


def test_los_angeles_subscription_across_dst(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    sub = subscribe(db, timezone="America/Los_Angeles", created_at=utc(2026, 10, 1))
    with time_machine.travel(utc(2026, 10, 26, 16, 0), tick=False):  # Monday 09:00 PDT
        runner.run_scheduled(sub)
        runner.run_scheduled(sub)
    with time_machine.travel(utc(2026, 11, 2, 16, 30), tick=False):  # 08:30 PST: not yet
        runner.run_scheduled(sub)
    assert outbox.keys() == ["digest:1:2026-W43:slack:C1"]
    with time_machine.travel(utc(2026, 11, 2, 17, 0), tick=False):  # 09:00 PST
        runner.run_scheduled(sub)
    assert outbox.keys() == ["digest:1:2026-W43:slack:C1", "digest:1:2026-W44:slack:C1"]


@pytest.mark.parametrize(("hours_late", "sent"), [(11, True), (13, False)])
def test_catch_up_window(db: Database, hours_late: int, sent: bool, caplog: pytest.LogCaptureFixture) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    subscribe(db, timezone="Asia/Shanghai", created_at=utc(2026, 11, 1))
    due = utc(2026, 11, 23, 1)  # Monday 09:00 in Shanghai
    with caplog.at_level(logging.WARNING), time_machine.travel(due + timedelta(hours=hours_late), tick=False):
        runner.run_due()  # what the scheduler does when it starts
        runner.run_due()
    assert outbox.keys() == (["digest:1:2026-W47:slack:C1"] if sent else [])
    with db.session() as session:
        (row,) = ledger.entries(session)
    assert row.status == ("sent" if sent else "missed")
    missed_logs = [r.message for r in caplog.records if "not sent" in r.message]
    if sent:
        assert missed_logs == []
    else:
        assert len(missed_logs) == 1
        assert "due 2026-11-23 09:00 Asia/Shanghai, 13.0 h before the scheduler could send it" in missed_logs[0]


def test_no_catch_up_for_a_time_before_the_subscription_existed(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    subscribe(db, timezone="Asia/Shanghai", created_at=utc(2026, 11, 23, 5))  # created 13:00 CST, after 09:00
    with time_machine.travel(utc(2026, 11, 23, 7), tick=False):
        assert runner.run_due() == []
    assert outbox.keys() == []


def test_inactive_subscription_is_not_sent(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    sub = subscribe(db, timezone="UTC", created_at=utc(2026, 11, 1))
    with db.session() as session:
        assert subscription_repo.deactivate_subscription(session, sub) is not None
        assert subscription_repo.deactivate_subscription(session, sub) is None
    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        assert runner.run(sub, utc(2026, 11, 23, 9)) is None
        assert runner.run_due() == []
    assert outbox.keys() == []


def test_monthly_subscription_reviews_the_previous_month(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    sub = subscribe(db, timezone="UTC", created_at=utc(2026, 10, 1), cadence="monthly", day="1", time="09:00")
    with time_machine.travel(utc(2026, 12, 1, 9), tick=False):
        result = runner.run(sub, utc(2026, 12, 1, 9))
    assert result is not None and result.outcome == Outcome.SENT
    assert outbox.keys() == ["digest:1:2026-11:slack:C1"]
    assert outbox.sent[0].reply.title == "Monthly review · November 2026"


def test_subscription_schedule_is_validated(db: Database) -> None:
    with db.session() as session, pytest.raises(ValueError, match="HH:MM"):
        subscription_repo.add_subscription(session, platform="slack", channel="C1", cadence="weekly", day="mon",
                                           time="25:00", timezone="UTC", lang="en", created_by="x")
    with db.session() as session, pytest.raises(ValueError, match="time zone"):
        subscription_repo.add_subscription(session, platform="slack", channel="C1", cadence="weekly", day="mon",
                                           time="09:00", timezone="Mars/Base", lang="en", created_by="x")
    with db.session() as session:
        sub = subscription_repo.add_subscription(session, platform="feishu", channel="oc_1", cadence="MONTHLY",
                                                 day="last", time="7:05", timezone="Asia/Shanghai", lang="zh",
                                                 created_by="x")
        assert (sub.cadence, sub.day, sub.time) == ("monthly", "last", "07:05")
    with db.session() as session:
        assert [s.platform for s in subscription_repo.list_subscriptions(session, platform="feishu")] == ["feishu"]
        assert subscription_repo.list_subscriptions(session, platform="slack") == []


# --- one build per distinct digest ----------------------------------------------------------------------


def test_channels_due_together_share_one_build_per_language(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    for channel, lang in [("C1", "en"), ("C2", "zh"), ("C3", "en"), ("C4", "en")]:
        subscribe(db, timezone="UTC", created_at=utc(2026, 11, 1), channel=channel, lang=lang)
    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        results = runner.run_due()
    assert [r.outcome for r in results] == [Outcome.SENT] * 4
    by_channel = {s.channel: s.reply for s in outbox.sent}
    assert sorted(by_channel) == ["C1", "C2", "C3", "C4"]
    # The three English channels got the very same reply object (built once); Chinese was built on its own.
    assert by_channel["C1"] is by_channel["C3"] is by_channel["C4"]
    assert by_channel["C2"] is not by_channel["C1"]
    assert by_channel["C2"].title.startswith("周复盘") and by_channel["C1"].title.startswith("Weekly review")
    with db.session() as session:
        assert sorted(row.status for row in ledger.entries(session)) == ["sent"] * 4  # one ledger row each


def test_cron_jobs_firing_at_once_wait_for_one_build(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    subs = [subscribe(db, timezone="UTC", created_at=utc(2026, 11, 1), channel=f"C{n}") for n in range(6)]
    now = utc(2026, 11, 23, 9)
    with time_machine.travel(now, tick=False):
        threads = [threading.Thread(target=runner.run, args=(sub, now)) for sub in subs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(outbox.sent) == 6
    assert len({id(s.reply) for s in outbox.sent}) == 1


def test_a_later_send_builds_afresh(db: Database) -> None:
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    early = subscribe(db, timezone="UTC", created_at=utc(2026, 11, 1), channel="C1", time="09:00")
    late = subscribe(db, timezone="UTC", created_at=utc(2026, 11, 1), channel="C2", time="09:10")
    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        runner.run(early, utc(2026, 11, 23, 9))
    with time_machine.travel(utc(2026, 11, 23, 9, 10), tick=False):  # 10 min later: past the 5 min reuse
        runner.run(late, utc(2026, 11, 23, 9, 10))
    first, second = outbox.sent
    assert first.reply is not second.reply
    assert first.reply.title == second.reply.title  # the same review week, built twice


def test_recent_digests_keep_no_failed_build() -> None:
    from jobs.present.reply import Reply

    recent = RecentDigests(ttl=timedelta(minutes=5))
    now = utc(2026, 11, 23, 9)

    def broken() -> Reply:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        recent.get("en", now, broken)
    built = Reply(title="Weekly review")
    assert recent.get("en", now, lambda: built) is built
    assert recent.get("en", now + timedelta(minutes=4), broken) is built  # reused: broken() not called
    with pytest.raises(RuntimeError):
        recent.get("en", now + timedelta(minutes=5), broken)  # expired: builds again
