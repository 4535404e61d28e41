"""How the Prometheus, Alertmanager and Datadog adapters fail: always a short reason, never an exception.

Every adapter meets the same broken servers: nothing listening, a server that never
answers, HTTP 500, 401, a body that is not JSON, a dropped connection, and JSON of the
wrong shape. Health checks turn each into `down: <reason>`; data calls raise MonitorError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from monitors.alerting import collect_alerts, format_alert_list
from monitors.alertmanager import AlertmanagerMonitor
from monitors.base import (
    ALERTS,
    METRICS,
    Alert,
    AuthRejected,
    BadResponse,
    MetricAlias,
    Monitor,
    MonitorError,
    Refused,
    TimedOut,
    UnexpectedShape,
    Unreachable,
)
from monitors.datadog import DatadogMonitor
from monitors.prometheus import PrometheusMonitor
from monitors.registry import build_monitors
from tests.fakes.datadog import API_KEY, APP_KEY, FakeDatadog
from tests.fakes.server import FakeServer, Reply, closed_port_url
from tests.servers.prometheus import monitor_settings

TIMEOUT_S = 0.5


def _settings(kind: str, url: str) -> dict[str, object]:
    if kind == "datadog":
        return {"datadog_api_key": API_KEY, "datadog_app_key": APP_KEY, "datadog_api_url": url}
    return {f"{kind}_url": url}


def make(kind: str, url: str) -> Monitor:
    cls: dict[str, Callable[..., Monitor | None]] = {
        "prometheus": PrometheusMonitor.from_settings,
        "alertmanager": AlertmanagerMonitor.from_settings,
        "datadog": DatadogMonitor.from_settings,
    }
    monitor = cls[kind](monitor_settings(monitor_timeout_s=TIMEOUT_S, **_settings(kind, url)))
    assert monitor is not None
    return monitor


# Wrong shape: valid JSON, but a list where an object belongs (and vice versa) on every path.
SHAPELESS_PATHS = [
    "/api/v1/status/buildinfo",
    "/api/v1/alerts",
    "/api/v1/query",
    "/api/v2/status",
    "/api/v2/alerts",
    "/api/v1/validate",
    "/api/v1/monitor",
]

KINDS = ["prometheus", "alertmanager", "datadog"]
# fault → (reason for health, reason for data calls); None means "same as health".
FAULTS: dict[str, tuple[str, str | None]] = {
    "refused": ("connection refused", None),
    "hang": (f"timeout after {TIMEOUT_S:g}s", None),
    "500": ("HTTP 500", None),
    "401": ("auth rejected (HTTP 401)", None),
    "garbage": ("bad response (not JSON)", None),
    "reset": ("connection dropped", None),
    "shape": ("bad response (unexpected shape)", None),
}


@pytest.fixture(scope="module")
def broken_server() -> Iterator[FakeServer]:
    # One server per module: stopping a threaded HTTP server takes up to half a second.
    with FakeServer() as server:
        yield server


@pytest.fixture
def broken(broken_server: FakeServer) -> FakeServer:
    broken_server.fault = None
    broken_server.routes.clear()
    broken_server.route("GET", "/-/ready")(lambda req: Reply(200, "Prometheus Server is Ready.\n"))
    for path in SHAPELESS_PATHS:
        broken_server.route("GET", path)(lambda req: Reply(200, ["surprise"]))
    return broken_server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _expected(kind: str, fault: str, health: bool) -> str:
    reason, data_reason = FAULTS[fault]
    if kind == "datadog" and fault == "401" and health:
        return "API key rejected"
    return reason if health or data_reason is None else data_reason


async def _data_calls(monitor: Monitor) -> list[MonitorError]:
    errors = []
    if ALERTS in monitor.capabilities:
        with pytest.raises(MonitorError) as caught:
            await monitor.alerts()  # type: ignore[attr-defined]
        errors.append(caught.value)
    if METRICS in monitor.capabilities:
        alias = MetricAlias("cpu", "up", "%", source=monitor.name)
        with pytest.raises(MonitorError) as caught:
            await monitor.query_metric(alias)  # type: ignore[attr-defined]
        errors.append(caught.value)
    return errors


# fault -> the branch of the exception tree (monitors/base.py) a data call raises
KIND_OF_FAILURE: dict[str, type[MonitorError]] = {
    "refused": Refused,
    "hang": TimedOut,
    "500": BadResponse,
    "401": AuthRejected,
    "garbage": BadResponse,
    "reset": Unreachable,
    "shape": UnexpectedShape,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_every_failure_has_a_reason(fault: str, kind: str, broken: FakeServer) -> None:
    """Health goes down with the fault's reason and every data call raises MonitorError with it."""
    monitor = make(kind, closed_port_url() if fault == "refused" else broken.url)
    if fault not in ("refused", "shape"):
        broken.fault = fault
    try:
        health = await monitor.health_check()
        assert (health.monitor, health.ok, health.reason) == (kind, False, _expected(kind, fault, True))
        assert health.latency_s < TIMEOUT_S * 4  # bounded by the monitor's timeout, not the server's whim
        for error in await _data_calls(monitor):
            assert error.reason == _expected(kind, fault, False)
            assert isinstance(error, KIND_OF_FAILURE[fault]), (fault, type(error))
    finally:
        await monitor.aclose()


@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        ("prometheus", "/api/v1/alerts", {"status": "success", "data": {"alerts": [{"state": "firing"}]}}),
        (
            "prometheus",
            "/api/v1/alerts",
            {"status": "success", "data": {"alerts": [{"state": "firing", "labels": {"alertname": "X", "n": 1}}]}},
        ),
        (
            "prometheus",
            "/api/v1/query",
            {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1]}]}},
        ),
        (
            "prometheus",
            "/api/v1/query",
            {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "x"]}]}},
        ),
        ("alertmanager", "/api/v2/alerts", [{"labels": {}, "status": {"state": "active"}}]),
        ("alertmanager", "/api/v2/alerts", [{"labels": "alertname=X"}]),
        ("datadog", "/api/v1/query", {"status": "ok", "series": [{"pointlist": [[1.0, "high"]]}]}),
        ("datadog", "/api/v1/query", {"status": "ok", "series": {"a": 1}}),
        ("datadog", "/api/v1/monitor", [{"overall_state": "Alert", "name": None}]),
        ("datadog", "/api/v1/monitor", [{"overall_state": "Alert", "name": "x", "state": {"groups": [1]}}]),
    ],
)
async def test_subtly_wrong_shapes(kind: str, path: str, body: object, broken: FakeServer) -> None:
    """Bodies that are JSON but not the documented shape never leak KeyError/TypeError."""
    broken.route("GET", path)(lambda req: Reply(200, body))
    monitor = make(kind, broken.url)
    call = (
        monitor.alerts()
        if path.endswith(("alerts", "monitor"))  # type: ignore[attr-defined]
        else monitor.query_metric(MetricAlias("x", "q", source=kind))
    )  # type: ignore[attr-defined]
    try:
        with pytest.raises(MonitorError, match=r"^bad response \(unexpected shape\)$"):
            await call
    finally:
        await monitor.aclose()


async def test_collect_alerts_survives_one_source_down(broken: FakeServer) -> None:
    """A hanging Alertmanager costs one DOWN line; Datadog's alerts still come through in time."""
    broken.fault = "hang"
    with FakeDatadog() as datadog_fake:
        sources = [make("alertmanager", broken.url), make("datadog", datadog_fake.url)]
        try:
            alerts, errors = await collect_alerts(sources)
        finally:
            for source in sources:
                await source.aclose()
    assert errors == [f"alertmanager: timeout after {TIMEOUT_S:g}s"]
    assert {a.name for a in alerts} == {"My monitor", "Latency high"}
    text = format_alert_list(alerts, errors, datetime.now(UTC))
    assert text.splitlines()[0] == "2 alerts firing:"
    assert text.splitlines()[-1] == f"alertmanager DOWN: timeout after {TIMEOUT_S:g}s"


async def test_collect_alerts_survives_an_adapter_bug() -> None:
    """Even an adapter raising something other than MonitorError is reported, not raised."""

    class Buggy(PrometheusMonitor):
        async def alerts(self) -> list[Alert]:
            raise KeyError("oops")

    buggy = Buggy("http://127.0.0.1:1", make("prometheus", "http://127.0.0.1:1").client, TIMEOUT_S)
    alerts, errors = await collect_alerts([buggy])
    await buggy.aclose()
    assert (alerts, errors) == ([], ["prometheus: bad response (unexpected shape)"])


async def test_status_answers_for_the_others(broken: FakeServer) -> None:
    """Through the registry: one backend hangs, the others still report within the timeout."""
    broken.fault = "hang"
    with FakeDatadog() as datadog_fake:
        monitors = build_monitors(
            monitor_settings(
                monitor_timeout_s=TIMEOUT_S,
                alertmanager_url=broken.url,
                prometheus_url=closed_port_url(),
                **_settings("datadog", datadog_fake.url),
            )
        )
        try:
            health = {h.monitor: h for h in await monitors.check_all()}
        finally:
            await monitors.aclose()
    assert {n: (h.ok, h.reason) for n, h in health.items()} == {
        "prometheus": (False, "connection refused"),
        "alertmanager": (False, f"timeout after {TIMEOUT_S:g}s"),
        "datadog": (True, ""),
    }
