"""Monitors misbehave (hung, slow, 5xx, garbage, reset, refused) behind the real adapters: `status`
stays bounded by MONITOR_TIMEOUT_S, names each culprit with the reason of its own fault, the
healthy backend still answers other commands, and nothing leaks over many such requests.

The monitors are built from settings by the registry, as `operator serve` builds them.
Timeouts are generous (1 s) so that on a loaded machine only the hung and slow backends
time out, and every other reason can be asserted exactly."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from quart import Quart

from bot.config import Settings
from dialogs.store import MemorySessionStore
from monitors.prometheus import PrometheusMonitor
from monitors.registry import Monitors
from tests.apps import SmsApp
from tests.conftest import make_settings
from tests.fakes.loki import Entry, LokiFake
from tests.fakes.server import FakeServer, Reply, closed_port_url
from tests.phone import NUMBERS, Phone

TIMEOUT_S = 1.0
STATS = "/stats;csv"
LOKI_LINE = "ERROR card declined by the issuer"


@dataclass
class Backends:
    """One fake per adapter; each but Loki is put into its own failure mode (Kong: nothing listens)."""

    prometheus: FakeServer
    alertmanager: FakeServer
    elasticsearch: FakeServer
    datadog: FakeServer
    haproxy: FakeServer
    loki: LokiFake

    def settings(self, **overrides: object) -> Settings:
        return make_settings(**self.values(**overrides))

    def values(self, **overrides: object) -> dict[str, object]:
        return dict(
            prometheus_url=self.prometheus.url,
            alertmanager_url=self.alertmanager.url,
            elasticsearch_url=self.elasticsearch.url,
            datadog_api_url=self.datadog.url,
            datadog_api_key="k",
            datadog_app_key="a",
            haproxy_stats_url=self.haproxy.url + STATS,
            loki_url=self.loki.url,
            kong_admin_url=closed_port_url(),
            log_services="api",
            monitor_timeout_s=TIMEOUT_S,
            rate_limit_per_min=100_000,
            **overrides,
        )


def slow(delay_s: float) -> Reply:
    return Reply(200, "slow", delay_s=delay_s)


@pytest.fixture
def backends() -> Iterator[Backends]:
    with ExitStack() as stack:
        servers = [stack.enter_context(FakeServer()) for _ in range(5)]
        loki = stack.enter_context(LokiFake([Entry({"service": "api"}, time.time_ns() - 60 * 10**9, LOKI_LINE)]))
        b = Backends(*servers, loki)  # type: ignore[arg-type]
        b.prometheus.fault = "hang"
        b.alertmanager.fault = "500"
        b.elasticsearch.fault = "garbage"
        b.datadog.fault = "reset"
        b.haproxy.routes[("GET", STATS)] = lambda _req: slow(TIMEOUT_S * 3)  # answers, but too late
        yield b


@pytest.fixture
async def app(sms_app: SmsApp, backends: Backends) -> AsyncIterator[Quart]:
    # monitors built from settings
    async with sms_app(store=MemorySessionStore(1800), **backends.values(sms_page_segments=4)) as application:
        yield application


EXPECTED = {  # the whole reason each fault must give, and nothing else
    "prometheus": rf"timeout after {TIMEOUT_S:g}s",  # hung
    "alertmanager": r"HTTP 500",
    "elasticsearch": r"bad response \(not JSON\)",  # garbage body
    "datadog": r"connection dropped",  # reset
    "haproxy": rf"timeout after {TIMEOUT_S:g}s",  # answers, but too late
    "kong": r"connection refused",  # nothing listens
}


class TestStatusUnderFaults:
    async def test_each_culprit_is_named_and_the_healthy_one_answers(self, app: Quart) -> None:
        """Six broken backends, one healthy: the reply names every culprit with its own reason, and Loki is ok."""
        reply = await Phone(app.test_client()).text("status")
        assert reply.endswith("\nno problems found in the others; 1/7 sources ok (loki)"), reply
        for name, reason in EXPECTED.items():
            assert re.search(rf"^DOWN {name}: {reason}$", reply, re.MULTILINE), (name, reply)
        assert "Traceback" not in reply

    async def test_other_commands_answer_while_backends_misbehave(self, app: Quart, backends: Backends) -> None:
        """A metric query behind the hung Prometheus is bounded too, and logs come from Loki, which answers."""
        phone = Phone(app.test_client(), NUMBERS[1])
        assert await phone.text("metrics cpu") == f"cpu: prometheus DOWN: timeout after {TIMEOUT_S:g}s"
        logs = await phone.text("logs api 1h")
        assert re.fullmatch(rf"api, last 1h: 1 error\.\n\d\d:\d\d {LOKI_LINE}", logs), logs
        asked = [r for r in backends.loki.requests if r.path == "/loki/api/v1/query_range"]
        assert len(asked) == 1 and asked[0].query["query"][0].startswith('{service="api"}')


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle() -> tuple[int, int]:
    """Task and fd counts once in-flight work has drained."""
    for _ in range(20):
        await asyncio.sleep(0.02)
    gc.collect()
    return len(asyncio.all_tasks()), open_fds()


LEAK_TIMEOUT_S = 1.0  # generous: only the deliberately slow replies may run into it
MODES: dict[str | None, str] = {  # fault -> the whole reason the reply must give
    "500": r"HTTP 500",
    "garbage": r"bad response \(not JSON\)",
    "reset": r"connection dropped",
    None: rf"timeout after {LEAK_TIMEOUT_S:g}s",
    "401": r"auth rejected \(HTTP 401\)",
}


class TestNoLeaks:
    async def test_a_thousand_status_requests_leak_no_task_connection_or_fd(self, sms_app: SmsApp) -> None:
        """1,000 `status` while Prometheus fails every way in turn: tasks and descriptors return to baseline."""
        # A truly hung fake holds one server thread per request until shutdown; for a thousand
        # requests "hung" is a reply long after the timeout (the client sees the same thing).
        with FakeServer() as fake:
            fake.routes[("GET", "/-/ready")] = lambda _req: slow(LEAK_TIMEOUT_S + 0.1)
            # status asks Prometheus for targets down and alerts: those are slow too
            fake.routes[("GET", "/api/v1/query")] = lambda _req: slow(LEAK_TIMEOUT_S + 0.1)
            fake.routes[("GET", "/api/v1/alerts")] = lambda _req: slow(LEAK_TIMEOUT_S + 0.1)
            # One sender's messages queue behind its lock: a sender per concurrent request.
            senders = [f"+1415555{1000 + i}" for i in range(25)]
            values: dict[str, object] = {
                "prometheus_url": fake.url,
                "monitor_timeout_s": LEAK_TIMEOUT_S,
                "rate_limit_per_min": 100_000,
                "authorized_numbers": ",".join(senders),
            }
            monitor = PrometheusMonitor.from_settings(make_settings(**values))
            assert monitor is not None
            async with sms_app(store=MemorySessionStore(1800), monitors=Monitors([monitor]), **values) as app:
                phones = [Phone(app.test_client(), n) for n in senders]

                async def burst(fault: str | None) -> None:
                    fake.fault = fault
                    replies = await asyncio.gather(*(p.text("status") for p in phones))
                    expected = rf"DOWN prometheus: {MODES[fault]}\nno problems found in the others; 0/1 sources ok"
                    for reply in replies:
                        assert re.fullmatch(expected, reply), (fault, reply)

                for fault in MODES:  # warm up: the pool, every failure path, lazy imports
                    await burst(fault)
                tasks_before, fds_before = await settle()
                seen_before = len(fake.requests)
                modes = list(MODES)
                for i in range(1000 // len(phones)):
                    await burst(modes[i % len(modes)])
                await asyncio.sleep(0.2)  # the slow replies finish and their server threads close
                tasks_after, fds_after = await settle()
                pooled = len(monitor.client._transport._pool.connections)  # type: ignore[attr-defined]
        assert tasks_after <= tasks_before + 2, (tasks_before, tasks_after)
        assert fds_after <= fds_before + 5, (fds_before, fds_after)
        assert pooled <= len(phones), pooled  # timed-out and broken connections were not kept
        assert len(fake.requests) - seen_before >= 1000  # every status really reached the backend
