"""Scale-out: two `operator serve` processes, one Redis, 200 senders each running a logs dialog.

Every sender texts `logs`, then its service, then its window; its three messages alternate
between the two processes (A B A or B A B), as a load balancer without affinity would send
them. A fake Loki (started here) holds one error line per service naming it. Counted:
    lost        a message without its expected reply (HTTP error, empty, wrong dialog step)
    crossed     a reply naming another sender's service
    duplicated  a dialog whose logs query ran more than once (from the fake's request log)
Then the same workload against one process, for throughput (messages/s) as a ratio.

Run: .venv/bin/python bench/scaleout.py [--senders 200] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    OPERATOR,
    ROOT,
    Proc,
    flush_redis,
    free_port,
    operator_env,
    redis_server,
    senders,
    signed_form,
    spawn,
    twilio_form,
)
from tests.fakes.loki import Entry, LokiFake
from tests.phone import reply_text

SERVICES = [f"svc{i:02d}" for i in range(20)]
WINDOWS = {"15m": "15m", "1h": "1h", "6h": "6h", "24h": "24h"}


def service_of(i: int) -> str:
    return SERVICES[i % len(SERVICES)]


def window_of(i: int) -> str:
    return list(WINDOWS)[i % len(WINDOWS)]


async def dialog(client: httpx.AsyncClient, bases: list[str], i: int, number: str, run_id: str,
                 gate: asyncio.Semaphore) -> dict[str, int]:
    steps = [("logs", r"^Logs for which service\?"), (service_of(i), rf"^{service_of(i)}: which window\?"),
             (window_of(i), rf"^{service_of(i)}, last ")]
    tally = Counter[str]()
    async with gate:
        for k, (text, expected) in enumerate(steps):
            base = bases[(i + k) % len(bases)]
            sig, body = signed_form(twilio_form(number, text, f"SM{run_id}{i:06d}{k}"))
            try:
                r = await client.post(base + "/sms", content=body, headers={
                    "X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"})
                reply = reply_text(r.text) if r.status_code == 200 else ""
            except httpx.HTTPError:
                reply = ""
            tally["messages"] += 1
            named = set(re.findall(r"svc\d\d", reply)) - ({service_of(i)} if k else set())
            if k and named:
                tally["crossed"] += 1
            if not re.search(expected, reply):
                tally["lost"] += 1
                break
            if k == 2 and f"ERROR {service_of(i)} " not in reply:
                tally["lost"] += 1
    return tally


async def workload(bases: list[str], count: int, concurrency: int, run_id: str) -> tuple[Counter[str], float]:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=20, limits=limits) as client:
        start = time.perf_counter()
        tallies = await asyncio.gather(*(dialog(client, bases, i, n, run_id, gate)
                                         for i, n in enumerate(senders(count))))
        elapsed = time.perf_counter() - start
    total = Counter[str]()
    for t in tallies:
        total.update(t)
    return total, elapsed


def run(count: int = 200, concurrency: int = 32) -> dict[str, object]:
    now = time.time_ns()
    entries = [Entry({"service": s}, now - 30 * 10**9, f"ERROR {s} marker line") for s in SERVICES]
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp, LokiFake(entries) as loki:
        work = Path(tmp)
        with redis_server(work) as url:
            env = operator_env(REDIS_URL=url, AUTHORIZED_NUMBERS=",".join(senders(count)), LOKI_URL=loki.url,
                               LOG_SERVICES=",".join(SERVICES), RATE_LIMIT_PER_MIN="1000", PYTHONPATH=str(ROOT),
                               SMS_PAGE_SEGMENTS="4")
            procs: list[Proc] = []
            try:
                for name in ("a", "b"):
                    port = free_port()
                    procs.append(spawn(name, [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                       work, port, env))
                bases = [p.base for p in procs]
                asyncio.run(workload(bases, 8, 4, "warm"))  # warm-up: pools, imports
                results = {}
                for label, targets in (("two", bases), ("one", bases[:1])):
                    flush_redis(url)
                    before = len([r for r in loki.requests if r.path == "/loki/api/v1/query_range"])
                    tally, elapsed = asyncio.run(workload(targets, count, concurrency, f"{label}{now:x}"))
                    queries = len([r for r in loki.requests if r.path == "/loki/api/v1/query_range"]) - before
                    results[label] = {
                        "processes": len(targets), "dialogs": count, "messages": tally["messages"],
                        "lost": tally["lost"], "crossed": tally["crossed"],
                        "duplicated": max(0, queries - (count - tally["lost"])), "logs_queries": queries,
                        "seconds": round(elapsed, 3), "messages_per_s": round(tally["messages"] / elapsed, 1),
                    }
                    print(label, results[label], flush=True)
            finally:
                for p in procs:
                    p.stop()
    ratio = results["two"]["messages_per_s"] / results["one"]["messages_per_s"]  # type: ignore[operator]
    return {"results": results, "throughput_two_vs_one": round(ratio, 3), "concurrency": concurrency}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(run(args.senders, args.concurrency), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
