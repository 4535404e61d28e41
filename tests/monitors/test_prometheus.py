"""PrometheusMonitor against a real Prometheus scraping a real node-exporter."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from monitors.aliases import DEFAULT_ALIASES
from monitors.base import MetricAlias, MetricResult, MonitorError, QueryFailed
from monitors.metric_format import format_metric, format_metric_error
from monitors.prometheus import PrometheusMonitor
from monitors.registry import Monitors
from tests.fakes.server import FakeServer, Reply, Request
from tests.servers import prometheus as servers

pytestmark = pytest.mark.integration

# How far a live value may move between our query and the reference query a moment later.
TOLERANCE = {"cpu": 20.0, "memory": 2.0, "disk": 1.0, "load": 1.0, "up": 0.0}


class TestHealth:
    async def test_ok_with_real_version(self, prometheus_monitor: PrometheusMonitor) -> None:
        """The health check passes and notes the version the server reports in buildinfo."""
        health = await prometheus_monitor.health_check()
        assert health.ok, health.reason
        assert health.reason == "v2.42.0"
        assert health.latency_s > 0

    def test_from_settings_none_without_url(self) -> None:
        """No PROMETHEUS_URL means not configured."""
        assert PrometheusMonitor.from_settings(servers.monitor_settings()) is None


class TestMetrics:
    @pytest.mark.parametrize("name", ["cpu", "memory", "disk", "load"])
    async def test_default_alias_matches_server(
        self, name: str, prometheus_monitor: PrometheusMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """Each node alias gives the node-exporter's value, as Prometheus's own API reports it."""
        alias = DEFAULT_ALIASES[name]
        result = await prometheus_monitor.query_metric(alias)
        reference = monitoring_stack.prom_query(alias.query)
        assert [r["metric"]["instance"] for r in reference] == [monitoring_stack.node_instance]
        assert [s.label for s in result.series] == ["127.0.0.1"]  # port dropped: still unique
        value = result.series[0].value
        assert not math.isnan(value)
        assert value == pytest.approx(float(reference[0]["value"][1]), abs=TOLERANCE[name])
        if alias.unit == "%":
            assert 0 <= value <= 100

    async def test_up_lists_jobs_with_zero_down(
        self, prometheus_monitor: PrometheusMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """`up` has a row per job (0 when every target is up) instead of an empty answer."""
        result = await prometheus_monitor.query_metric(DEFAULT_ALIASES["up"])
        reference = {
            r["metric"]["job"]: float(r["value"][1]) for r in monitoring_stack.prom_query(DEFAULT_ALIASES["up"].query)
        }
        assert {s.label: s.value for s in result.series} == reference == {"node": 0.0, "prometheus": 0.0}
        assert "node 0 down" in format_metric(result)

    async def test_exact_value_from_textfile_metric(
        self, prometheus_monitor: PrometheusMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """A value injected into node-exporter comes back exactly, labelled by the alias's label."""
        (monitoring_stack.textfile_dir / "operator.prom").write_text(
            'operator_queue_depth{queue="emails"} 1234.5\noperator_queue_depth{queue="sms"} 17\n'
        )
        alias = MetricAlias("queues", "operator_queue_depth", "", label="queue", description="queue depth")
        result = await _eventually(prometheus_monitor, alias, lambda r: len(r.series) == 2)
        assert [(s.label, s.value) for s in result.series] == [("emails", 1234.5), ("sms", 17.0)]
        assert format_metric(result) == "queues (queue depth):\nemails 1.2k\nsms 17"

    async def test_nan_is_said_clearly(self, prometheus_monitor: PrometheusMonitor) -> None:
        """A NaN sample is parsed, sorted last and shown as n/a."""
        alias = MetricAlias("ratio", "vector(0) / vector(0)", "%", label="instance")
        result = await prometheus_monitor.query_metric(alias)
        assert len(result.series) == 1 and math.isnan(result.series[0].value)
        assert "n/a" in format_metric(result)

    async def test_scalar_result(self, prometheus_monitor: PrometheusMonitor) -> None:
        """A scalar query is one row named after the alias."""
        result = await prometheus_monitor.query_metric(MetricAlias("answer", "scalar(vector(42))"))
        assert [(s.label, s.value) for s in result.series] == [("answer", 42.0)]

    async def test_empty_result_says_no_data(self, prometheus_monitor: PrometheusMonitor) -> None:
        """A query matching nothing gives an empty result and the 'no data' line."""
        alias = MetricAlias("ghost", "no_such_metric_anywhere", "%")
        result = await prometheus_monitor.query_metric(alias)
        assert result.series == []
        assert format_metric(result) == "ghost: no data"

    async def test_bad_promql_is_a_clear_error(self, prometheus_monitor: PrometheusMonitor) -> None:
        """Broken PromQL in an alias (HTTP 400 bad_data) becomes a short 'query error' with the parser's words."""
        alias = MetricAlias("broken", "sum(rate(node_cpu_seconds_total[1m])")
        with pytest.raises(MonitorError) as caught:
            await prometheus_monitor.query_metric(alias)
        assert isinstance(caught.value, QueryFailed)  # the backend works: not a DOWN
        assert caught.value.reason.startswith("query error: ")
        assert "parse error" in caught.value.reason and "invalid parameter" not in caught.value.reason
        line = format_metric_error(alias, "prometheus", caught.value.reason)
        assert line.startswith("broken: prometheus query error: ") and len(line) < 160

    async def test_range_vector_alias_is_refused(self, prometheus_monitor: PrometheusMonitor) -> None:
        """An alias returning a range vector cannot be one number per row: a clear error, not a crash."""
        with pytest.raises(MonitorError, match="query error"):
            await prometheus_monitor.query_metric(MetricAlias("raw", "up[1m]"))

    async def test_datadog_alias_refused(self, prometheus_monitor: PrometheusMonitor) -> None:
        """An alias meant for Datadog is never sent to Prometheus."""
        with pytest.raises(MonitorError, match="not a Prometheus query"):
            await prometheus_monitor.query_metric(MetricAlias("dd", "avg:system.cpu.user{*}", source="datadog"))


class TestAlerts:
    async def test_fallback_lists_the_rule_alert(
        self, prometheus_monitor: PrometheusMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """Prometheus's own alerts list has the always-firing rule with its labels and annotations."""
        alerts = await prometheus_monitor.alerts()
        [alert] = [a for a in alerts if a.name == servers.ALERT_NAME]
        assert alert.source == "prometheus"
        assert alert.severity == "warning"
        assert alert.subject == "checkout"  # the `service` label: no instance on a vector() alert
        assert alert.summary == "Test alert that always fires"
        assert alert.started_at is not None and alert.started_at <= datetime.now(UTC)
        am_view = monitoring_stack.am_alerts(filter=f'alertname="{servers.ALERT_NAME}"')
        assert alert.labels == am_view[0]["labels"]


async def _eventually(
    monitor: PrometheusMonitor, alias: MetricAlias, done: Callable[[MetricResult], bool]
) -> MetricResult:
    """Re-query until `done(result)`: node-exporter's textfile is read on the next 1 s scrape."""
    for _ in range(100):
        result = await monitor.query_metric(alias)
        if done(result):
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"{alias.name}: no expected result after 10 s")


class TestRoundTrips:
    """Requests that could wait on each other go out together (a fake gates them on a barrier:
    sent one after the other, the first would wait for the second in vain and fail)."""

    @staticmethod
    def gated(barrier: threading.Barrier, reply: Reply) -> Callable[[Request], Reply]:
        def handle(_: Request) -> Reply:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                return Reply(500, "requests were not concurrent")
            return reply

        return handle

    async def test_health_check_requests_are_concurrent(self) -> None:
        """/-/ready and buildinfo are asked at once: the check costs one round trip."""
        barrier = threading.Barrier(2, timeout=2)
        with FakeServer() as fake:
            fake.routes[("GET", "/-/ready")] = self.gated(barrier, Reply(200, "Prometheus Server is Ready."))
            fake.routes[("GET", "/api/v1/status/buildinfo")] = self.gated(
                barrier, Reply(200, {"status": "success", "data": {"version": "2.42.0+ds"}})
            )
            monitor = PrometheusMonitor(fake.url, httpx.AsyncClient(timeout=3), 3)
            try:
                health = await monitor.health_check()
            finally:
                await monitor.aclose()
        assert (health.ok, health.reason) == (True, "v2.42.0")

    async def test_status_asks_every_source_at_once(self) -> None:
        """Two Prometheus servers whose `up` queries wait for each other: survey() answers both."""
        barrier = threading.Barrier(2, timeout=2)
        empty = Reply(200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        no_alerts = Reply(200, {"status": "success", "data": {"alerts": []}})
        with FakeServer() as one, FakeServer() as two:
            for fake in (one, two):
                fake.routes[("GET", "/api/v1/query")] = self.gated(barrier, empty)
                fake.routes[("GET", "/api/v1/alerts")] = lambda _: no_alerts
            first = PrometheusMonitor(one.url, httpx.AsyncClient(timeout=3), 3)
            second = PrometheusMonitor(two.url, httpx.AsyncClient(timeout=3), 3)
            second.name = "prometheus-2"  # type: ignore[misc] - two instances of one adapter
            monitors = Monitors([first, second])
            try:
                survey = await monitors.survey()
            finally:
                await monitors.aclose()
        assert [(h.monitor, h.ok) for h in survey.healths] == [("prometheus", True), ("prometheus-2", True)]
        assert survey.problems == []
