"""digest_fanout: 100 weekly digest subscriptions of one 10-member team, all due at the same minute,
sent by the scheduler's own path — DigestRunner.run_due → Deliverer (ledger claim, build, send, ledger
update) → FileOutbox (markdown + PNG charts) — with charts on. value = total seconds for the 100.

Baseline (chosen): building and writing ONE digest (build_digest + FileOutbox.send, no ledger) × 100,
the cost of 100 independent builds; measured in the same run, interleaved with the fan-out.
Half the subscriptions are English, half Chinese. Every repetition starts with an empty ledger.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.dataset import small_shop
from bench.harness import DATA_DIR, NotAvailable, Result, interleaved, median, peak_rss_mb, say, spread
from storage.db import Database

SUBSCRIPTIONS = 100
MEMBERS = 10
DUE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday: subscriptions are "weekly fri 09:00 UTC"
NOW = datetime(2026, 11, 20, 9, 1, tzinfo=UTC)


def workspace(folder: Path, subscriptions: int) -> Database:
    """The small shop (bench.dataset.small_shop) plus the subscriptions."""
    from storage.models import DigestSubscription

    db = small_shop(folder / "digest.db", MEMBERS)
    with db.session() as session:
        for number in range(subscriptions):
            session.add(DigestSubscription(
                platform="file", channel=f"C{number:03d}", cadence="weekly", day="fri", time="09:00",
                timezone="UTC", lang="zh" if number % 2 else "en", created_by="bench",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            ))
    return db


def run(options: Any) -> list[Result]:
    try:
        from jobs.delivery import Deliverer
        from jobs.digest import build_digest
        from jobs.digest.schedule import DigestRunner
        from jobs.outbox import FileOutbox
    except ImportError:
        raise NotAvailable("the digest and its scheduler (jobs/digest/, jobs/delivery.py) have not landed") from None
    from sqlalchemy import delete

    from storage.kpi.engine import KpiEngine
    from storage.kpi.registry import load_registry
    from storage.models import DeliveryLedger

    subscriptions = 10 if options.quick else SUBSCRIPTIONS
    folder = DATA_DIR / "scratch" / "digest"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db = workspace(folder, subscriptions)
    registry = load_registry(None)
    today = DUE.date()
    engine = KpiEngine(db, registry, tz=ZoneInfo("UTC"), week_start=0, today=lambda: today)
    outbox_dir = folder / "outbox"
    deliverer = Deliverer(db, {"file": FileOutbox(outbox_dir)})
    runner = DigestRunner(db, engine, registry, deliverer, currency="USD", default_timezone="UTC", charts=True,
                          clock=lambda: NOW)
    sent: list[int] = []

    def fan_out() -> None:
        results = runner.run_due(NOW)
        sent.append(sum(1 for r in results if r.outcome == "sent"))

    def one_digest() -> None:
        reply = build_digest(engine, registry, lang="en", currency="USD", cadence="weekly", today=today)
        FileOutbox(outbox_dir).send("single", reply, idempotency_key="single")

    def reset(_: str) -> None:
        with db.session() as session:
            session.execute(delete(DeliveryLedger))
        shutil.rmtree(outbox_dir, ignore_errors=True)

    reps = 1 if options.quick else 2
    say(f"  {subscriptions} subscriptions × 1 digest each, up to {reps} repetition(s)")
    times = interleaved({"fanout": fan_out, "single": one_digest}, reps=reps, warmup=0, before_each=reset,
                        budget_s=60.0)
    # More samples of the single build: it is the unit the baseline multiplies.
    times["single"] += interleaved({"single": one_digest}, reps=2 if options.quick else 6, warmup=0)["single"]
    if any(count != subscriptions for count in sent):
        raise RuntimeError(f"fan-out sent {sent} digests, expected {subscriptions} each time")
    charts = len(list((outbox_dir / "single").glob("*.png"))) if (outbox_dir / "single").exists() else 0
    value = median(times["fanout"])
    single = median(times["single"])
    baseline = single * subscriptions
    db.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return [Result(
        name="digest_fanout", value=round(value, 2), unit="s", baseline_name=f"one_digest_x{subscriptions}",
        baseline_value=round(baseline, 2), ratio=round(value / baseline, 2),
        params={"subscriptions": subscriptions, "members": MEMBERS, "langs": "half en, half zh", "charts": True,
                "charts_per_digest": charts, "one_digest_s": round(single, 3), "reps": len(times["fanout"]),
                "fanout_range_s": spread(times["fanout"]), "per_subscription_s": round(value / subscriptions, 3),
                "path": "DigestRunner.run_due → Deliverer → FileOutbox"},
        peak_rss_mb=peak_rss_mb(),
    )]
