"""One contract for every log source: Loki (its fake) and log files on this machine (real files)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monitors.base import MonitorError
from monitors.logfiles import LogFilesMonitor
from monitors.loki import LokiMonitor
from tests.fakes.loki import Entry, LokiFake

HOUR = timedelta(hours=1)
FILTER = '|~ "(?i)(error|fatal|panic|exception)"'
# (seconds ago, service, message)
STORED = [
    (3 * 3600, "api", "ERROR too old"),
    (50 * 60, "api", "ERROR payment timeout"),
    (40 * 60, "api", "INFO all good"),
    (5 * 60, "api", "FATAL out of memory"),
    (2 * 60, "web", "ERROR other service"),
]

Source = LokiMonitor | LogFilesMonitor


def loki_source(fake: LokiFake) -> LokiMonitor:
    now = time.time_ns()
    fake.entries = [Entry({"service": svc}, now - ago * 1_000_000_000, msg) for ago, svc, msg in STORED]
    return LokiMonitor(fake.url, httpx.AsyncClient(timeout=3), 3, services=["api", "web"], error_filter=FILTER)


def files_source(tmp_path: Path) -> LogFilesMonitor:
    now = datetime.now(UTC)
    for service in ("api", "web"):
        lines = [f"{(now - timedelta(seconds=ago)).isoformat()} {msg}" for ago, svc, msg in STORED if svc == service]
        (tmp_path / f"{service}.log").write_text("\n".join(lines) + "\n")
    return LogFilesMonitor({s: [str(tmp_path / f"{s}.log")] for s in ("api", "web")}, 3)


@pytest.fixture
def loki_fake() -> Iterator[LokiFake]:
    with LokiFake() as fake:
        yield fake


@pytest.fixture(params=["loki", "files"])
async def source(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Source]:
    made: Source = (
        loki_source(request.getfixturevalue("loki_fake")) if request.param == "loki" else files_source(tmp_path)
    )
    yield made
    await made.aclose()


class TestLogSourceContract:
    async def test_errors_in_the_window_newest_first(self, source: Source) -> None:
        result = await source.errors("api", HOUR, 10)
        assert result.service == "api" and result.window == HOUR
        assert result.error_count == 2
        assert [line.message for line in result.lines] == ["FATAL out of memory", "ERROR payment timeout"]
        assert result.lines[0].ts > result.lines[1].ts
        assert abs(datetime.now(UTC) - timedelta(minutes=5) - result.lines[0].ts) < timedelta(seconds=5)

    async def test_limit_cuts_the_lines_not_the_count(self, source: Source) -> None:
        result = await source.errors("api", HOUR, 1)
        assert result.error_count == 2 and len(result.lines) == 1

    async def test_services_are_apart(self, source: Source) -> None:
        result = await source.errors("web", HOUR, 10)
        assert [line.message for line in result.lines] == ["ERROR other service"]

    async def test_unknown_service_is_refused_before_any_read(self, source: Source) -> None:
        with pytest.raises(MonitorError, match="unknown service; known: api, web"):
            await source.errors("db", HOUR, 10)

    async def test_health(self, source: Source) -> None:
        health = await source.health_check()
        assert health.ok, health.reason
