"""Fan-out: `status` over six monitors whose fake backends answer after known delays.

Six real PrometheusMonitor adapters (renamed m50 ... m400) against six fake Prometheus servers
whose endpoints (targets-down query, alerts) answer after 50, 100, 150, 200, 300 and 400 ms;
the signed `status` goes through
the real app and pipeline (Quart test client, memory store). Reported: the reply's wall time
against the slowest delay (target <= 1.1x), then with the 400 ms backend hung, against
MONITOR_TIMEOUT_S.

Run: .venv/bin/python bench/fanout.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median
from bench.report import Options, Section
from bot.app import create_app
from dialogs.store import MemorySessionStore
from monitors.prometheus import PrometheusMonitor
from monitors.registry import Monitors
from tests.conftest import make_settings
from tests.fakes.server import FakeServer, Reply
from tests.phone import Phone

DELAYS_MS = (50, 100, 150, 200, 300, 400)
TIMEOUT_S = 1.0


def fake_prometheus(delay_s: float) -> FakeServer:
    server = FakeServer()
    server.routes[("GET", "/-/ready")] = lambda _req: Reply(200, "Prometheus is Ready.\n", delay_s=delay_s)
    server.routes[("GET", "/api/v1/status/buildinfo")] = lambda _req: Reply(
        200, {"status": "success", "data": {"version": "2.42.0"}}
    )
    # `status` asks each Prometheus for its targets down and its alerts, at the same delay.
    server.routes[("GET", "/api/v1/query")] = lambda _req: Reply(
        200, {"status": "success", "data": {"resultType": "vector", "result": []}}, delay_s=delay_s
    )
    server.routes[("GET", "/api/v1/alerts")] = lambda _req: Reply(
        200, {"status": "success", "data": {"alerts": []}}, delay_s=delay_s
    )
    return server


def named(delay_ms: int, url: str) -> PrometheusMonitor:
    cls = type(f"M{delay_ms}", (PrometheusMonitor,), {"name": f"m{delay_ms}"})
    settings = make_settings(prometheus_url=url, monitor_timeout_s=TIMEOUT_S)
    monitor = cls.from_settings(settings)
    assert monitor is not None
    return monitor


async def measure(repeat: int) -> dict[str, object]:
    with ExitStack() as stack:
        fakes = [stack.enter_context(fake_prometheus(d / 1000)) for d in DELAYS_MS]
        monitors = Monitors([named(d, f.url) for d, f in zip(DELAYS_MS, fakes, strict=True)])
        app = create_app(
            make_settings(rate_limit_per_min=100_000, sms_page_segments=4),
            store=MemorySessionStore(1800),
            monitors=monitors,
        )
        async with app.test_app():
            phone = Phone(app.test_client())

            async def timed() -> tuple[float, str]:
                start = time.perf_counter()
                reply = await phone.text("status")
                return time.perf_counter() - start, reply

            await timed()  # warm-up: connections, imports
            healthy = [await timed() for _ in range(repeat)]
            assert all(r.startswith("All clear: 6/6 sources ok") for _, r in healthy), healthy[0][1]
            fakes[-1].fault = "hang"
            hung = [await timed() for _ in range(repeat)]
            assert all("DOWN m400: timeout" in r for _, r in hung), hung[0][1]
    slowest = max(DELAYS_MS) / 1000
    t_ok = median([t for t, _ in healthy])
    t_hung = median([t for t, _ in hung])
    return {
        "delays_ms": list(DELAYS_MS),
        "repeat": repeat,
        "monitor_timeout_s": TIMEOUT_S,
        "healthy_reply_s": round(t_ok, 4),
        "healthy_ratio_vs_slowest": round(t_ok / slowest, 3),
        "sum_of_delays_s": sum(DELAYS_MS) / 1000,
        "hung_reply_s": round(t_hung, 4),
        "hung_ratio_vs_timeout": round(t_hung / TIMEOUT_S, 3),
        "sample_reply_hung": hung[0][1],
    }


def run(repeat: int) -> dict[str, object]:
    return asyncio.run(measure(repeat))


def section(opts: Options, repeat: int = 7) -> Section:
    fan = run(repeat)
    body = "\n".join(
        [
            f"`.venv/bin/python bench/fanout.py --repeat {repeat}`: six real Prometheus adapters against fakes "
            f"answering after {', '.join(str(d) for d in DELAYS_MS)} ms (sum {fan['sum_of_delays_s']} s), "
            f"signed `status` through "
            f"the app, median of {repeat}.",
            "",
            f"- all healthy: reply in {fan['healthy_reply_s']} s = **{fan['healthy_ratio_vs_slowest']}×** the slowest "
            "delay (target ≤ 1.1×)",
            f"- slowest backend hung, MONITOR_TIMEOUT_S={fan['monitor_timeout_s']}: reply in {fan['hung_reply_s']} s = "
            f"**{fan['hung_ratio_vs_timeout']}×** the timeout; the reply names it: "
            f"`{str(fan['sample_reply_hung']).splitlines()[1]}`",
        ]
    )
    rows = [
        ("`status` over six backends (50–400 ms) vs the slowest", f"**{fan['healthy_ratio_vs_slowest']}×**", "≤ 1.1×"),
        ("`status` with one backend hung vs MONITOR_TIMEOUT_S", f"**{fan['hung_ratio_vs_timeout']}×**", "≈ 1×"),
    ]
    return Section("Fan-out (`bench/fanout.py`)", body, rows, fan)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    print(json.dumps(run(parser.parse_args().repeat), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
