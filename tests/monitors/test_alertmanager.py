"""AlertmanagerMonitor and the merged `alerts` answer against a real Alertmanager fed by Prometheus."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitors.alerting import collect_alerts, format_alert_detail, format_alert_list, numbered_alerts
from monitors.alertmanager import AlertmanagerMonitor
from monitors.prometheus import PrometheusMonitor
from tests.fakes.server import closed_port_url
from tests.servers import prometheus as servers

pytestmark = pytest.mark.integration


@pytest.fixture
def silenced(monitoring_stack: servers.MonitoringStack) -> Iterator[str]:
    """A silence on the always-firing alert, created through Alertmanager's own API and expired after."""
    now = datetime.now(UTC)
    body = {
        "matchers": [{"name": "alertname", "value": servers.ALERT_NAME, "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "operator-tests",
        "comment": "test silence",
    }
    response = httpx.post(f"{monitoring_stack.alertmanager_url}/api/v2/silences", json=body, timeout=5)
    response.raise_for_status()
    silence_id: str = response.json()["silenceID"]
    yield silence_id
    httpx.delete(f"{monitoring_stack.alertmanager_url}/api/v2/silence/{silence_id}", timeout=5).raise_for_status()


class TestAlertmanager:
    async def test_health_ok_with_version(
        self, alertmanager_monitor: AlertmanagerMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """The status endpoint answers and its version is the health note."""
        health = await alertmanager_monitor.health_check()
        async with httpx.AsyncClient(timeout=5) as client:
            status = (await client.get(f"{monitoring_stack.alertmanager_url}/api/v2/status")).json()
        assert health.ok, health.reason
        assert health.reason == f"v{status['versionInfo']['version']}"

    async def test_alerts_match_alertmanager(
        self, alertmanager_monitor: AlertmanagerMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """Our alerts are exactly Alertmanager's active ones: names, labels, start times."""
        ours = await alertmanager_monitor.alerts()
        theirs = monitoring_stack.am_alerts()
        assert sorted(a.name for a in ours) == sorted(t["labels"]["alertname"] for t in theirs)
        [alert] = [a for a in ours if a.name == servers.ALERT_NAME]
        [ref] = [t for t in theirs if t["labels"]["alertname"] == servers.ALERT_NAME]
        assert alert.labels == ref["labels"]
        assert alert.started_at == datetime.fromisoformat(ref["startsAt"].replace("Z", "+00:00"))
        assert (alert.severity, alert.subject, alert.source) == ("warning", "checkout", "alertmanager")
        assert alert.description == ref["annotations"]["description"]

    async def test_silence_removes_alert(
        self, alertmanager_monitor: AlertmanagerMonitor, prometheus_monitor: PrometheusMonitor, silenced: str
    ) -> None:
        """A silence set in Alertmanager hides the alert from `alerts` at once."""
        assert servers.ALERT_NAME not in [a.name for a in await alertmanager_monitor.alerts()]
        alerts, errors = await collect_alerts([prometheus_monitor, alertmanager_monitor])
        assert errors == []
        # Prometheus knows nothing of silences: its copy must not leak back in.
        assert servers.ALERT_NAME not in [a.name for a in alerts]


class TestMergedAnswer:
    async def test_both_configured_no_duplicates(
        self, alertmanager_monitor: AlertmanagerMonitor, prometheus_monitor: PrometheusMonitor
    ) -> None:
        """With Alertmanager and Prometheus both configured, each alert is listed once, from Alertmanager."""
        alerts, errors = await collect_alerts([prometheus_monitor, alertmanager_monitor])
        assert errors == []
        firing = [a for a in alerts if a.name == servers.ALERT_NAME]
        assert [a.source for a in firing] == ["alertmanager"]

    async def test_prometheus_only(self, prometheus_monitor: PrometheusMonitor) -> None:
        """Without Alertmanager the list comes from Prometheus."""
        alerts, errors = await collect_alerts([prometheus_monitor])
        assert errors == [] and [a.source for a in alerts if a.name == servers.ALERT_NAME] == ["prometheus"]

    async def test_alertmanager_down_falls_back_to_prometheus(self, prometheus_monitor: PrometheusMonitor) -> None:
        """A dead Alertmanager is reported, and Prometheus's alerts are shown instead of nothing."""
        dead = AlertmanagerMonitor.from_settings(servers.monitor_settings(alertmanager_url=closed_port_url()))
        assert dead is not None
        try:
            alerts, errors = await collect_alerts([prometheus_monitor, dead])
        finally:
            await dead.aclose()
        assert errors == ["alertmanager: connection refused"]
        assert [a.source for a in alerts if a.name == servers.ALERT_NAME] == ["prometheus"]
        assert "alertmanager DOWN: connection refused" in format_alert_list(alerts, errors, datetime.now(UTC))

    async def test_list_and_detail_text(
        self, alertmanager_monitor: AlertmanagerMonitor, monitoring_stack: servers.MonitoringStack
    ) -> None:
        """`alerts` and `alerts 1` read as the SMS should, with the age Alertmanager implies."""
        alerts, errors = await collect_alerts([alertmanager_monitor])
        [ref] = monitoring_stack.am_alerts(filter=f'alertname="{servers.ALERT_NAME}"')
        started = datetime.fromisoformat(ref["startsAt"].replace("Z", "+00:00"))
        now = started + timedelta(minutes=12, seconds=5)
        text = format_alert_list(alerts, errors, now)
        assert text.splitlines() == ["1 alert firing:", f"1 WARN {servers.ALERT_NAME} checkout (12m)"]
        detail = format_alert_detail(numbered_alerts(alerts)[0], now)
        prometheus_host = monitoring_stack.prometheus_url.rsplit(":", 1)[1]  # generatorURL uses the hostname
        lines = detail.splitlines()
        assert lines[:2] == [f"WARN {servers.ALERT_NAME} checkout (12m)", "Test alert that always fires"]
        assert lines[2].startswith("rule: ") and lines[2].endswith(f":{prometheus_host}")
        assert lines[3].startswith("since ") and lines[4] == "vector(1) > 0 is always true"
        assert "service=checkout team=ops" in detail
        assert detail.endswith("source: alertmanager")

    async def test_concurrent_calls_share_one_client(self, alertmanager_monitor: AlertmanagerMonitor) -> None:
        """Many concurrent calls on one monitor all succeed through its single pooled client."""
        client = alertmanager_monitor.client
        results = await asyncio.gather(*(alertmanager_monitor.alerts() for _ in range(20)))
        assert all(any(a.name == servers.ALERT_NAME for a in r) for r in results)
        assert alertmanager_monitor.client is client
