"""`alert add gmv unusual`: one message per unusual day, through the ledger, never twice."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine

from jobs.alerts import AlertRunner
from jobs.delivery import Deliverer
from storage.db import Database
from storage.repositories import alerts as alert_repo
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fixtures_jobs import RecordingOutbox, make_engine, utc

MONDAY = date(2026, 11, 23)


def test_an_unusual_alert_fires_once_per_unusual_day(db: Database) -> None:
    # 8 Mondays of team GMV: 1,000 1,040 960 1,020 980 1,010 990 1,000 → median 1,000, MAD 15;
    # Mon Nov 23: 1,600 → z = 0.6745 · 600 / 15 = +27.0; Tue Nov 24: no history → nothing
    rows = [FactRecord("gmv", MONDAY - timedelta(weeks=w), v, source="shop")
            for w, v in enumerate([1_000, 1_040, 960, 1_020, 980, 1_010, 990, 1_000], start=1)]
    rows += [FactRecord("gmv", MONDAY, 1_600, source="shop"), FactRecord("gmv", MONDAY + timedelta(days=1), 900,
                                                                          source="shop")]
    with db.session() as session:
        upsert_facts(session, rows)
    outbox = RecordingOutbox()
    engine = make_engine(db)
    runner = AlertRunner(db, engine, engine.registry, Deliverer(db, {"slack": outbox}), currency="USD")
    with time_machine.travel(utc(2026, 11, 23, 8), tick=False), db.session() as session:
        alert_repo.add_rule(session, kpi="gmv", scope_kind="team", scope_key="", mode="unusual", op=">=",
                            threshold=3.5, days=1, channel="slack:C9", lang="zh", created_by="admin")

    def evaluate(*moment: int) -> list[str]:
        with time_machine.travel(utc(*moment), tick=False):
            return [event.kind for event in runner.evaluate_all()]

    assert evaluate(2026, 11, 23, 10) == []  # Monday is not complete yet
    assert evaluate(2026, 11, 24, 10) == ["alert"]
    assert evaluate(2026, 11, 24, 11) == []  # the same day again: the ledger already has it
    assert evaluate(2026, 11, 25, 10) == []  # Tuesday is usual (no history at all)
    [sent] = outbox.sent
    assert sent.reply.title == "GMV 异常 · 团队 · 2026-11-23"
    assert [(f.label, f.value) for f in sent.reply.figures] == [
        ("数值", "$1,600"), ("正常范围", "$922.16 – $1,077.84"), ("z", "+27.0")]
