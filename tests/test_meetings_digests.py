"""Daily, weekly (with actions) and monthly (with the flywheel) digests from one database, each subscription
in its own time zone, each send exactly once. Figures from tests/fixtures_jobs.py (see its table)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from jobs.delivery import Deliverer
from jobs.digest.schedule import DigestRunner
from jobs.meetings.actions import create_action, due_period
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.repositories import actions as action_repo
from storage.repositories import subscriptions as subscription_repo
from storage.repositories.audit import Actor
from tests.fixtures_jobs import RecordingOutbox, make_engine, seed_review_fixture, utc

ADMIN = Actor("slack", "U0", "admin@example.com")


def runner_for(db: Database, outbox: RecordingOutbox) -> DigestRunner:
    engine = make_engine(db)  # team timezone UTC; "today" follows the frozen clock
    return DigestRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}), currency="USD",
                        default_timezone="UTC", charts=False)


def add_sub(db: Database, created_at, **fields) -> int:
    with db.session() as session:
        sub = subscription_repo.add_subscription(session, platform="slack", created_by="admin", lang="en", **fields)
        sub.created_at = created_at
        session.add(sub)
        session.flush()
        assert sub.id is not None
        return sub.id


def test_daily_shanghai_and_weekly_los_angeles_across_dst_from_one_database(db: Database) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    daily = add_sub(db, utc(2026, 10, 20), channel="C1", cadence="daily", day="", time="09:00",
                    timezone="Asia/Shanghai")
    weekly = add_sub(db, utc(2026, 10, 26), channel="C2", cadence="weekly", day="mon", time="09:00",
                     timezone="America/Los_Angeles")
    steps = [
        utc(2026, 10, 26, 1),  # Mon 09:00 CST: daily for Sun Oct 25; LA's Oct 19 predates its subscription
        utc(2026, 10, 26, 16),  # Mon 09:00 PDT (UTC−7): weekly for W43
        utc(2026, 11, 2, 1),  # Mon 09:00 CST: daily for Nov 1 (LA changed to PST on Nov 1)
        utc(2026, 11, 2, 16, 30),  # 08:30 PST: the weekly is not due yet
        utc(2026, 11, 2, 17),  # 09:00 PST (UTC−8): weekly for W44
    ]
    for now in steps:
        with time_machine.travel(now, tick=False):
            runner.run_due()
            runner.run_scheduled(daily)  # a doubled cron fire changes nothing
            runner.run_scheduled(weekly)
    assert outbox.keys() == [
        f"digest:{daily}:2026-10-25:slack:C1", f"digest:{weekly}:2026-W43:slack:C2",
        f"digest:{daily}:2026-11-01:slack:C1", f"digest:{weekly}:2026-W44:slack:C2",
    ]
    # The daily digests missed in between (Oct 27 – Nov 1) were each more than 12 h late when the next step
    # ran, so they are recorded as missed, not sent.
    assert outbox.sent[0].reply.title == "Daily report · 2026-10-25"
    assert outbox.sent[1].reply.title.startswith("Weekly review · week 43, 2026")


def test_daily_report_figures(db: Database) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    add_sub(db, utc(2026, 11, 1), channel="C1", cadence="daily", day="", time="09:00", timezone="Asia/Shanghai",
            kpis=["gmv"])
    with time_machine.travel(utc(2026, 11, 23, 1), tick=False):  # Mon Nov 23 09:00 CST → report on Sun Nov 22
        runner.run_due()
    reply = outbox.sent[0].reply
    assert reply.title == "Daily report · 2026-11-22"
    day, mtd = reply.tables
    # Nov 22: 1000 + 450 + 300 = 1,750; Nov 21 the same (+0.0 %); Sun Nov 15: 800 + 500 + 300 = 1,600 →
    # 1750 / 1600 − 1 = +9.4 %
    assert day.rows == [["GMV", "$1,750", "$1,750", "+0.0%", "$1,600", "+9.4%"]]
    # Month to date Nov 1–22: 36,250 against 45,000 × 22/30 = 33,000 → pace 109.8 %
    assert mtd.rows == [["GMV", "$36.2K", "109.8%", "on track"]]


def test_personal_daily_report_for_a_member(db: Database) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    add_sub(db, utc(2026, 11, 1), channel="U_ALICE", cadence="daily", day="", time="08:00", timezone="UTC",
            direct=True, scope_kind="member", scope_key="alice")
    with time_machine.travel(utc(2026, 11, 23, 8), tick=False):
        runner.run_due()
    reply = outbox.sent[0].reply
    assert outbox.sent[0].channel == "U_ALICE" and reply.title == "Your daily report · 2026-11-22"
    day = reply.tables[0]
    assert day.title == "Alice · 2026-11-22"
    # Alice is a host: her KPIs are the host's; GMV Nov 22 1,000, Nov 21 1,000, Nov 15 800 → +25.0 %
    assert day.rows[0] == ["GMV", "$1,000", "$1,000", "+0.0%", "$800", "+25.0%"]


def test_an_action_is_carried_into_the_next_digests(db: Database) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    add_sub(db, utc(2026, 11, 1), channel="C1", cadence="weekly", day="mon", time="09:00", timezone="UTC")
    at_review = make_engine(db, today=date(2026, 11, 10))
    w46 = due_period(Calendar(0), "W46", date(2026, 11, 10))
    raise_gmv = create_action(at_review, ADMIN, owner="alice", text="Two more live sessions a week", kpi_id="gmv",
                              due=w46, now=utc(2026, 11, 10, 10))
    # Baseline: alice's GMV in W45 (Nov 2–8) = 7 × 800 = 5,600
    assert (raise_gmv.kpi_baseline, raise_gmv.kpi_baseline_period) == (5600, "2026-W45")
    follow_up = create_action(at_review, ADMIN, owner="bob", text="Call the supplier", now=utc(2026, 11, 10, 10))
    old = create_action(at_review, ADMIN, owner="bob", text="Old idea", now=utc(2026, 11, 10, 10))
    with db.session() as session:
        action_repo.close_action(session, ADMIN, follow_up.id, status="done", now=utc(2026, 11, 20), note="ok")
        action_repo.close_action(session, ADMIN, old.id, status="dropped", now=utc(2026, 11, 12))

    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        runner.run_due()
    reply = outbox.sent[0].reply
    assert (reply.figures[0].label, reply.figures[0].value) == ("Actions from last review",
                                                                "0 open, 1 done, 1 overdue")
    actions = reply.tables[0]
    assert actions.title == "Actions from last review"
    # The dropped one was closed before the reviewed week began (Nov 16): not shown.
    # alice's GMV W47 = 7 × 1000 = 7,000 against 5,600 → +25.0 %
    assert actions.rows == [
        [str(raise_gmv.id), "Alice", "Two more live sessions a week", "2026-W46", "overdue",
         "GMV $5,600 → $7,000 (+25.0%)"],
        [str(follow_up.id), "Bob", "Call the supplier", "—", "done", "—"],
    ]

    with db.session() as session:
        action_repo.close_action(session, ADMIN, raise_gmv.id, status="done", now=utc(2026, 11, 24))
    with time_machine.travel(utc(2026, 11, 30, 9), tick=False):
        runner.run_due()
    again = outbox.sent[1].reply.tables[0]
    # W48 review: alice's item closed on Nov 24 is shown done; bob's (closed Nov 20, before W48) is gone.
    assert [(row[0], row[4]) for row in again.rows] == [(str(raise_gmv.id), "done")]


def test_monthly_digest_has_the_flywheel(db: Database) -> None:
    seed_review_fixture(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    add_sub(db, utc(2026, 10, 1), channel="C1", cadence="monthly", day="1", time="09:00", timezone="UTC")
    with time_machine.travel(utc(2026, 12, 1, 9), tick=False):
        runner.run_due()
    reply = outbox.sent[0].reply
    assert reply.title == "Monthly review · November 2026"
    wheel = next(t for t in reply.tables if t.title and t.title.startswith("Growth flywheel"))
    assert wheel.columns == ["KPI", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]
    rows = {row[0]: row[1:] for row in wheel.rows}
    # November: orders 70 / clicks 1,400 = 5.0 %; AOV = GMV 36,250 / 70 orders = $517.86; earlier months empty
    assert rows["Order conversion"] == ["—"] * 5 + ["5.0%"]
    assert rows["Average order value"][-1] == "$517.86"
    assert rows["NPS"] == ["—"] * 6  # no NPS answers: missing, not 0


def test_subscription_scope_and_kpis_are_checked(db: Database) -> None:
    with db.session() as session, pytest.raises(ValueError, match="scope must be one of"):
        subscription_repo.add_subscription(session, platform="slack", channel="C1", cadence="daily", day="",
                                           time="09:00", timezone="UTC", lang="en", created_by="x", scope_kind="x")
    with db.session() as session, pytest.raises(ValueError, match="needs one"):
        subscription_repo.add_subscription(session, platform="slack", channel="C1", cadence="daily", day="",
                                           time="09:00", timezone="UTC", lang="en", created_by="x", scope_kind="role")


def test_a_missed_digest_is_told_to_admins_in_chat_once(db: Database) -> None:
    outbox = RecordingOutbox()
    engine = make_engine(db)
    runner = DigestRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}, admin_ids=["slack:UADMIN"]),
                          currency="USD", default_timezone="UTC", charts=False)
    sub = add_sub(db, utc(2026, 11, 1), channel="C1", cadence="weekly", day="mon", time="09:00",
                  timezone="Asia/Shanghai")
    # Due Mon Nov 23 09:00 CST (01:00 UTC); the scheduler comes back 13 h later: beyond the 12 h catch-up
    with time_machine.travel(utc(2026, 11, 23, 14), tick=False):
        runner.run_due()
        runner.run_due()
    assert [s.channel for s in outbox.sent] == ["UADMIN"]  # no digest; one notice to the admin
    notice = outbox.sent[0]
    assert notice.idempotency_key == f"digest_missed:{sub}:2026-W47:slack:UADMIN"
    assert notice.reply.title == "Scheduled digest missed"
    assert "slack:C1 (2026-W47) was not sent" in notice.reply.text and "13.0 h" in notice.reply.text
