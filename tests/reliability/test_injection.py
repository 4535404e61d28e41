"""Injection: backends receive only configured names and alias queries; logs receive no control characters."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from quart import Quart

from bot.logconfig import FORMAT, SafeFormatter
from bot.security import mask
from dialogs.store import MemorySessionStore
from monitors.aliases import DEFAULT_ALIASES
from monitors.loki import LokiMonitor, log_selector
from monitors.prometheus import TARGET_AGE, TARGETS_DOWN, PrometheusMonitor
from monitors.registry import Monitors
from tests.apps import SmsApp
from tests.conftest import make_settings
from tests.fakes.loki import LokiFake
from tests.fakes.server import FakeServer, Reply
from tests.phone import NUMBERS, Phone

SERVICES = ("api", "web")
ERROR_FILTER = '|~ "(?i)(error|fatal|panic|exception)"'
HOSTILE = [
    'api"} |~ ".*',
    'api"}',
    '{service=~".+"}',
    "$(rm -rf /)",
    "`id`",
    "api' or '1'='1",
    'web\\" |= "',
    "api|~.*",
    'api\n{job="x"}',
    "*",
    ".+",
    "api) or vector(1",
    "api%22%7D",
    "{{api}}",
    'ａｐｉ"}',
]
METRIC_HOSTILE = [
    'cpu{job=~".+"}',
    "cpu or vector(1)",
    "sum(rate(x[5m]))",
    'up{instance="a"} / 0',
    "cpu)",
    "cpu; drop",
    "cpu\nup",
    'count({__name__=~".+"})',
    "memory[5m]",
]


@dataclass
class Backends:
    loki: LokiFake
    prometheus: FakeServer


@pytest.fixture
def backends() -> Iterator[Backends]:
    with LokiFake() as loki, FakeServer() as prom:
        prom.routes[("GET", "/api/v1/query")] = lambda _req: Reply(
            200, {"status": "success", "data": {"resultType": "vector", "result": []}}
        )
        yield Backends(loki, prom)


@pytest.fixture
async def app(sms_app: SmsApp, backends: Backends) -> AsyncIterator[Quart]:
    values: dict[str, object] = {
        "loki_url": backends.loki.url,
        "prometheus_url": backends.prometheus.url,
        "log_services": ",".join(SERVICES),
        "loki_error_filter": ERROR_FILTER,
        "rate_limit_per_min": 100_000,
    }
    settings = make_settings(**values)
    loki, prom = LokiMonitor.from_settings(settings), PrometheusMonitor.from_settings(settings)
    assert loki is not None and prom is not None
    monitors = Monitors([prom, loki], DEFAULT_ALIASES, list(SERVICES))
    async with sms_app(store=MemorySessionStore(1800), monitors=monitors, **values) as application:
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
    async def test_hostile_metric_names_never_reach_prometheus(
        self, app: Quart, backends: Backends, metric: str
    ) -> None:
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


HOSTILE_FROM = [
    "+1415\r\n2026-01-01 00:00:00 INFO bot.pipeline: admin logged in",
    "\r\nFAKE LINE\r\n+14155550100",
    "\x1b[2J\x1b[31mred\x1b[0m+14155550100",
    "+14155550100\x1b]0;pwned\x07",
    "+1\n\n\n\n\n\n\n\n2",
    "\u2028+14155550100\u2029",
    "\x00\x00\x00\x00\x00\x00\x00\x00",
]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged, formatted exactly as `operator serve` formats it."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(SafeFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old_level)


def assert_clean(text: str) -> None:
    """One record per line, each starting with a timestamp; no raw control character anywhere."""
    for line in text.splitlines():
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", line), repr(line)
    assert not any(not ch.isprintable() for ch in text.replace("\n", "")), repr(text)


class TestLogInjection:
    @pytest.mark.parametrize("sender", HOSTILE_FROM)
    async def test_control_characters_in_from_cannot_forge_log_lines(
        self, captured: io.StringIO, sender: str, sms_app: SmsApp
    ) -> None:
        """A refused sender with CR/LF/ESC/NUL/line separators at any position writes one clean line."""
        async with sms_app(store=MemorySessionStore(1800)) as app:
            assert await Phone(app.test_client(), sender).text("status") == ""
        text = captured.getvalue()
        assert "refused 1 message(s)" in text
        assert_clean(text)
        assert "admin logged in" not in text and "FAKE LINE" not in text

    def test_mask_never_emits_control_characters(self) -> None:
        for raw in [*HOSTILE_FROM, "\r+14155550100\n", "\x1b" * 3, "+1" + "9" * 100_000]:
            masked = mask(raw)
            assert masked.isprintable(), repr(masked)
            assert len(masked) < 60

    def test_the_formatter_escapes_message_and_arguments(self) -> None:
        record = logging.LogRecord("bot", logging.WARNING, __file__, 1, "got %s\nnext", ("a\r\nb\x1b[0m",), None)
        line = SafeFormatter(FORMAT).format(record)
        assert "\n" not in line and "\r" not in line and "\x1b" not in line
        assert line.endswith("got a\\r\\nb\\x1b[0m\\nnext")

    async def test_a_flood_of_strangers_writes_one_line_per_interval(
        self, captured: io.StringIO, sms_app: SmsApp
    ) -> None:
        """500 refused messages: the first logged at once, the rest as one line with their count."""
        async with sms_app(store=MemorySessionStore(1800)) as app:
            phones = [Phone(app.test_client(), f"+1415666{i:04d}") for i in range(500)]
            for phone in phones:
                await phone.text("status")
        lines = [line for line in captured.getvalue().splitlines() if "refused" in line]
        counts = [int(re.search(r"refused (\d+) message", line)[1]) for line in lines]  # type: ignore[index]
        assert len(lines) == 2, lines
        assert sum(counts) == 500
