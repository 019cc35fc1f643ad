"""ack_latency_p99: `/kpi status` slash commands, 50 at once, signed as Slack signs them, into the real
process (its own process: build_runtime + build_http_app + ServerThread, Slack configured against the
fake Slack Web API from tests/fakes) on 127.0.0.1; latency = until the HTTP ack arrives.

Baseline: a bare Bolt App whose /kpi listener acks at once, on the same HTTP stack in its own process.
Rounds of 50 concurrent requests alternate between the two; the first rounds (connections, users.info
caches) are not counted. value = our p99 in ms.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from typing import Any
from urllib.parse import urlencode

from bench.attainment import sized
from bench.dataset import ack_workspace
from bench.harness import NotAvailable, Result, median, peak_rss_mb, percentile, say
from bench.server import SIGNING_SECRET, ServerProcess

CONCURRENCY = 50
TEXT = "status"


def slash_body(user_id: str, response_url: str, number: int) -> str:
    return urlencode({
        "token": "legacy-verification-token", "team_id": "T0KPI", "team_domain": "kpitest",
        "channel_id": "C0SALES1", "channel_name": "sales", "user_id": user_id, "user_name": user_id.lower(),
        "command": "/kpi", "text": TEXT, "api_app_id": "A0KPI", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"{number}.738474920.8088930838d88f008e0",
    })


async def one_round(client: Any, url: str, users: list[str], fake: Any, signed_headers: Any,
                    round_no: int) -> list[tuple[float, int, bool]]:
    """50 requests at once; (seconds, status, answered in the ack) for each."""

    async def one(index: int) -> tuple[float, int, bool]:
        body = slash_body(users[index], fake.response_url(f"r{round_no}-{index}"), round_no * 1000 + index)
        headers = signed_headers(body, secret=SIGNING_SECRET)
        started = time.perf_counter()
        response = await client.post(url, content=body.encode(), headers=headers)
        took = time.perf_counter() - started
        answered = response.status_code == 200 and "Working on it" not in response.text
        return took, response.status_code, answered

    return await asyncio.gather(*(one(i) for i in range(len(users))))


def run(options: Any) -> list[Result]:
    try:
        import bot.slack  # noqa: F401
        from tests.fakes.slack_api import FakeSlack, signed_headers
    except ImportError as exc:
        raise NotAvailable(f"the Slack adapter or its fake ({exc.name}) is not importable") from None
    import httpx

    rounds = 4 if options.quick else 10
    warmup = 2
    facts = getattr(options, "ack_facts", 0)  # the attainment workspace (200 members, 2 years) when set
    folder = ack_workspace("ack", facts)
    samples: dict[str, list[float]] = {"ours": [], "bolt": []}
    failures: dict[str, int] = {"ours": 0, "bolt": 0}
    late = answered_in_ack = 0
    with FakeSlack() as fake:
        users = [f"U{number:07d}" for number in range(CONCURRENCY)]
        for user in users:
            fake.add_user(user, email=f"{user.lower()}@bench.shop", name=user.lower())
        ours = ServerProcess("kpibot", "--database", f"sqlite:///{folder / 'ack.db'}", "--slack-api", fake.api_url,
                             "--outbox", str(folder / "outbox"))
        bolt = ServerProcess("bolt", "--slack-api", fake.api_url)
        with ours, bolt:

            async def drive() -> None:
                nonlocal late, answered_in_ack
                # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout closes them
                # under us (a reused, just-closed connection fails with ReadError).
                limits = httpx.Limits(max_connections=2 * CONCURRENCY, max_keepalive_connections=2 * CONCURRENCY,
                                      keepalive_expiry=2.0)
                async with httpx.AsyncClient(timeout=30, trust_env=False, limits=limits) as client:
                    for round_no in range(warmup + rounds):
                        order = [("ours", ours), ("bolt", bolt)]
                        for name, server in order if round_no % 2 == 0 else reversed(order):
                            results = await one_round(client, server.url + "/slack/events", users, fake,
                                                      signed_headers, round_no)
                            if round_no < warmup:
                                continue
                            samples[name].extend(took for took, _, _ in results)
                            failures[name] += sum(1 for _, status, _ in results if status != 200)
                            if name == "ours":
                                ok = [answered for _, status, answered in results if status == 200]
                                answered_in_ack += sum(ok)
                                late += len(ok) - sum(ok)

            say(f"  {warmup} warm-up + {rounds} rounds of {CONCURRENCY} concurrent signed /kpi {TEXT} per server")
            asyncio.run(drive())
    shutil.rmtree(folder, ignore_errors=True)
    ours_ms = [s * 1000 for s in samples["ours"]]
    bolt_ms = [s * 1000 for s in samples["bolt"]]
    p99, bolt_p99 = percentile(ours_ms, 99), percentile(bolt_ms, 99)
    return [Result(
        name=sized("ack_latency_p99", facts, default=0), value=round(p99, 1), unit="ms",
        baseline_name="bare_bolt_ack",
        baseline_value=round(bolt_p99, 1), ratio=round(p99 / bolt_p99, 2),
        params={"workspace": f"{facts:,} facts, 200 members" if facts else "10 members, 70 days (5.5k facts)",
                "concurrency": CONCURRENCY, "rounds": rounds, "requests": len(ours_ms), "command": f"/kpi {TEXT}",
                "p50_ms": round(percentile(ours_ms, 50), 1), "bolt_p50_ms": round(percentile(bolt_ms, 50), 1),
                "max_ms": round(max(ours_ms), 1), "median_ms": round(median(ours_ms), 1),
                "acked_with_answer": answered_in_ack, "acked_working_on_it": late,
                "non_200": failures, "server_peak_rss_mb": ours.peak_rss_mb, "bolt_peak_rss_mb": bolt.peak_rss_mb,
                "client_peak_rss_mb": peak_rss_mb(), "peak_rss_is": "our server process"},
        peak_rss_mb=ours.peak_rss_mb,
    )]
