"""ElasticsearchMonitor against a fake Elasticsearch built from the documented API shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitors.base import MonitorError
from monitors.config import MonitorSettings
from monitors.elasticsearch import ElasticsearchMonitor, field_value, parse_timestamp
from monitors.registry import Monitors
from monitors.rollup import format_status
from tests.fakes.elasticsearch import ElasticsearchFake
from tests.fakes.server import Reply, closed_port_url

HOUR = timedelta(hours=1)


def doc(service: str, level: str, message: str, seconds_ago: float) -> dict[str, Any]:
    ts = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"@timestamp": ts, "log.level": level, "message": message, "service": {"name": service}}


@pytest.fixture
def fake() -> Iterator[ElasticsearchFake]:
    docs = [
        doc("api", "error", "upstream timed out", 60),
        doc("api", "fatal", "out of memory", 30),
        doc("api", "info", "request served", 10),
        doc("api", "error", "too old", 7200),
        doc("web", "error", "other service", 5),
    ]
    with ElasticsearchFake(docs) as server:
        yield server


def make(url: str, timeout_s: float = 0.5, **extra: Any) -> ElasticsearchMonitor:
    settings = MonitorSettings(
        elasticsearch_url=url, log_services="api,web", monitor_timeout_s=timeout_s, _env_file=None, **extra
    )  # type: ignore[call-arg]
    monitor = ElasticsearchMonitor.from_settings(settings)
    assert monitor is not None
    return monitor


@pytest.fixture
async def es(fake: ElasticsearchFake) -> AsyncIterator[ElasticsearchMonitor]:
    monitor = make(fake.url)
    yield monitor
    await monitor.aclose()


class TestSearch:
    async def test_sends_range_term_terms_sort_size(self, es: ElasticsearchMonitor, fake: ElasticsearchFake) -> None:
        """The body filters on time, service (a term value) and levels, newest first, exact count."""
        await es.errors("api", HOUR, 20)
        (req,) = fake.requests
        assert (req.method, req.path) == ("POST", "/logs-*/_search")
        body = req.json()
        assert body["size"] == 20
        assert body["track_total_hits"] is True
        assert body["sort"] == [{"@timestamp": {"order": "desc"}}]
        assert body["query"]["bool"]["filter"] == [
            {"range": {"@timestamp": {"gte": "now-3600s", "lte": "now"}}},
            {"term": {"service.name": "api"}},
            {"terms": {"log.level": ["error", "fatal", "critical"]}},
        ]

    async def test_returns_count_and_lines_newest_first(self, es: ElasticsearchMonitor) -> None:
        result = await es.errors("api", HOUR, 20)
        assert result.error_count == 2
        assert [line.message for line in result.lines] == ["out of memory", "upstream timed out"]
        assert result.lines[0].ts.tzinfo is not None

    async def test_count_beyond_size(self, es: ElasticsearchMonitor, fake: ElasticsearchFake) -> None:
        """hits.total.value is the full count even when only `size` hits come back."""
        fake.docs += [doc("api", "error", f"e{i}", 100 + i) for i in range(10)]
        result = await es.errors("api", HOUR, 3)
        assert (result.error_count, len(result.lines)) == (12, 3)

    async def test_configured_field_names(self, fake: ElasticsearchFake) -> None:
        """Field names and levels come from settings."""
        fake.docs = [
            {
                "@timestamp": doc("api", "", "", 1)["@timestamp"],
                "svc": "api",
                "lvl": "ERR",
                "msg": {"text": "nested message"},
            }
        ]
        monitor = make(
            fake.url,
            elasticsearch_service_field="svc",
            elasticsearch_level_field="lvl",
            elasticsearch_error_levels="ERR",
            elasticsearch_message_field="msg.text",
        )
        try:
            result = await monitor.errors("api", HOUR, 5)
        finally:
            await monitor.aclose()
        assert [line.message for line in result.lines] == ["nested message"]

    async def test_unknown_service_rejected_before_any_request(
        self, es: ElasticsearchMonitor, fake: ElasticsearchFake
    ) -> None:
        with pytest.raises(MonitorError, match="unknown service"):
            await es.errors("api OR *", HOUR, 10)
        assert fake.requests == []

    async def test_api_key_header(self) -> None:
        """ELASTICSEARCH_API_KEY travels as `Authorization: ApiKey ...`; a wrong one is an auth failure."""
        with ElasticsearchFake([doc("api", "error", "x", 5)], api_key="k3y") as fake:
            good, bad = make(fake.url, elasticsearch_api_key="k3y"), make(fake.url, elasticsearch_api_key="nope")
            try:
                assert (await good.errors("api", HOUR, 5)).error_count == 1
                with pytest.raises(MonitorError) as info:
                    await bad.errors("api", HOUR, 5)
            finally:
                await good.aclose()
                await bad.aclose()
        assert info.value.reason == "auth rejected (HTTP 401)"
        assert "nope" not in info.value.reason


class TestErrors:
    async def test_es_400_error_json(self, es: ElasticsearchMonitor, fake: ElasticsearchFake) -> None:
        """ES's 400 error JSON is worded from its type and reason."""
        fake.docs.append({"@timestamp": "not a date", "log.level": "error", "service": {"name": "api"}})
        with pytest.raises(MonitorError) as info:
            await es.errors("api", HOUR, 5)
        assert info.value.reason.startswith("HTTP 400 parsing_exception: ")

    async def test_missing_index(self, fake: ElasticsearchFake) -> None:
        fake.routes[("POST", "/nope/_search")] = lambda req: Reply(
            404,
            {
                "error": {"root_cause": [], "type": "index_not_found_exception", "reason": "no such index [nope]"},
                "status": 404,
            },
        )
        monitor = make(fake.url, elasticsearch_index="nope")
        try:
            with pytest.raises(MonitorError, match="index not found"):
                await monitor.errors("api", HOUR, 5)
        finally:
            await monitor.aclose()

    @pytest.mark.parametrize(
        ("fault", "reason"),
        [
            ("hang", "timeout after 0.5s"),
            ("500", "HTTP 500"),
            ("401", "auth rejected (HTTP 401)"),
            ("garbage", "bad response (not JSON)"),
        ],
    )
    async def test_faults(self, es: ElasticsearchMonitor, fake: ElasticsearchFake, fault: str, reason: str) -> None:
        fake.fault = fault
        with pytest.raises(MonitorError) as info:
            await es.errors("api", HOUR, 5)
        assert info.value.reason == reason
        health = await es.health_check()
        assert (health.ok, health.reason) == (False, reason if fault != "garbage" else "bad response (not JSON)")

    async def test_refused(self) -> None:
        monitor = make(closed_port_url())
        try:
            health = await monitor.health_check()
        finally:
            await monitor.aclose()
        assert (health.ok, health.reason) == (False, "connection refused")

    async def test_unexpected_shape(self, es: ElasticsearchMonitor, fake: ElasticsearchFake) -> None:
        """hits.total as a bare integer (rest_total_hits_as_int) is not what we asked for: shape error."""
        fake.routes[("POST", "/logs-*/_search")] = lambda req: Reply(200, {"hits": {"total": 3, "hits": []}})
        with pytest.raises(MonitorError, match=r"bad response \(unexpected shape\)"):
            await es.errors("api", HOUR, 5)


class TestHealth:
    @pytest.mark.parametrize(
        ("status", "ok", "reason", "degraded"),
        [
            ("green", True, "", False),
            ("yellow", True, "cluster yellow (replicas unassigned)", True),
            ("red", False, "cluster red", False),
        ],
    )
    async def test_cluster_health(
        self, es: ElasticsearchMonitor, fake: ElasticsearchFake, status: str, ok: bool, reason: str, degraded: bool
    ) -> None:
        """Red is down; yellow is up but degraded, which `status` shows as a warning."""
        fake.health = status
        health = await es.health_check()
        assert (health.ok, health.reason, health.degraded) == (ok, reason, degraded)
        assert fake.requests[-1].path == "/_cluster/health"


class TestHelpers:
    def test_field_value_literal_or_nested(self) -> None:
        source = {"log.level": "error", "service": {"name": "api"}}
        assert field_value(source, "log.level") == "error"
        assert field_value(source, "service.name") == "api"
        with pytest.raises(KeyError):
            field_value(source, "missing.field")

    def test_parse_timestamp(self) -> None:
        assert parse_timestamp("2023-11-14T22:13:20Z") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
        assert parse_timestamp(1700000000000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


class TestStatus:
    async def test_yellow_is_a_warning_in_status(self, es: ElasticsearchMonitor, fake: ElasticsearchFake) -> None:
        """A degraded-but-working cluster is not counted silently as ok: `status` warns."""
        fake.health = "yellow"
        survey = await Monitors([es]).survey()
        assert format_status(survey.problems, survey.healths).splitlines() == [
            "WARN elasticsearch: cluster yellow (replicas unassigned)",
            "1/1 sources ok (elasticsearch)",
        ]
        fake.health = "green"
        survey = await Monitors([es]).survey()
        assert format_status(survey.problems, survey.healths) == "All clear: 1/1 sources ok (elasticsearch)."
