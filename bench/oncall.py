"""The on-call loop under load: webhook → Twilio latency at a steady rate, and a 10,000-alert storm.

One `operator serve` process (hypercorn, one worker), a private redis-server, and a fake Twilio
Messages API in this process that stamps each request's arrival on this process's monotonic
clock, the same clock that stamps each webhook POST. All loopback, all bounded.

1. Latency: RATE alerts/s for DURATION seconds, one alert per webhook POST (Alertmanager's
   worst case), PAGE_BUNDLE_S=0 and an unlimited budget so every alert is paged at once.
   Measured per alert: POST sent → its page's POST reaches the Messages API. p50/p99, lost.
2. Storm: 10,000 alerts in webhooks of 100 (Alertmanager batches a group), PAGE_BUNDLE_S=5 (so a
   one-minute run sees a dozen bundle windows) and the default budget of 20 segments per number
   per hour, a chain of three numbers, watched for OBSERVE seconds. Counted: SMS and segments per
   number against the budget, the webhook's ingest rate, time until every alert is decided, the
   server's CPU seconds and peak RSS, Redis's peak memory.

Run: .venv/bin/python bench/oncall.py [--rate 200] [--duration 10] [--storm 10000] [--readme]
(about 2 minutes; --readme refreshes README's on-call figures). bench/run_all.py runs it too.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import OPERATOR, ROOT, TOKEN, flush_redis, free_port, machine, operator_env, redis_server, spawn
from bench.report import Options, Section
from tests.fakes.server import Reply, Request
from tests.fakes.twilio import ACCOUNT_SID, FROM_NUMBER, TwilioFake

WEBHOOK_TOKEN = "bench-webhook-token-0123456789"  # noqa: S105 - loopback only
CHAIN = ("+14155551000", "+14155551001", "+14155551002")


class TimedTwilio(TwilioFake):
    """The fake Messages API, stamping when each create arrived (monotonic, this process)."""

    def __init__(self) -> None:
        super().__init__(ACCOUNT_SID, TOKEN)
        self.arrived: list[tuple[float, str, str]] = []  # (when, to, body)
        self._lock = threading.Lock()
        create = self.routes[("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")]

        def timed(req: Request) -> Reply:
            now = time.monotonic()
            form = {k: v[0] for k, v in req.form().items()}
            with self._lock:
                self.arrived.append((now, form.get("To", ""), form.get("Body", "")))
            return create(req)

        self.routes[("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")] = timed


def alert(name: str, subject: str = "api-3") -> dict[str, Any]:
    labels = {"alertname": name, "instance": subject, "severity": "critical"}
    fp = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {},
        "fingerprint": fp,
        "startsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
    }


def webhook(*alerts: dict[str, Any]) -> bytes:
    return json.dumps(
        {"version": "4", "groupKey": "{}:{}", "status": "firing", "receiver": "operator", "alerts": list(alerts)}
    ).encode()


HEADERS = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}


def serve_env(redis_url: str, twilio: TwilioFake, **extra: str) -> dict[str, str]:
    return operator_env(
        REDIS_URL=redis_url,
        ALERT_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_URL=twilio.url,
        **extra,
    )


def proc_usage(pid: int) -> tuple[float, float]:
    """(CPU seconds user+system, peak RSS MiB) of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
    return cpu, int(hwm.split()[1]) / 1024


def redis_peak_mib(url: str) -> float:
    port = url.rsplit(":", 1)[1].split("/")[0]
    out = subprocess.run(["redis-cli", "-p", port, "info", "memory"], capture_output=True, text=True, check=True)
    peak = next(line for line in out.stdout.splitlines() if line.startswith("used_memory_peak:"))
    return int(peak.split(":")[1]) / 2**20


async def _latency(base: str, twilio: TimedTwilio, rate: int, duration_s: int) -> dict[str, Any]:
    """Post the alerts on schedule; what was sent when."""
    sent: dict[str, float] = {}
    errors = 0
    total = rate * duration_s
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64), timeout=10) as client:

        async def post(i: int) -> None:
            nonlocal errors
            name = f"Lat{i:06d}"
            sent[name] = time.monotonic()
            response = await client.post(base + "/alertmanager", content=webhook(alert(name)), headers=HEADERS)
            errors += response.status_code != 200

        start = time.monotonic()
        tasks = []
        for i in range(total):  # paced by absolute schedule, so a slow answer does not slow the rate
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(i)))
        await asyncio.gather(*tasks)
        offered_s = time.monotonic() - start
    return {"sent": sent, "errors": errors, "offered_s": offered_s}


def latency(base: str, twilio: TimedTwilio, rate: int, duration_s: int) -> dict[str, Any]:
    run = asyncio.run(_latency(base, twilio, rate, duration_s))
    sent, errors, offered_s, total = run["sent"], run["errors"], run["offered_s"], rate * duration_s
    deadline = time.monotonic() + 120  # lost = never reached Twilio within two minutes of the last POST
    while len(twilio.arrived) < total and time.monotonic() < deadline:
        time.sleep(0.1)
    named = [(when, name) for when, _, body in twilio.arrived for name in re.findall(r"\bLat\d{6}\b", body)]
    got: dict[str, float] = {}
    for when, name in named:  # an alert named in a bundle counts as delivered too
        got.setdefault(name, when)
    latencies = sorted((got[n] - t) * 1000 for n, t in sent.items() if n in got)
    pages = [name for _, name in named]
    return {
        "alerts": total,
        "offered_per_s": round(total / offered_s, 1),
        "http_errors": errors,
        "paged": len(latencies),
        "lost": total - len(latencies),
        "duplicated": len(pages) - len(set(pages)),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
    }


async def _storm(base: str, count: int, redis_url: str) -> dict[str, Any]:
    batch = 100
    async with httpx.AsyncClient(timeout=30) as client:
        start = time.monotonic()
        sem = asyncio.Semaphore(8)

        async def post(first: int) -> int:
            body = webhook(*(alert(f"Storm{i:05d}", f"host-{i % 50}") for i in range(first, first + batch)))
            async with sem:
                return (await client.post(base + "/alertmanager", content=body, headers=HEADERS)).status_code

        codes = await asyncio.gather(*(post(i) for i in range(0, count, batch)))
        ingest_s = time.monotonic() - start
    return {
        "alerts": count,
        "webhooks": len(codes),
        "http_errors": sum(c != 200 for c in codes),
        "ingest_alerts_per_s": round(count / ingest_s),
        "started": start,
    }


def storm_run(base: str, count: int, redis_url: str) -> dict[str, Any]:
    result = asyncio.run(_storm(base, count, redis_url))
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # decided: every event acknowledged (and deleted) by the deciders
        left = subprocess.run(
            ["redis-cli", "-p", port, "xlen", "operator:{oc}:ev"], capture_output=True, text=True, check=True
        ).stdout.strip()
        if left == "0":
            break
        time.sleep(0.2)
    result["decided_s"] = round(time.monotonic() - result.pop("started"), 1)
    return result


def run(rate: int, duration_s: int, storm: int, observe_s: float = 60) -> dict[str, Any]:
    results: dict[str, Any] = {"load_average_at_start": round(os.getloadavg()[0], 1)}
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as redis_url, TimedTwilio() as twilio:
        port = free_port()
        env = serve_env(
            redis_url,
            twilio,
            ONCALL_NUMBERS=CHAIN[0],
            PAGE_BUNDLE_S="0",
            PAGE_BUDGET_PER_HOUR="100000000",
            ESCALATE_AFTER_S="3600",
        )
        proc = spawn(
            "serve-latency", [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)], Path(tmp), port, env
        )
        try:
            results["latency"] = latency(proc.base, twilio, rate, duration_s)
        finally:
            proc.stop()
        errors = [line for line in proc.log.read_text(errors="replace").splitlines() if " ERROR " in line]
        results["latency"]["server_errors"] = len(errors)
        if errors:
            print("server errors (first 5):", *errors[:5], sep="\n", file=sys.stderr)
        flush_redis(redis_url)
        twilio.arrived.clear()
        port = free_port()
        env = serve_env(redis_url, twilio, ONCALL_NUMBERS=",".join(CHAIN), PAGE_BUNDLE_S="5")  # budget: 20/h
        proc = spawn(
            "serve-storm", [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)], Path(tmp), port, env
        )
        try:
            started = time.monotonic()
            storm_result = storm_run(proc.base, storm, redis_url)
            time.sleep(max(0.0, observe_s - (time.monotonic() - started)))  # bundles and the budget notice go out
            cpu_s, rss_mib = proc_usage(proc.proc.pid)
        finally:
            proc.stop()
        per_number = {n: sum(1 for _, to, _ in twilio.arrived if to == n) for n in CHAIN}
        segments = {
            n: sum(1 if len(b) <= 160 else -(-len(b) // 153) for _, to, b in twilio.arrived if to == n) for n in CHAIN
        }
        storm_result.update(
            {
                "sms_per_number": per_number,
                "segments_per_number": segments,
                "budget_per_number": 20,
                "observed_s": observe_s,
                "server_cpu_s": round(cpu_s, 1),
                "server_peak_rss_mib": round(rss_mib),
                "redis_peak_mib": round(redis_peak_mib(redis_url), 1),
                "last_sms": next((b for _, to, b in reversed(twilio.arrived) if to == CHAIN[0]), ""),
            }
        )
        results["storm"] = storm_result
    return results


def markdown(results: dict[str, Any], rate: int, duration_s: int) -> str:
    lat, storm = results["latency"], results["storm"]
    return "\n".join(
        [
            f"Generated by `.venv/bin/python bench/oncall.py --rate {rate} --duration {duration_s} "
            f"--storm {storm['alerts']}` on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}. Machine: {machine()}, load average "
            f"{results['load_average_at_start']} at start (the machine is shared: absolute figures are noisy).",
            "",
            "| webhook → Messages API | alerts | offered/s | p50 ms | p99 ms | lost | duplicated | HTTP errors |",
            "|---|---|---|---|---|---|---|---|",
            f"| one alert per webhook, paged at once | {lat['alerts']} | {lat['offered_per_s']} | {lat['p50_ms']} | "
            f"{lat['p99_ms']} | {lat['lost']} | {lat['duplicated']} | {lat['http_errors']} |",
            "",
            "| storm | alerts | ingest alerts/s | all decided after s | SMS (segments) to each number in "
            f"{storm['observed_s']:g} s, budget 20 segments/h | server CPU s | server peak RSS MiB | Redis peak MiB |",
            "|---|---|---|---|---|---|---|---|",
            f"| webhooks of 100, 3-number chain | {storm['alerts']} | {storm['ingest_alerts_per_s']} | "
            f"{storm['decided_s']} | "
            + " / ".join(f"{storm['sms_per_number'][n]} ({storm['segments_per_number'][n]})" for n in CHAIN)
            + f" | {storm['server_cpu_s']} | {storm['server_peak_rss_mib']} | {storm['redis_peak_mib']} |",
            "",
            f"Last SMS of the storm to the primary: `{storm['last_sms']}`",
        ]
    )


def readme_rows(results: dict[str, Any], rate: int) -> list[tuple[str, str, str]]:
    lat, storm = results["latency"], results["storm"]
    primary = CHAIN[0]
    return [
        (
            f"on-call: webhook → Twilio request, {rate} alerts/s offered ({lat['offered_per_s']}/s reached), "
            "p50 / p99; lost / duplicated",
            f"**{lat['p50_ms']} / {lat['p99_ms']} ms**; {lat['lost']} / {lat['duplicated']}",
            "0 lost / 0 duplicated",
        ),
        (
            f"on-call: {storm['alerts']:,}-alert storm, SMS (segments) to the primary in {storm['observed_s']:g} s",
            f"**{storm['sms_per_number'][primary]} ({storm['segments_per_number'][primary]})**, server "
            f"{storm['server_cpu_s']} CPU s, {storm['server_peak_rss_mib']} MiB peak RSS",
            f"≤ {storm['budget_per_number']} segments/h",
        ),
    ]


def section(opts: Options, rate: int = 200, duration_s: int = 10, storm: int = 10_000) -> Section:
    results = run(rate, duration_s, storm)
    return Section(
        "On-call loop (`bench/oncall.py`)", markdown(results, rate, duration_s), readme_rows(results, rate), results
    )


def write_readme(results: dict[str, Any], rate: int, duration_s: int) -> None:
    """Fill README's on-call figures block with this run."""
    start, end = "<!-- oncall-bench:start -->", "<!-- oncall-bench:end -->"
    readme = ROOT / "README.md"
    text = readme.read_text()
    head, rest = text.split(start, 1)
    rows = "\n".join(f"| {what} | {figure} | {target} |" for what, figure, target in readme_rows(results, rate))
    block = f"{markdown(results, rate, duration_s)}\n\n| what | figure | target |\n|---|---|---|\n{rows}"
    readme.write_text(f"{head}{start}\n{block}\n{end}{rest.split(end, 1)[1]}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--storm", type=int, default=10_000)
    parser.add_argument("--observe", type=float, default=60)
    parser.add_argument("--readme", action="store_true", help="write the figures into README.md's on-call block")
    args = parser.parse_args()
    results = run(args.rate, args.duration, args.storm, args.observe)
    print(json.dumps(results, indent=2))
    print()
    print(markdown(results, args.rate, args.duration))
    if args.readme:
        write_readme(results, args.rate, args.duration)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
