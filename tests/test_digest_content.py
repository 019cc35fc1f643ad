"""The weekly review digest's figures, computed by hand from tests/fixtures_jobs.py (see its table)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event

from jobs.digest import build_digest, build_weekly_digest, collect_digest, write_demo_digest
from jobs.digest.data import review_periods
from jobs.present.reply import Mark
from storage.db import Database
from storage.kpi.attainment import Status
from storage.kpi.periods import Calendar
from storage.repositories import members as member_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import TODAY, days, make_engine, seed_review_fixture

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def engine(db: Database):
    seed_review_fixture(db)
    return make_engine(db, today=TODAY)


def test_review_periods_are_the_last_complete_week_and_its_month() -> None:
    review, pacing = review_periods(Calendar(0), "weekly", TODAY)
    assert (review.key, review.start, review.end) == ("2026-W47", date(2026, 11, 16), date(2026, 11, 22))
    assert pacing.key == "2026-11"
    # A Sunday week start moves the week: Sun Nov 15 – Sat Nov 21.
    review, _ = review_periods(Calendar(6), "weekly", TODAY)
    assert (review.start, review.end) == (date(2026, 11, 15), date(2026, 11, 21))
    # Monthly: the last complete month, paced within its quarter.
    review, pacing = review_periods(Calendar(0), "monthly", date(2026, 12, 1))
    assert (review.key, pacing.key) == ("2026-11", "2026-Q4")


def test_team_headline_week_over_week_and_pacing(engine) -> None:
    data = collect_digest(engine, engine.registry, lang="en", stale_sources=[])
    gmv_week = next(st for st in data.team_review if st.kpi.id == "gmv")
    # W47: alice 7×1000 + bob 7×450 + shop 7×300 = 7000 + 3150 + 2100 = 12,250
    # W46: alice 7×800  + bob 7×500 + shop 7×300 = 5600 + 3500 + 2100 = 11,200
    assert gmv_week.actual == pytest.approx(12250)
    assert gmv_week.previous_actual == pytest.approx(11200)
    assert gmv_week.change == pytest.approx(1050 / 11200)  # +9.375 %
    # Week target prorated from November's 45,000: 45000 × 7/30 = 10,500 → 12250 / 10500 = 116.7 %
    assert gmv_week.attainment == pytest.approx(12250 / 10500)
    gmv_month = next(st for st in data.team_pacing if st.kpi.id == "gmv")
    # Nov 1–22: alice 15×800 + 7×1000 = 19,000; bob 15×500 + 7×450 = 10,650; shop 22×300 = 6,600 → 36,250
    assert gmv_month.actual == pytest.approx(36250)
    # Pace: 36250 / (45000 × 22/30 = 33,000) = 109.8 % → on track
    assert gmv_month.pace_attainment == pytest.approx(36250 / 33000)
    assert gmv_month.status == Status.ON_TRACK
    assert data.data_through == date(2026, 11, 22)


def test_members_attainment_at_risk_list_and_run_rates(db: Database, engine) -> None:
    with db.session() as session:  # an ops manager without rows of her own: her role gets no table
        member_repo.assign_role(session, member_repo.ensure_member(session, "hana"), "ops_manager")
    data = collect_digest(engine, engine.registry, lang="en", stale_sources=[])
    hosts = next(role for role in data.roles if role.role.id == "host")
    week = {score.member: score.statuses[0] for score in hosts.review}  # GMV is the host's first KPI
    # alice: 7,000 against 30000 × 7/30 = 7,000 → 100 %; bob: 3,150 against 15000 × 7/30 = 3,500 → 90 % (= warn)
    assert week["alice"].attainment == pytest.approx(1.0)
    assert week["bob"].attainment == pytest.approx(0.9)
    assert week["bob"].status == Status.AT_RISK
    assert [role.role.id for role in data.roles] == ["host", "ad_buyer"]  # roles without member data are left out

    risks = [(item.who, item.status.kpi.id, item.status.status) for item in data.at_risk]
    assert risks == [("alice", "gmv", Status.OFF_TRACK), ("bob", "gmv", Status.AT_RISK)]
    alice, bob = data.at_risk
    # alice MTD 19,000 against 30000 × 22/30 = 22,000 → pace 86.4 %; needs (30000 − 19000) / 8 days = 1,375 a day
    assert alice.status.pace_attainment == pytest.approx(19000 / 22000)
    assert alice.status.run_rate == pytest.approx(1375)
    # bob MTD 10,650 against 15000 × 22/30 = 11,000 → 96.8 %; needs (15000 − 10650) / 8 = 543.75 a day
    assert bob.status.pace_attainment == pytest.approx(10650 / 11000)
    assert bob.status.run_rate == pytest.approx(543.75)


def test_biggest_movers_rank_by_size_of_change(engine) -> None:
    data = collect_digest(engine, engine.registry, lang="en", stale_sources=[])
    movers = [(m.who, m.kpi.id, round(m.change, 4)) for m in data.movers]
    # carol ad spend 700 → 1050 = +50 %; team MER (gmv / ad_spend) 11200/700 = 16.0 → 12250/1050 = 11.667
    # = −27.08 %; alice GMV 5600 → 7000 = +25 %; bob GMV −10 % and the team's GMV +9.375 % are left out;
    # carol's ROAS has no ad_gmv rows (no data, no change).
    assert movers == [("carol", "ad_spend", 0.5), ("", "mer", round(11.6667 / 16 - 1, 4)), ("alice", "gmv", 0.25)]
    assert [m.improved for m in data.movers] == [True, False, True]


def test_funnel_rates_against_thresholds(engine) -> None:
    data = collect_digest(engine, engine.registry, lang="en", stale_sources=[])
    stages = [(s.metric, s.value, s.rate, s.below_threshold) for s in data.funnel]
    # W47: impressions 70,000 → clicks 1,400 (2 %) → add to cart 280 (20 % > 15 %) → orders 70 (25 % < 30 %)
    assert stages == [
        ("impressions", 70000, None, False),
        ("clicks", 1400, pytest.approx(0.02), False),
        ("add_to_cart", 280, pytest.approx(0.20), False),
        ("orders", 70, pytest.approx(0.25), True),
        ("paid_orders", None, None, False),  # no rows: missing, not a 0 % payment rate
    ]
    # Scores: clicks 2 % / 1 % × 100 = 200 → capped 120; add to cart 20/15 × 100 = 133 → 120; orders 25/30 × 100 = 83.3
    assert [s.score for s in data.funnel] == [None, 120, 120, pytest.approx(83.333, abs=0.001), None]
    assert data.funnel_review.leak.metric == "orders"


def test_stale_source_is_named(engine) -> None:
    data = collect_digest(engine, engine.registry, lang="en")
    # "sheet" last delivered Nov 20: older than today (Nov 23) minus the default 2-day lag; the others have Nov 22.
    assert data.stale_sources == ["sheet"]


def test_english_reply_shows_the_figures(engine) -> None:
    reply = build_weekly_digest(engine, engine.registry, lang="en", currency="USD", with_charts=False)
    text = reply.plain_text()
    assert reply.title == "Weekly review · week 47, 2026 (Nov 16–Nov 22)"
    assert reply.mark == Mark.ON_TRACK  # team GMV month-to-date pace 109.8 %
    assert "+9.4%" in text and "116.7%" in text and "109.8%" in text
    risk = next(t for t in reply.tables if t.title and t.title.startswith("At risk"))
    assert risk.rows[0][:2] == ["Alice", "GMV"] and "$1,375" in risk.rows[0] and "86.4%" in risk.rows[0]
    assert risk.rows[1][:2] == ["Bob", "GMV"] and "$543.75" in risk.rows[1]
    hosts = next(t for t in reply.tables if t.title and t.title.startswith("Live host"))
    assert hosts.rows[0][:2] == ["Alice", "100.0% 🟢"] and hosts.rows[1][:2] == ["Bob", "90.0% 🟡"]
    movers = next(t for t in reply.tables if t.title == "Biggest movers")
    assert movers.columns[2:4] == ["W46", "W47"]
    assert [row[-1] for row in movers.rows] == ["+50.0%", "-27.1%", "+25.0%"]  # see test_biggest_movers…
    assert "Data through 2026-11-22" in reply.footnotes
    assert any("sheet" in note for note in reply.footnotes)


def test_chinese_reply(engine) -> None:
    reply = build_weekly_digest(engine, engine.registry, lang="zh", currency="USD", with_charts=False)
    assert reply.title == "周复盘 · 2026年第47周（11/16–11/22）"
    text = reply.plain_text()
    assert "有风险或落后" in text and "落后" in text and "数据截至 2026-11-22" in text
    assert "数据源 sheet 更新滞后" in text


def test_charts_are_pngs(engine) -> None:
    reply = build_weekly_digest(engine, engine.registry, lang="zh", currency="USD")
    # No ad-buyer chart: carol has no targets, so there is no attainment to draw.
    assert [c.name for c in reply.charts] == ["attainment-host.png", "gmv-pace.png", "funnel.png"]
    assert all(chart.png.startswith(PNG_SIGNATURE) for chart in reply.charts)


def test_monthly_digest_reviews_last_month(engine) -> None:
    reply = build_digest(engine, engine.registry, lang="en", currency="USD", cadence="monthly",
                         today=date(2026, 12, 1), with_charts=False, stale_sources=[])
    assert reply.title == "Monthly review · November 2026"


def test_file_outbox_digest_writes_markdown_and_pngs(engine, tmp_path: Path) -> None:
    folder = write_demo_digest(engine, engine.registry, tmp_path / "demo", "en", "USD")
    assert write_demo_digest(engine, engine.registry, tmp_path / "demo", "zh", "USD") == folder == tmp_path / "demo"
    assert sorted(p.name for p in folder.glob("*.md")) == ["digest-2026-W47-en.md", "digest-2026-W47-zh.md"]
    for lang, heading in (("en", "# Weekly review · week 47, 2026"), ("zh", "# 周复盘 · 2026年第47周")):
        text = (folder / f"digest-2026-W47-{lang}.md").read_text(encoding="utf-8")
        assert text.startswith(heading)
        # Tables are Markdown tables: a header row, an alignment row, then the rows (the mark first)
        team_header = "| KPI | W47 | W46 | Change | Attainment | Status |" if lang == "en" else None
        if team_header:
            at = text.index(team_header)
            # figures right-aligned, names and statuses left
            assert text[at:].split("\n")[1] == "| --- | ---: | ---: | ---: | ---: | --- |"
            assert "| 🟢 GMV | $12.2K | $11.2K | +9.4% | 116.7% | on track |" in text
        pngs = sorted(p.name for p in folder.glob(f"*-{lang}.png"))
        assert pngs == [f"attainment-host-{lang}.png", f"funnel-{lang}.png", f"gmv-pace-{lang}.png"]
        assert all((folder / name).read_bytes().startswith(PNG_SIGNATURE) for name in pngs)
        assert all(f"]({name})" in text for name in pngs)


def test_queries_do_not_grow_with_members_or_days(db: Database, engine) -> None:
    def count_queries() -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            collect_digest(engine, engine.registry, lang="en", stale_sources=[])
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    before = count_queries()
    with db.session() as session:
        records = []
        for index in range(20):
            key = f"host{index}"
            member_repo.assign_role(session, member_repo.ensure_member(session, key), "host")
            records += [FactRecord("gmv", day, 100 + index, member=key)
                        for day in days(date(2026, 10, 1), date(2026, 11, 22))]
        upsert_facts(session, records)
    assert count_queries() == before
    # Team: 2 × engine.statuses (≤ 4 each); per role ≤ 5 per member_scores — once for a role without members,
    # three times (week, previous week, month) for one with members; then the pace series and the funnel.
    roles_with_members = 2
    assert before <= 2 * 4 + 5 * (len(engine.registry.roles) + 2 * roles_with_members) + 2
