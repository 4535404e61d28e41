"""LokiMonitor against a fake Loki built from the documented API shapes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest

from monitors.base import MonitorError
from monitors.config import MonitorSettings
from monitors.loki import LokiMonitor, log_selector, logql_string
from tests.fakes.loki import Entry, LokiFake, unquote
from tests.fakes.server import Reply, closed_port_url

HOUR = timedelta(hours=1)
FILTER = '|~ "(?i)(error|fatal|panic|exception)"'


def ago(seconds: float) -> int:
    return time.time_ns() - int(seconds * 1e9)


@pytest.fixture
def fake() -> Iterator[LokiFake]:
    entries = [
        Entry({"service": "api"}, ago(60), "ERROR payment timeout"),
        Entry({"service": "api", "pod": "b"}, ago(30), "ERROR db pool exhausted"),
        Entry({"service": "api"}, ago(10), "info all good"),
        Entry({"service": "api"}, ago(7200), "ERROR too old"),
        Entry({"service": "web"}, ago(5), "ERROR other service"),
    ]
    with LokiFake(entries) as server:
        yield server


def make(url: str, timeout_s: float = 0.5, services: str = "api,web") -> LokiMonitor:
    settings = MonitorSettings(loki_url=url, log_services=services, monitor_timeout_s=timeout_s, _env_file=None)  # type: ignore[call-arg]
    monitor = LokiMonitor.from_settings(settings)
    assert monitor is not None
    return monitor


@pytest.fixture
async def loki(fake: LokiFake) -> AsyncIterator[LokiMonitor]:
    monitor = make(fake.url)
    yield monitor
    await monitor.aclose()


class TestQuery:
    async def test_sends_escaped_selector_range_and_limit(self, loki: LokiMonitor, fake: LokiFake) -> None:
        """The range query carries the configured selector, a window-wide ns range, the limit, backward."""
        await loki.errors("api", HOUR, 25)
        lines_req = next(r for r in fake.requests if r.path == "/loki/api/v1/query_range")
        q = {k: v[0] for k, v in lines_req.query.items()}
        assert q["query"] == '{service="api"} ' + FILTER
        assert int(q["end"]) - int(q["start"]) == 3600 * 10**9
        assert abs(int(q["end"]) - time.time_ns()) < 60 * 10**9
        assert q["limit"] == "25"
        assert q["direction"] == "backward"
        count_req = next(r for r in fake.requests if r.path == "/loki/api/v1/query")
        assert count_req.query["query"] == ['sum(count_over_time({service="api"} ' + FILTER + " [3600s]))"]

    async def test_returns_count_and_lines_newest_first(self, loki: LokiMonitor) -> None:
        """Lines from several streams are merged newest first; the count comes from the instant query."""
        result = await loki.errors("api", HOUR, 10)
        assert result.error_count == 2
        assert [line.message for line in result.lines] == ["ERROR db pool exhausted", "ERROR payment timeout"]
        assert result.service == "api" and result.window == HOUR

    async def test_count_is_not_capped_by_limit(self, loki: LokiMonitor, fake: LokiFake) -> None:
        """More errors than `limit`: all are counted, `limit` lines are returned."""
        fake.entries += [Entry({"service": "api"}, ago(100 + i), f"ERROR n{i}") for i in range(20)]
        result = await loki.errors("api", HOUR, 5)
        assert result.error_count == 22
        assert len(result.lines) == 5

    async def test_empty_window(self, loki: LokiMonitor) -> None:
        """No matching lines: zero errors, no lines (Loki answers an empty vector)."""
        result = await loki.errors("web", timedelta(seconds=1), 10)
        assert (result.error_count, result.lines) == (0, [])


class TestInjection:
    async def test_unknown_service_rejected_before_any_request(self, loki: LokiMonitor, fake: LokiFake) -> None:
        """A service outside LOG_SERVICES never reaches Loki."""
        with pytest.raises(MonitorError, match="unknown service"):
            await loki.errors('api"} or {job=~".+', HOUR, 10)
        assert fake.requests == []

    @pytest.mark.parametrize(
        ("raw", "literal"),
        [
            ("api", '"api"'),
            ('we"b', r'"we\"b"'),
            ("a\\b", r'"a\\b"'),
            ('x"} |= "', r'"x\"} |= \""'),
            ("line\nbreak\x01", r'"line\nbreak\x01"'),
        ],
    )
    def test_logql_string_escapes(self, raw: str, literal: str) -> None:
        """Quotes, backslashes and control characters are escaped; Loki's unquoting gives the raw value back."""
        assert logql_string(raw) == literal
        assert unquote(literal) == raw

    async def test_configured_service_with_quote_matches_exactly(self) -> None:
        """Even a configured name holding `"` and `\\` reaches Loki as one exact label value."""
        odd = 'we"b\\1'
        with LokiFake([Entry({"service": odd}, ago(5), "ERROR odd")]) as fake:
            monitor = LokiMonitor(fake.url, httpx.AsyncClient(), 0.5, services=[odd], error_filter=FILTER)
            try:
                result = await monitor.errors(odd, HOUR, 10)
            finally:
                await monitor.aclose()
        assert result.error_count == 1
        (lines_req,) = [r for r in fake.requests if r.path == "/loki/api/v1/query_range"]  # both run at once
        assert lines_req.query["query"][0].startswith(r'{service="we\"b\\1"}')

    def test_selector_shape(self) -> None:
        assert log_selector("app", "api", "") == '{app="api"}'

    def test_label_name_validated_by_settings(self) -> None:
        """The label is inserted unquoted, so settings accept only a label name."""
        with pytest.raises(ValueError, match="label name"):
            MonitorSettings(loki_service_label='service"}', _env_file=None)  # type: ignore[call-arg]


class TestErrors:
    async def test_bad_logql_reports_loki_parse_error(self, fake: LokiFake) -> None:
        """Loki's 400 plain-text parse error becomes the reason."""
        monitor = LokiMonitor(fake.url, httpx.AsyncClient(), 0.5, services=["api"], error_filter="|~ unquoted")
        try:
            with pytest.raises(MonitorError) as info:
                await monitor.errors("api", HOUR, 10)
        finally:
            await monitor.aclose()
        assert info.value.reason.startswith("query rejected: parse error at line 1")

    @pytest.mark.parametrize(
        ("fault", "reason"),
        [
            ("hang", "timeout after 0.5s"),
            ("500", "HTTP 500"),
            ("401", "auth rejected (HTTP 401)"),
            ("garbage", "bad response (not JSON)"),
            ("reset", "connection dropped"),
        ],
    )
    async def test_faults(self, loki: LokiMonitor, fake: LokiFake, fault: str, reason: str) -> None:
        """Every transport or HTTP failure is a MonitorError with a short reason."""
        fake.fault = fault
        with pytest.raises(MonitorError) as info:
            await loki.errors("api", HOUR, 10)
        assert info.value.reason in reason.split("|")

    async def test_refused(self) -> None:
        monitor = make(closed_port_url())
        try:
            health = await monitor.health_check()
            with pytest.raises(MonitorError, match="connection refused"):
                await monitor.errors("api", HOUR, 10)
        finally:
            await monitor.aclose()
        assert (health.ok, health.reason) == (False, "connection refused")

    async def test_unexpected_shape(self, loki: LokiMonitor, fake: LokiFake) -> None:
        """A matrix where streams were expected is a shape error, not a crash."""
        fake.routes[("GET", "/loki/api/v1/query_range")] = lambda req: Reply(
            200, {"status": "success", "data": {"resultType": "matrix", "result": []}}
        )
        with pytest.raises(MonitorError, match=r"bad response \(unexpected shape\)"):
            await loki.errors("api", HOUR, 10)


class TestHealth:
    async def test_ready(self, loki: LokiMonitor) -> None:
        health = await loki.health_check()
        assert health.ok and health.monitor == "loki"

    async def test_not_ready_says_why(self, loki: LokiMonitor, fake: LokiFake) -> None:
        fake.ready = False
        health = await loki.health_check()
        assert not health.ok
        assert health.reason.startswith("not ready: Ingester not ready")

    async def test_hang(self, loki: LokiMonitor, fake: LokiFake) -> None:
        fake.fault = "hang"
        health = await loki.health_check()
        assert (health.ok, health.reason) == (False, "timeout after 0.5s")

    async def test_garbage(self, loki: LokiMonitor, fake: LokiFake) -> None:
        fake.fault = "garbage"
        health = await loki.health_check()
        assert (health.ok, health.reason) == (False, "bad response (unexpected shape)")

    def test_not_configured(self) -> None:
        assert LokiMonitor.from_settings(MonitorSettings(_env_file=None)) is None  # type: ignore[call-arg]
