"""Query injection: whatever a user texts, backends receive only configured names and alias queries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from quart import Quart

from bot.app import create_app
from dialogs.store import MemorySessionStore
from monitors.aliases import DEFAULT_ALIASES
from monitors.loki import LokiMonitor, log_selector
from monitors.prometheus import TARGET_AGE, TARGETS_DOWN, PrometheusMonitor
from monitors.registry import Monitors
from tests.conftest import make_settings
from tests.fakes.loki import LokiFake
from tests.fakes.server import FakeServer, Reply
from tests.phone import NUMBERS, Phone

SERVICES = ("api", "web")
ERROR_FILTER = '|~ "(?i)(error|fatal|panic|exception)"'
HOSTILE = [
    'api"} |~ ".*', 'api"}', '{service=~".+"}', "$(rm -rf /)", "`id`", "api' or '1'='1", 'web\\" |= "',
    "api|~.*", "api\n{job=\"x\"}", "*", ".+", "api) or vector(1", "api%22%7D", "{{api}}", "ａｐｉ\"}",
]
METRIC_HOSTILE = [
    'cpu{job=~".+"}', "cpu or vector(1)", "sum(rate(x[5m]))", 'up{instance="a"} / 0', "cpu)", "cpu; drop",
    "cpu\nup", "count({__name__=~\".+\"})", "memory[5m]",
]


@dataclass
class Backends:
    loki: LokiFake
    prometheus: FakeServer


@pytest.fixture
def backends() -> Iterator[Backends]:
    with LokiFake() as loki, FakeServer() as prom:
        prom.routes[("GET", "/api/v1/query")] = lambda _req: Reply(
            200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        yield Backends(loki, prom)


@pytest.fixture
async def app(backends: Backends) -> AsyncIterator[Quart]:
    settings = make_settings(loki_url=backends.loki.url, prometheus_url=backends.prometheus.url,
                             log_services=",".join(SERVICES), loki_error_filter=ERROR_FILTER,
                             rate_limit_per_min=100_000)
    loki, prom = LokiMonitor.from_settings(settings), PrometheusMonitor.from_settings(settings)
    assert loki is not None and prom is not None
    monitors = Monitors([prom, loki], DEFAULT_ALIASES, list(SERVICES))
    application = create_app(settings, store=MemorySessionStore(1800), monitors=monitors)
    async with application.test_app():
        yield application


def assert_only_configured(backends: Backends) -> None:
    selectors = {log_selector("service", s, ERROR_FILTER) for s in SERVICES}
    for req in backends.loki.requests:
        if req.path == "/ready":
            continue
        query = req.query["query"][0]
        inner = re.fullmatch(r"sum\(count_over_time\((.*) \[\d+s\]\)\)", query)
        assert (inner[1] if inner else query) in selectors, query
    # ...and the adapter's own fixed queries (targets down, for `status` and stale rows)
    aliases = {a.query for a in DEFAULT_ALIASES.values()} | {TARGETS_DOWN, TARGET_AGE}
    for req in backends.prometheus.requests:
        if req.path == "/api/v1/query":
            assert req.query["query"][0] in aliases, req.query["query"][0]


class TestInjection:
    @pytest.mark.parametrize("name", HOSTILE)
    async def test_hostile_service_names_never_reach_loki(self, app: Quart, backends: Backends, name: str) -> None:
        """In the command and as the answer to "which service?": only api/web selectors are ever sent."""
        phone = Phone(app.test_client(), NUMBERS[0])
        await phone.text(f"logs {name} 1h")
        await phone.text("reset")
        await phone.text("logs")
        await phone.text(name)
        await phone.text("1h")
        await phone.text(f"{name} 6h")  # a follow-up naming a service
        assert_only_configured(backends)

    @pytest.mark.parametrize("metric", METRIC_HOSTILE)
    async def test_hostile_metric_names_never_reach_prometheus(self, app: Quart, backends: Backends,
                                                               metric: str) -> None:
        """Only the configured alias queries are sent, whatever follows `metrics`."""
        phone = Phone(app.test_client(), NUMBERS[1])
        await phone.text(f"metrics {metric}")
        await phone.text("reset")
        await phone.text("metrics")
        await phone.text(metric)
        assert_only_configured(backends)

    async def test_the_checks_do_see_real_queries(self, app: Quart, backends: Backends) -> None:
        """Sanity: plain requests do reach the fakes, so the assertions above are not vacuous."""
        phone = Phone(app.test_client(), NUMBERS[2])
        await phone.text("logs api 1h")
        await phone.text("metrics cpu")
        assert any(r.path == "/loki/api/v1/query_range" for r in backends.loki.requests)
        assert any(r.path == "/api/v1/query" for r in backends.prometheus.requests)
        assert_only_configured(backends)
