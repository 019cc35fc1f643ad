"""feishu_ack_p99: Feishu `im.message.receive_v1` events ("status", a direct chat), 50 at once, encrypted
and signed as Feishu sends them, into the real process (its own process: build_runtime +
build_http_app + ServerThread, Feishu in webhook mode against the fake Feishu Open API from
tests/fakes) on 127.0.0.1; latency = event posted → HTTP 200.

Baseline: a bare lark-oapi EventDispatcherHandler (same Encrypt Key and verification token, a no-op
message handler) on the same HTTP stack in its own process. Rounds of 50 concurrent events alternate
between the two; after each of our rounds every answer is awaited (the fake receives 50 replies), so
our answers never run into the baseline's round. The first rounds (connections, the tenant token,
contact look-ups) are not counted. value = our p99 in ms.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from typing import Any

from bench.attainment import sized
from bench.dataset import ack_workspace
from bench.harness import NotAvailable, Result, median, peak_rss_mb, percentile, say
from bench.server import FEISHU_ENCRYPT_KEY, FEISHU_SECRET, FEISHU_TOKEN, ServerProcess

CONCURRENCY = 50
TEXT = "status"
APP_ID = "cli_bench_feishu"


def run(options: Any) -> list[Result]:
    try:
        import bot.feishu  # noqa: F401
        from tests.fakes.feishu_api import FakeFeishu, encrypt, message_event, signed_headers
    except ImportError as exc:
        raise NotAvailable(f"the Feishu adapter or its fake ({exc.name}) is not importable") from None
    import httpx

    rounds = 4 if options.quick else 10
    warmup = 2
    facts = getattr(options, "ack_facts", 0)
    folder = ack_workspace("feishu-ack", facts)
    users = [f"ou_bench{number:05d}" for number in range(CONCURRENCY)]
    samples: dict[str, list[float]] = {"ours": [], "lark": []}
    failures: dict[str, int] = {"ours": 0, "lark": 0}
    answered = 0
    with FakeFeishu(app_id=APP_ID, app_secret=FEISHU_SECRET,
                    users={u: {"open_id": u, "name": u, "email": f"{u}@bench.shop"} for u in users}) as fake:
        ours = ServerProcess("kpibot", "--database", f"sqlite:///{folder / 'ack.db'}", "--feishu-api", fake.url,
                             "--feishu-app", APP_ID, "--outbox", str(folder / "outbox"))
        lark = ServerProcess("lark")

        def bodies(round_no: int) -> list[tuple[str, bytes, dict[str, str]]]:
            """Encrypted and signed before the clock starts (the client's work, not the server's)."""
            out = []
            for index, user in enumerate(users):
                event = message_event(TEXT, app_id=APP_ID, token=FEISHU_TOKEN, sender=user, chat_id=f"oc_{user}",
                                      chat_type="p2p", message_id=f"om_r{round_no}_{index}")
                body = json.dumps({"encrypt": encrypt(json.dumps(event, ensure_ascii=False),
                                                      FEISHU_ENCRYPT_KEY)}).encode()
                out.append((event["event"]["message"]["message_id"], body,
                            signed_headers(body, FEISHU_ENCRYPT_KEY)))
            return out

        with ours, lark:

            async def one_round(client: httpx.AsyncClient, url: str, round_no: int) -> list[tuple[float, int]]:
                prepared = bodies(round_no)

                async def one(body: bytes, headers: dict[str, str]) -> tuple[float, int]:
                    started = time.perf_counter()
                    response = await client.post(url, content=body, headers=headers)
                    return time.perf_counter() - started, response.status_code

                results = await asyncio.gather(*(one(body, headers) for _, body, headers in prepared))
                if url.startswith(ours.url):
                    nonlocal answered
                    for message_id, _, _ in prepared:
                        await asyncio.to_thread(fake.wait_for_reply, message_id, 60.0)
                        answered += 1
                return results

            async def drive() -> None:
                limits = httpx.Limits(max_connections=2 * CONCURRENCY, max_keepalive_connections=2 * CONCURRENCY,
                                      keepalive_expiry=2.0)
                async with httpx.AsyncClient(timeout=30, trust_env=False, limits=limits) as client:
                    for round_no in range(warmup + rounds):
                        order = [("ours", ours), ("lark", lark)]
                        for name, server in order if round_no % 2 == 0 else list(reversed(order)):
                            results = await one_round(client, server.url + "/feishu/events",
                                                      round_no * 2 + (name == "lark"))
                            if round_no < warmup:
                                continue
                            samples[name].extend(took for took, _ in results)
                            failures[name] += sum(1 for _, status in results if status != 200)

            say(f"  {warmup} warm-up + {rounds} rounds of {CONCURRENCY} concurrent encrypted, signed "
                f"im.message.receive_v1 events per server")
            asyncio.run(drive())
    shutil.rmtree(folder, ignore_errors=True)
    ours_ms = [s * 1000 for s in samples["ours"]]
    lark_ms = [s * 1000 for s in samples["lark"]]
    p99, lark_p99 = percentile(ours_ms, 99), percentile(lark_ms, 99)
    return [Result(
        name=sized("feishu_ack_p99", facts, default=0), value=round(p99, 1), unit="ms",
        baseline_name="bare_lark_dispatcher", baseline_value=round(lark_p99, 1), ratio=round(p99 / lark_p99, 2),
        params={"workspace": f"{facts:,} facts, 200 members" if facts else "10 members, 70 days (5.5k facts)",
                "concurrency": CONCURRENCY, "rounds": rounds, "requests": len(ours_ms), "event": f"p2p '{TEXT}'",
                "p50_ms": round(percentile(ours_ms, 50), 1), "lark_p50_ms": round(percentile(lark_ms, 50), 1),
                "max_ms": round(max(ours_ms), 1), "median_ms": round(median(ours_ms), 1),
                "answers_received": answered, "non_200": failures, "server_peak_rss_mb": ours.peak_rss_mb,
                "lark_peak_rss_mb": lark.peak_rss_mb, "client_peak_rss_mb": peak_rss_mb(),
                "peak_rss_is": "our server process"},
        peak_rss_mb=ours.peak_rss_mb,
    )]
