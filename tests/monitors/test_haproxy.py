"""HAProxyMonitor against a real HAProxy (one server UP, one DOWN) and captured stats."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from monitors.base import MonitorError
from monitors.config import MonitorSettings
from monitors.haproxy import HAProxyMonitor, parse_stats
from tests.fakes.server import FakeServer, Reply, closed_port_url
from tests.servers.haproxy import HAProxyServer

# A real HAProxy 2.6 stats CSV, captured on this kind of machine (shared/reference/api_examples).
CAPTURED = Path(__file__).resolve().parents[1] / "data/captured_haproxy_stats.csv"


def make(url: str, timeout_s: float = 2) -> HAProxyMonitor:
    settings = MonitorSettings(haproxy_stats_url=url, monitor_timeout_s=timeout_s, _env_file=None)  # type: ignore[call-arg]
    built = HAProxyMonitor.from_settings(settings)
    assert built is not None
    return built


@pytest.fixture
async def monitor(haproxy_server: HAProxyServer) -> AsyncIterator[HAProxyMonitor]:
    built = make(haproxy_server.stats_url)
    yield built
    await built.aclose()


@pytest.mark.integration
class TestRealHAProxy:
    async def test_names_the_down_server(self, monitor: HAProxyMonitor) -> None:
        """dead1 (nothing listens) is named as down; up1 counts as up."""
        lines = (await monitor.report()).lines
        assert lines[0] == "haproxy: 1 backends, 1 servers not up"
        assert lines[1].startswith("be_app UP: 1/2 up, down: dead1 (DOWN); ")
        assert (await monitor.health_check()).reason == "1 backends"

    async def test_taking_the_up_server_down_changes_the_report(self, monitor: HAProxyMonitor,
                                                                haproxy_server: HAProxyServer) -> None:
        """`disable server` on the admin socket puts up1 in maintenance; the report says so."""
        await monitor.report()
        assert haproxy_server.admin("disable server be_app/up1").strip() == ""
        lines = (await monitor.report()).lines
        assert lines[0] == "haproxy: 1 backends, 2 servers not up"
        assert lines[1].startswith("be_app DOWN: 0/2 up, down: up1 (MAINT), dead1 (DOWN)")

    async def test_5xx_since_last_look(self, monitor: HAProxyMonitor, haproxy_server: HAProxyServer) -> None:
        """Upstream 500s show as a total and as the count and share since the previous report."""
        first = (await monitor.report()).lines[1]
        assert "5xx 0" in first and "(+" not in first
        async with httpx.AsyncClient() as client:
            for path in ["/err"] * 3 + ["/"]:
                await client.get(haproxy_server.frontend_url + path)
        second = (await monitor.report()).lines[1]
        assert "5xx 3 (+3 in " in second
        assert second.endswith("s, 75%)")


class TestParsing:
    def test_captured_csv(self) -> None:
        """The capture from the reference stack: be_app with dead1 DOWN, be_prometheus all up."""
        backends = parse_stats(CAPTURED.read_text())
        assert [b.name for b in backends] == ["be_app", "be_prometheus"]
        assert backends[0].servers == [("node1", "UP"), ("dead1", "DOWN")]
        assert backends[0].not_serving == [("dead1", "DOWN")]

    def test_counter_reset_is_not_a_negative_rate(self) -> None:
        """After an HAProxy restart the totals drop: no "+-47" delta is shown."""
        backends = parse_stats(CAPTURED.read_text())
        higher = dataclasses.replace(backends[0], errors_5xx=50)  # the previous look saw more
        line = HAProxyMonitor.backend_line(backends[0], (0.0, {"be_app": higher}), 10.0)
        assert "(+" not in line


class TestFailures:
    @pytest.mark.parametrize(("fault", "reason"), [
        ("hang", "timeout after 0.5s"), ("500", "HTTP 500"), ("401", "auth rejected (HTTP 401)"),
        ("garbage", "bad response (unexpected shape)"),
    ])
    async def test_faults(self, fault: str, reason: str) -> None:
        with FakeServer() as fake:
            fake.fault = fault
            monitor = make(fake.url + "/stats;csv", 0.5)
            try:
                with pytest.raises(MonitorError) as info:
                    await monitor.report()
                health = await monitor.health_check()
            finally:
                await monitor.aclose()
        assert info.value.reason == reason
        assert (health.ok, health.reason) == (False, reason)

    async def test_refused(self) -> None:
        monitor = make(closed_port_url() + "/stats;csv", 0.5)
        health = await monitor.health_check()
        await monitor.aclose()
        assert (health.ok, health.reason) == (False, "connection refused")

    async def test_csv_without_expected_columns(self) -> None:
        with FakeServer() as fake:
            fake.routes[("GET", "/stats;csv")] = lambda req: Reply(200, "# pxname,svname\nbe,BACKEND\n")
            monitor = make(fake.url + "/stats;csv", 0.5)
            try:
                with pytest.raises(MonitorError, match=r"bad response \(unexpected shape\)"):
                    await monitor.report()
            finally:
                await monitor.aclose()
