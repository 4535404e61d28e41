"""KongMonitor against a fake Kong Admin API built from the documented shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from monitors.base import MonitorError
from monitors.config import MonitorSettings
from monitors.kong import KongMonitor
from monitors.registry import Monitors
from monitors.rollup import format_status
from tests.fakes.kong import KongFake
from tests.fakes.server import Reply, closed_port_url

UPSTREAMS = {
    "payments": [("127.0.0.1:20000", "HEALTHY"), ("127.0.0.1:20002", "UNHEALTHY")],
    "search": [("10.0.0.7:9200", "HEALTHCHECKS_OFF")],
}


@pytest.fixture
def fake() -> Iterator[KongFake]:
    with KongFake(UPSTREAMS) as server:
        yield server


def make(url: str, timeout_s: float = 0.5, **extra: Any) -> KongMonitor:
    settings = MonitorSettings(kong_admin_url=url, monitor_timeout_s=timeout_s, _env_file=None, **extra)  # type: ignore[call-arg]
    built = KongMonitor.from_settings(settings)
    assert built is not None
    return built


@pytest.fixture
async def kong(fake: KongFake) -> AsyncIterator[KongMonitor]:
    built = make(fake.url)
    yield built
    await built.aclose()


class TestReport:
    async def test_status_and_upstream_health(self, kong: KongMonitor, fake: KongFake) -> None:
        """Node status, then per upstream the healthy share and the unhealthy targets by name."""
        lines = (await kong.report()).lines
        assert lines == [
            "kong: 1 conns active, 3 requests, db reachable",
            "2 upstreams",
            "payments: 1/2 healthy, not healthy: 127.0.0.1:20002 (UNHEALTHY)",
            "search: 1 targets, health checks off",
        ]
        paths = sorted(r.path for r in fake.requests)
        assert paths == ["/status", "/upstreams", "/upstreams/payments/health", "/upstreams/search/health"]

    async def test_database_unreachable(self, kong: KongMonitor, fake: KongFake) -> None:
        fake.db_reachable = False
        assert (await kong.report()).lines[0].endswith("DB UNREACHABLE")
        health = await kong.health_check()
        assert (health.ok, health.reason, health.degraded) == (True, "database unreachable", True)

    async def test_no_upstreams(self, kong: KongMonitor, fake: KongFake) -> None:
        fake.upstreams.clear()
        assert (await kong.report()).lines[1:] == ["no upstreams"]

    async def test_admin_token_header(self) -> None:
        """KONG_ADMIN_TOKEN is sent as Kong-Admin-Token; a wrong one is an auth failure."""
        with KongFake(UPSTREAMS, token="t0ken") as fake:
            good, bad = make(fake.url, kong_admin_token="t0ken"), make(fake.url, kong_admin_token="wrong")
            try:
                assert (await good.health_check()).ok
                with pytest.raises(MonitorError) as info:
                    await bad.report()
            finally:
                await good.aclose()
                await bad.aclose()
        assert info.value.reason == "auth rejected (HTTP 401)"


class TestFailures:
    @pytest.mark.parametrize(
        ("fault", "reason"),
        [
            ("hang", "timeout after 0.5s"),
            ("500", "HTTP 500"),
            ("401", "auth rejected (HTTP 401)"),
            ("garbage", "bad response (not JSON)"),
        ],
    )
    async def test_faults(self, kong: KongMonitor, fake: KongFake, fault: str, reason: str) -> None:
        fake.fault = fault
        with pytest.raises(MonitorError) as info:
            await kong.report()
        health = await kong.health_check()
        assert info.value.reason == reason
        assert (health.ok, health.reason) == (False, reason)

    async def test_refused(self) -> None:
        monitor = make(closed_port_url())
        health = await monitor.health_check()
        await monitor.aclose()
        assert (health.ok, health.reason) == (False, "connection refused")

    async def test_health_404_on_a_control_plane(self, kong: KongMonitor, fake: KongFake) -> None:
        """Hybrid-mode control planes 404 the health endpoint: said plainly."""
        del fake.routes[("GET", "/upstreams/search/health")]
        with pytest.raises(MonitorError, match="upstream health not available"):
            await kong.report()

    async def test_unexpected_shape(self, kong: KongMonitor, fake: KongFake) -> None:
        fake.routes[("GET", "/status")] = lambda req: Reply(200, ["not", "an", "object"])
        with pytest.raises(MonitorError, match=r"bad response \(unexpected shape\)"):
            await kong.report()

    def test_not_configured(self) -> None:
        assert KongMonitor.from_settings(MonitorSettings(_env_file=None)) is None  # type: ignore[call-arg]


class TestProblems:
    async def test_unhealthy_targets_and_database_are_problems(self, kong: KongMonitor, fake: KongFake) -> None:
        """An upstream with an unhealthy target is a warning (all unhealthy: critical); checks-off
        upstreams are not problems; Kong's database unreachable is a warning."""
        assert [(p.severity, p.text) for p in await kong.problems()] == [
            ("warn", "kong payments: 1/2 healthy (127.0.0.1:20002 not healthy)")
        ]
        fake.upstreams["payments"] = [("127.0.0.1:20000", "UNHEALTHY"), ("127.0.0.1:20002", "DNS_ERROR")]
        fake.db_reachable = False
        assert [(p.severity, p.text) for p in await kong.problems()] == [
            ("crit", "kong payments: 0/2 healthy (127.0.0.1:20000, 127.0.0.1:20002 not healthy)"),
            ("warn", "kong: database unreachable (config changes fail)"),
        ]

    async def test_status_rolls_kong_up_once(self, kong: KongMonitor, fake: KongFake) -> None:
        """Through the registry: problems double as the health check, so Kong is listed once, ok."""
        fake.db_reachable = False
        survey = await Monitors([kong]).survey()
        assert [(h.monitor, h.ok) for h in survey.healths] == [("kong", True)]
        assert format_status(survey.problems, survey.healths).splitlines() == [
            "WARN kong payments: 1/2 healthy (127.0.0.1:20002 not healthy)",
            "WARN kong: database unreachable (config changes fail)",
            "1/1 sources ok (kong)",
        ]
