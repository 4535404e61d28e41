"""HAProxyMonitor against a real HAProxy (one server UP, one DOWN) and captured stats."""

from __future__ import annotations

import asyncio
import dataclasses
import re
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
        """dead1 (nothing listens) is named as down with HAProxy's reason; up1 counts as up."""
        lines = (await monitor.report()).lines
        assert lines[0] == "haproxy: 1 backend, 1 server not up"
        assert re.match(
            r"be_app UP: 1/2 up, down: dead1 DOWN L4CON Connection refused for \d+s; 0 sess; 5xx 0 total$", lines[1]
        ), lines
        assert (await monitor.health_check()).reason == "1 backends"
        [problem] = await monitor.problems()
        assert (problem.severity, problem.text.split(" (")[0]) == ("warn", "haproxy be_app: 1/2 up")
        assert "dead1 DOWN L4CON" in problem.text

    async def test_taking_the_up_server_down_changes_the_report(
        self, monitor: HAProxyMonitor, haproxy_server: HAProxyServer
    ) -> None:
        """`disable server` on the admin socket puts up1 in maintenance; the report says so."""
        await monitor.report()
        assert haproxy_server.admin("disable server be_app/up1").strip() == ""
        lines = (await monitor.report()).lines
        assert lines[0] == "haproxy: 1 backend, 2 servers not up"
        assert lines[1].startswith("be_app DOWN: 0/2 up, down: up1 MAINT")
        assert "dead1 DOWN L4CON" in lines[1]
        [problem] = await monitor.problems()
        assert problem.severity == "crit" and problem.text.startswith("haproxy be_app: 0/2 up (up1 MAINT")

    async def test_5xx_over_a_window_not_since_the_last_look(
        self, monitor: HAProxyMonitor, haproxy_server: HAProxyServer
    ) -> None:
        """Upstream 500s are counted against the kept samples: asking again a moment later gives
        the same count and share, not "+0 since whoever asked last"."""
        first = (await monitor.report()).lines[1]
        assert first.endswith("5xx 0 total")  # one sample: no window yet
        async with httpx.AsyncClient() as client:
            for path in ["/err"] * 3 + ["/"]:
                await client.get(haproxy_server.frontend_url + path)
        await asyncio.sleep(1.1)  # setup: the first sample must be a second old to count as a baseline
        second = (await monitor.report()).lines[1]
        third = (await monitor.report()).lines[1]
        for line in (second, third):
            assert re.search(r"5xx 3 in last \ds \(75%\)$", line), line
        # over GATEWAY_5XX_WARN_PCT (5%): a warning in `status`, after the dead server's
        problems = [(p.severity, p.text) for p in await monitor.problems()]
        assert re.fullmatch(r"haproxy be_app: 5xx 3 in last \ds \(75%\)", problems[-1][1]), problems
        assert problems[-1][0] == "warn"


class TestParsing:
    def test_captured_csv(self) -> None:
        """The capture from the reference stack: be_app with dead1 DOWN, be_prometheus all up."""
        backends = parse_stats(CAPTURED.read_text())
        assert [b.name for b in backends] == ["be_app", "be_prometheus"]
        assert [(s.name, s.status) for s in backends[0].servers] == [("node1", "UP"), ("dead1", "DOWN")]
        [dead] = backends[0].not_serving
        assert (dead.name, dead.check, dead.last_check) == ("dead1", "L4CON", "Connection refused")

    def test_counter_reset_is_not_a_negative_rate(self) -> None:
        """After an HAProxy restart the totals drop: no negative rate, the total instead."""
        backends = parse_stats(CAPTURED.read_text())
        monitor = make("http://127.0.0.1:1/stats;csv")
        monitor.remember(0.0, [dataclasses.replace(backends[0], errors_5xx=50)])  # the earlier look saw more
        assert monitor.rate(backends[0], 10.0) is None
        assert HAProxyMonitor.backend_line(backends[0], None).endswith(f"5xx {backends[0].errors_5xx} total")

    def test_window_uses_the_newest_sample_at_least_a_window_old(self) -> None:
        """Samples at 0, 200, 290 s and the window 300 s: at 500 s the rate is over the last 300 s
        (from the 200 s sample), whoever asked in between."""
        [be] = parse_stats(CAPTURED.read_text())[:1]
        monitor = make("http://127.0.0.1:1/stats;csv")
        for t, errors, responses in ((0.0, 0, 100), (200.0, 10, 200), (290.0, 15, 250)):
            monitor.remember(t, [dataclasses.replace(be, errors_5xx=errors, responses=responses)])
        now = dataclasses.replace(be, errors_5xx=40, responses=400)
        rate = monitor.rate(now, 500.0)
        assert rate is not None and (rate.errors, rate.responses, rate.span_s) == (30, 200, 300.0)
        assert rate.text() == "5xx 30 in last 5m (15%)"
        monitor.remember(500.0, [now])
        assert [t for t, _ in monitor.samples] == [200.0, 290.0, 500.0]  # older ones can no longer be a baseline


class TestFailures:
    @pytest.mark.parametrize(
        ("fault", "reason"),
        [
            ("hang", "timeout after 0.5s"),
            ("500", "HTTP 500"),
            ("401", "auth rejected (HTTP 401)"),
            ("garbage", "bad response (unexpected shape)"),
        ],
    )
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
