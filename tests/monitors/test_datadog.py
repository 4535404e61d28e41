"""DatadogMonitor against a local fake of the Datadog API (it cannot run here)."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from monitors.alerting import collect_alerts, format_alert_list
from monitors.base import MetricAlias, MonitorError
from monitors.datadog import DatadogMonitor
from monitors.metric_format import format_metric
from tests.fakes.datadog import API_KEY, APP_KEY, FakeDatadog, series
from tests.fakes.datadog import monitor as dd_monitor
from tests.fakes.server import Reply
from tests.servers.prometheus import monitor_settings

CPU = MetricAlias(
    "ddcpu",
    "avg:system.cpu.user{env:prod} by {host}",
    "%",
    label="host",
    source="datadog",
    description="CPU user % (Datadog)",
)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeDatadog]:
    # One server per module: stopping a threaded HTTP server takes up to half a second.
    with FakeDatadog() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeDatadog) -> FakeDatadog:
    fake_server.reset()
    return fake_server


def _monitor(fake: FakeDatadog, **overrides: object) -> DatadogMonitor:
    values = {
        "datadog_api_key": API_KEY,
        "datadog_app_key": APP_KEY,
        "datadog_api_url": fake.url,
        "monitor_timeout_s": 2,
        **overrides,
    }
    monitor = DatadogMonitor.from_settings(monitor_settings(**values))
    assert monitor is not None
    return monitor


@pytest.fixture
async def datadog(fake: FakeDatadog) -> AsyncIterator[DatadogMonitor]:
    monitor = _monitor(fake)
    yield monitor
    await monitor.aclose()


class TestSettings:
    def test_not_configured_without_api_key(self) -> None:
        """No DATADOG_API_KEY: no monitor."""
        assert DatadogMonitor.from_settings(monitor_settings()) is None

    async def test_base_url_from_site(self) -> None:
        """The API base URL derives from DATADOG_SITE."""
        monitor = DatadogMonitor.from_settings(monitor_settings(datadog_api_key="k", datadog_site="datadoghq.eu"))
        assert monitor is not None and monitor.base_url == "https://api.datadoghq.eu"
        await monitor.aclose()

    async def test_keys_never_in_repr(self, datadog: DatadogMonitor) -> None:
        """Neither the settings nor the monitor print the keys."""
        settings = monitor_settings(datadog_api_key=API_KEY, datadog_app_key=APP_KEY)
        for text in (repr(settings), repr(datadog), repr(datadog.client), str(vars(datadog))):
            assert API_KEY not in text and APP_KEY not in text


class TestHealth:
    async def test_valid_key(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """A valid key is healthy; the key travels as the DD-API-KEY header."""
        health = await datadog.health_check()
        assert health.ok, health.reason
        assert fake.requests[-1].headers["dd-api-key"] == API_KEY

    async def test_wrong_key_rejected(self, fake: FakeDatadog) -> None:
        """A key the API refuses (403) reads 'API key rejected'."""
        monitor = _monitor(fake, datadog_api_key="wrong")
        health = await monitor.health_check()
        await monitor.aclose()
        assert (health.ok, health.reason) == (False, "API key rejected")

    async def test_valid_false_rejected(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """A 200 that says valid:false is rejected too."""
        fake.route("GET", "/api/v1/validate")(lambda req: Reply(200, {"valid": False}))
        health = await datadog.health_check()
        assert (health.ok, health.reason) == (False, "API key rejected")

    async def test_missing_app_key_is_down(self, fake: FakeDatadog) -> None:
        """Without DATADOG_APP_KEY the key validates but nothing else can work: say which setting."""
        monitor = _monitor(fake, datadog_app_key=None)
        health = await monitor.health_check()
        await monitor.aclose()
        assert (health.ok, health.reason) == (False, "DATADOG_APP_KEY not set")


class TestMetrics:
    async def test_last_non_null_point_per_series(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """Each series gives its newest non-null point, labelled by the alias's tag, largest first."""
        fake.query_series[CPU.query] = [
            series("host:web-01", [10.0, 20.5, None]),
            series("host:web-02", [80.0, 83.2]),
            series("host:web-03", [None, None]),
        ]
        result = await datadog.query_metric(CPU)
        assert [(s.label, s.value) for s in result.series[:2]] == [("web-02", 83.2), ("web-01", 20.5)]
        assert result.series[2].label == "web-03" and math.isnan(result.series[2].value)
        assert format_metric(result).splitlines() == [
            "ddcpu (CPU user % (Datadog)):",
            "web-02 83%",
            "web-01 20%",
            "web-03 n/a",
            "(n/a: the query gave NaN, e.g. a division by zero)",
        ]

    async def test_query_parameters(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """from/to are POSIX seconds around now, the query is the alias's, both keys are sent."""
        fake.query_series[CPU.query] = [series("*", [1.0])]
        before = int(time.time())
        result = await datadog.query_metric(CPU)
        request = fake.requests[-1]
        assert request.path == "/api/v1/query"
        assert request.query["query"] == [CPU.query]
        start, end = int(request.query["from"][0]), int(request.query["to"][0])
        assert before - 1 <= end <= time.time() + 1 and 60 <= end - start <= 3600
        assert request.headers["dd-application-key"] == APP_KEY
        assert [(s.label, s.value) for s in result.series] == [("ddcpu", 1.0)]

    async def test_query_error(self, datadog: DatadogMonitor) -> None:
        """A query Datadog cannot parse (400 errors[]) becomes a short query error."""
        with pytest.raises(MonitorError, match=r"^query error: Error parsing query"):
            await datadog.query_metric(CPU)

    async def test_prometheus_alias_refused(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """A PromQL alias never reaches Datadog."""
        with pytest.raises(MonitorError, match="not a Datadog query"):
            await datadog.query_metric(MetricAlias("cpu", "up"))
        assert fake.requests == []

    async def test_wrong_app_key(self, fake: FakeDatadog) -> None:
        """Data calls with a wrong application key fail as an auth rejection, not a crash."""
        monitor = _monitor(fake, datadog_app_key="wrong")
        with pytest.raises(MonitorError, match=r"auth rejected \(HTTP 403\)"):
            await monitor.alerts()
        await monitor.aclose()


class TestAlerts:
    async def test_alert_and_warn_monitors(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """Monitors in Alert or Warn state become alerts from 'datadog'; OK ones do not."""
        alerts = await datadog.alerts()
        assert fake.requests[-1].query["group_states"] == ["alert,warn"]
        by_name = {a.name: a for a in alerts}
        assert set(by_name) == {"My monitor", "Latency high"}
        mine = by_name["My monitor"]
        assert (mine.severity, mine.subject, mine.source) == ("critical", "host0", "datadog")
        assert mine.started_at == datetime.fromtimestamp(1568887500, UTC)
        assert mine.labels["team"] == "ops" and mine.description.startswith("Bytes received")
        latency = by_name["Latency high"]
        assert (latency.severity, latency.subject) == ("warning", "checkout")

    async def test_multi_monitor_groups(self, datadog: DatadogMonitor, fake: FakeDatadog) -> None:
        """A multi-alert monitor gives one alert per alerting group, grouped as one line in the list."""
        fake.monitors = [
            dd_monitor(
                7, "Disk almost full", "Alert", {f"host:db-{i}": "Alert" for i in range(1, 5)} | {"host:db-9": "OK"}
            )
        ]
        alerts = await datadog.alerts()
        assert sorted(a.subject for a in alerts) == ["db-1", "db-2", "db-3", "db-4"]
        now = datetime.fromtimestamp(1568887500 + 3 * 3600, UTC)
        assert format_alert_list(alerts, [], now).splitlines() == [
            "4 alerts firing:",
            "1 CRIT [dd] Disk almost full x4 (db-1, db-2, +2) (3h)",
        ]

    async def test_collect_marks_datadog(self, datadog: DatadogMonitor) -> None:
        """In the merged list Datadog items carry the [dd] mark."""
        alerts, errors = await collect_alerts([datadog])
        text = format_alert_list(alerts, errors, datetime.now(UTC))
        assert errors == [] and "[dd] My monitor host0" in text
