"""A member's own weekly review (`digest subscribe me weekly …`, `digest subscribe @someone weekly …`) and a
shop's (`… shop:tiktok-us`), sent by the scheduler exactly once. Figures from tests/fixtures_jobs.py (today
Mon 2026-11-23: review W47 = Nov 16–22, previous W46 = Nov 9–15, pacing November through Nov 22), plus:

    alice (host), Nov 1–22 every day: live_sessions 2, live_viewers 1,000, watch_seconds 60,000, live_orders 40
      November targets: live_viewers_per_session 400, avg_watch_seconds 75, live_cvr 5 %
    shop tiktok-us (source tiktok-us) gmv: 150 a day Nov 1–15, 200 a day Nov 16–22; November target 9,000
"""

from __future__ import annotations

from datetime import date

import time_machine

from jobs.delivery import Deliverer
from jobs.digest import build_digest, collect_digest
from jobs.digest.schedule import DigestRunner
from jobs.digest.scoped import resolve_scope
from jobs.meetings.actions import create_action
from jobs.meetings.composite_radar import radar_values
from storage.db import Database
from storage.kpi.scope import Scope
from storage.repositories import subscriptions as subscription_repo
from storage.repositories.audit import Actor
from storage.repositories.facts import FactRecord, upsert_facts
from storage.repositories.targets import set_target
from tests.fixtures_jobs import NOVEMBER, TODAY, RecordingOutbox, days, make_engine, seed_review_fixture, utc

ADMIN = Actor("slack", "U0", "admin@example.com")


def seed(db: Database) -> None:
    seed_review_fixture(db)
    with db.session() as session:
        rows = []
        for day in days(date(2026, 11, 1), date(2026, 11, 22)):
            rows += [FactRecord("live_sessions", day, 2, member="alice"),
                     FactRecord("live_viewers", day, 1000, member="alice"),
                     FactRecord("watch_seconds", day, 60000, member="alice"),
                     FactRecord("live_orders", day, 40, member="alice"),
                     FactRecord("gmv", day, 200 if day >= date(2026, 11, 16) else 150, source="tiktok-us",
                                shop="tiktok-us")]
        upsert_facts(session, rows)
        for kpi, value in (("live_viewers_per_session", 400), ("avg_watch_seconds", 75), ("live_cvr", 0.05)):
            set_target(session, kpi, Scope.member("alice"), NOVEMBER, value, "test")
        set_target(session, "gmv", Scope.of_shop("tiktok-us"), NOVEMBER, 9000, "test")


def runner_for(db: Database, outbox: RecordingOutbox) -> DigestRunner:
    engine = make_engine(db)
    return DigestRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}), currency="USD",
                        default_timezone="UTC", charts=False)


def subscribe(db: Database, *, channel: str, lang: str = "en", direct: bool = False, scope_kind: str = "member",
              scope_key: str = "alice") -> int:
    with db.session() as session:
        sub = subscription_repo.add_subscription(
            session, platform="slack", channel=channel, cadence="weekly", day="mon", time="09:00", timezone="UTC",
            lang=lang, created_by="admin", direct=direct, scope_kind=scope_kind, scope_key=scope_key)
        sub.created_at = utc(2026, 11, 1)
        session.add(sub)
        session.flush()
        assert sub.id is not None
        return sub.id


def test_me_weekly_is_the_members_own_review_sent_once(db: Database) -> None:
    seed(db)
    at_review = make_engine(db, today=date(2026, 11, 10))
    mine = create_action(at_review, ADMIN, owner="alice", text="Two more live sessions a week", kpi_id="gmv",
                         now=utc(2026, 11, 10, 10))
    create_action(at_review, ADMIN, owner="bob", text="Call the supplier", now=utc(2026, 11, 10, 10))
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    sub = subscribe(db, channel="U_ALICE", direct=True)
    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        runner.run_due()
        runner.run_due()  # the sweep again, and the cron fire: still one send
        runner.run_scheduled(sub)
    assert outbox.keys() == [f"digest:{sub}:2026-W47:slack:U_ALICE"]
    reply = outbox.sent[0].reply
    assert reply.title == "Your weekly review · week 47, 2026 (Nov 16–Nov 22)"
    figures = {f.label: f.value for f in reply.figures}
    # Only her own action: bob's is not in her review.
    assert figures["Actions from last review"] == "1 open, 0 done, 0 overdue"
    actions = reply.tables[0]
    # alice's GMV W45 (the week before Nov 10) 7 × 800 = 5,600 → W47 7 × 1,000 = 7,000: +25.0 %
    assert actions.rows == [[str(mine.id), "Alice", "Two more live sessions a week", "—", "open",
                             "GMV $5,600 → $7,000 (+25.0%)"]]
    review = next(t for t in reply.tables if t.title == "Alice · week 47, 2026 (Nov 16–Nov 22)")
    rows = {row[0]: row[1:] for row in review.rows}
    # GMV W47 7,000 vs W46 7 × 800 = 5,600: +25.0 %; the week's target 30,000 × 7/30 = 7,000 → 100.0 %
    assert rows["GMV"][:4] == ["$7,000", "$5,600", "+25.0%", "100.0%"]
    # viewers per session 14,000 / 28 = 500 both weeks; target 400 → 125.0 %
    assert rows["Viewers per live session"][:4] == ["500", "500", "+0.0%", "125.0%"]
    pacing = next(t for t in reply.tables if t.title == "Alice pacing · November 2026 to date")
    pace = {row[0]: row for row in pacing.rows}
    # GMV Nov 1–22: 15 × 800 + 7 × 1,000 = 19,000 against 30,000 × 22/30 = 22,000 → pace 86.4 %
    assert "86.4%" in pace["GMV"]
    # Composite (host weights): 0.4 × 0.8636 + 0.2 × 1.25 (500/400) + 0.15 × 0.8 (60/75 s)
    #   + 0.25 × 0.8 (880 / 22,000 = 4.0 % against 5 %) = 0.3455 + 0.25 + 0.12 + 0.2 = 0.9155
    assert figures["Composite score · November 2026 to date"] == "91.5%"
    assert "Movers: the largest changes of Alice's KPIs" in " ".join(reply.footnotes)
    movers = next(t for t in reply.tables if t.title == "Biggest movers")
    assert movers.rows == [["Alice", "GMV", "$5,600", "$7,000", "+25.0%"]]  # the others did not move
    # Nobody else's rows: no role tables, no other member.
    assert not any("Bob" in " ".join(row) for table in reply.tables for row in table.rows)


def test_someone_weekly_in_a_channel_and_in_chinese(db: Database) -> None:
    seed(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    en = subscribe(db, channel="C_HOSTS")
    zh = subscribe(db, channel="C_ZH", lang="zh")
    with time_machine.travel(utc(2026, 11, 23, 9, 5), tick=False):
        runner.run_due()
    by_channel = {s.channel: s for s in outbox.sent}
    assert by_channel["C_HOSTS"].idempotency_key == f"digest:{en}:2026-W47:slack:C_HOSTS"
    assert by_channel["C_ZH"].idempotency_key == f"digest:{zh}:2026-W47:slack:C_ZH"
    assert by_channel["C_HOSTS"].reply.title == "Weekly review · Alice · week 47, 2026 (Nov 16–Nov 22)"
    zh_reply = by_channel["C_ZH"].reply
    assert zh_reply.title.startswith("周复盘 · Alice · ")
    figures = {f.label: f.value for f in zh_reply.figures}
    assert figures["综合得分 · 2026年11月至今"] == "91.5%"
    assert figures["上次复盘的行动项"] == "上次复盘没有约定行动项。"


def test_the_radar_shows_each_kpis_capped_pace(db: Database) -> None:
    seed(db)
    engine = make_engine(db, today=TODAY)
    who = resolve_scope(engine, engine.registry, "member", "alice", [], "en")
    data = collect_digest(engine, engine.registry, lang="en", stale_sources=[], who=who)
    axes, series = radar_values([(who.label, data.team_pacing)], "en")
    assert axes == ["GMV", "Viewers per live session", "Average watch time", "Live conversion rate"]
    # 19,000 / 22,000; 500 / 400; 60 / 75; 4.0 % / 5 %
    assert [round(v, 4) for v in series[0][1] if v is not None] == [0.8636, 1.25, 0.8, 0.8]
    reply = build_digest(engine, engine.registry, lang="en", currency="USD", who=who, personal=True)
    radar = next(c for c in reply.charts if c.name == "composite-radar.png")
    assert radar.png.startswith(b"\x89PNG") and radar.title == (
        "Alice · composite by KPI · November 2026 to date")


def test_a_shop_digest_reads_only_that_shops_facts_and_targets(db: Database) -> None:
    seed(db)
    outbox = RecordingOutbox()
    runner = runner_for(db, outbox)
    sub = subscribe(db, channel="C_TIKTOK", scope_kind="shop", scope_key="tiktok-us")
    with time_machine.travel(utc(2026, 11, 23, 9), tick=False):
        runner.run_due()
        runner.run_scheduled(sub)
    assert outbox.keys() == [f"digest:{sub}:2026-W47:slack:C_TIKTOK"]
    reply = outbox.sent[0].reply
    assert reply.title == "Weekly review · tiktok-us · week 47, 2026 (Nov 16–Nov 22)"
    review = next(t for t in reply.tables if t.title == "tiktok-us · week 47, 2026 (Nov 16–Nov 22)")
    gmv = next(row for row in review.rows if row[0] == "GMV")
    # The shop's own GMV: W47 7 × 200 = 1,400 vs W46 7 × 150 = 1,050 → +33.3 %; its week target
    # 9,000 × 7/30 = 2,100 → 1,400 / 2,100 = 66.7 %
    assert gmv[1:5] == ["$1,400", "$1,050", "+33.3%", "66.7%"]
    pacing = next(t for t in reply.tables if t.title == "tiktok-us pacing · November 2026 to date")
    # Nov 1–22: 15 × 150 + 7 × 200 = 3,650 against 9,000 × 22/30 = 6,600 → 55.3 %
    assert "55.3%" in next(row for row in pacing.rows if row[0] == "GMV")
    # No member tables, no actions (they belong to people), no team-wide "nothing unusual" claim
    assert not any(t.title and "attainment" in t.title for t in reply.tables)
    assert "Actions from last review" not in {f.label for f in reply.figures}
    assert not any("Nothing unusual" in note for note in reply.footnotes)
