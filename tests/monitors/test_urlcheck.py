"""UrlCheckMonitor against real local HTTP(S) servers, with certificates made here by openssl."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import describe_validation_error
from monitors.config import MonitorSettings
from monitors.registry import build_monitors
from monitors.urlcheck import UrlCheckMonitor, UrlSpec, parse_check_urls
from tests.fakes.server import FakeServer, Reply, closed_port_url
from tests.fakes.tls import Certs, https, make_certs

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def routes(server: FakeServer) -> FakeServer:
    server.routes[("GET", "/health")] = lambda _: Reply(200, "ok")
    server.routes[("GET", "/fail")] = lambda _: Reply(503, "down for maintenance")
    server.routes[("GET", "/moved")] = lambda _: Reply(301, "", {"Location": "/health"})
    server.routes[("GET", "/slow")] = lambda _: Reply(200, "ok", delay_s=0.3)
    return server


@pytest.fixture
def hanging() -> Iterator[str]:
    """A socket that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def servers(certs: Certs) -> Iterator[dict[str, str]]:
    """Base URLs: plain http, and https with each kind of certificate."""
    kinds = {"valid": certs.valid, "soon": certs.soon, "expired": certs.expired, "untrusted": certs.untrusted}
    started = {name: routes(FakeServer()) for name in ("plain", *kinds)}
    urls = {"plain": started["plain"].url}
    urls.update({name: https(started[name], cert) for name, cert in kinds.items()})
    for server in started.values():
        server.__enter__()
    yield urls
    for server in started.values():
        server.__exit__(None, None, None)


def make(check_urls: str, certs: Certs, **values: Any) -> UrlCheckMonitor:
    settings = MonitorSettings(
        _env_file=None,
        check_urls=check_urls,
        check_urls_ca_file=str(certs.ca),  # type: ignore[call-arg]
        monitor_timeout_s=TIMEOUT_S,
        **values,
    )
    monitor = UrlCheckMonitor.from_settings(settings)
    assert monitor is not None
    return monitor


@pytest.fixture
async def closing() -> AsyncIterator[list[UrlCheckMonitor]]:
    made: list[UrlCheckMonitor] = []
    yield made
    for monitor in made:
        await monitor.aclose()


class TestSyntax:
    def test_names_urls_status_and_latency(self) -> None:
        specs = parse_check_urls("api=https://x/health|200|500ms, web=https://y|2xx|2s,old=http://z/a?b=1")
        assert specs == [
            UrlSpec("api", "https://x/health", (200, 200), 0.5),
            UrlSpec("web", "https://y", (200, 299), 2.0),
            UrlSpec("old", "http://z/a?b=1", (100, 399), None),
        ]

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            ("https://x", "entry 1 is not name=url"),
            ("api=ftp://user:sekrit@x", "api: not an http(s) URL"),
            ("api=https://x|fast", "neither a status"),
            ("api=https://x,api=https://y", "named twice"),
        ],
    )
    def test_bad_value_names_the_setting(self, value: str, says: str) -> None:
        with pytest.raises(ValidationError) as info:
            MonitorSettings(_env_file=None, check_urls=value)  # type: ignore[call-arg]
        line = describe_validation_error(info.value)  # what start-up prints
        assert line.startswith("invalid setting CHECK_URLS: ") and says in line
        assert "sekrit" not in line

    def test_a_ca_file_that_does_not_load_is_a_setting_error(self, tmp_path: Path) -> None:
        (tmp_path / "ca.pem").write_text("not a certificate")
        for path in (tmp_path / "ca.pem", tmp_path / "missing.pem"):
            with pytest.raises(ValueError, match="check_urls_ca_file"):
                MonitorSettings(_env_file=None, check_urls_ca_file=str(path))  # type: ignore[call-arg]

    def test_urls_are_kept_secret(self) -> None:
        """A URL may carry user:password@: the settings' repr never shows it."""
        settings = MonitorSettings(_env_file=None, check_urls="api=https://u:sekrit@x/health")  # type: ignore[call-arg]
        assert "sekrit" not in repr(settings)


class TestChecks:
    async def test_valid_https_is_up_with_certificate_days(
        self, servers: dict[str, str], certs: Certs, closing: list[UrlCheckMonitor]
    ) -> None:
        monitor = make(f"api={servers['valid']}/health|200|2s", certs)
        closing.append(monitor)
        [result] = await monitor.results()
        assert result.up, result.reason
        assert result.reason.startswith("200 in ")
        assert result.cert_days is not None and 29 < result.cert_days <= 30
        assert await monitor.problems() == []
        health = await monitor.health_check()
        assert health.ok and health.reason == "1/1 up"

    async def test_each_failure_is_one_clear_line(
        self, servers: dict[str, str], certs: Certs, hanging: str, closing: list[UrlCheckMonitor]
    ) -> None:
        """Down, expired, untrusted, hanging, refused, wrong status: one line each, all in one round."""
        monitor = make(
            ",".join(
                [
                    f"ok={servers['valid']}/health",
                    f"api={servers['plain']}/fail",
                    f"old={servers['expired']}/health",
                    f"self={servers['untrusted']}/health",
                    f"hang={hanging}/",
                    f"gone={closed_port_url()}/",
                    f"moved={servers['plain']}/moved|2xx",
                ]
            ),
            certs,
        )
        closing.append(monitor)
        started = time.perf_counter()
        problems = await monitor.problems()
        elapsed = time.perf_counter() - started
        texts = [p.text for p in problems]
        assert all(p.severity == "crit" for p in problems)
        assert len(texts) == 6, texts
        assert any(t.startswith("api DOWN: 503 in ") and t.endswith("ms") for t in texts), texts
        assert "old DOWN: certificate expired" in texts
        assert "self DOWN: certificate not trusted (unknown issuer)" in texts
        assert f"hang DOWN: no answer in {TIMEOUT_S:g}s" in texts
        assert "gone DOWN: connection refused" in texts
        assert any(t.startswith("moved DOWN: 301 in ") for t in texts), texts
        assert elapsed < TIMEOUT_S + 0.5  # in parallel, bounded by the timeout: not the sum
        health = await monitor.health_check()
        assert health.ok and health.reason == "1/7 up"

    async def test_warnings_for_a_certificate_near_its_end_and_a_slow_answer(
        self, servers: dict[str, str], certs: Certs, closing: list[UrlCheckMonitor]
    ) -> None:
        monitor = make(f"soon={servers['soon']}/health,slow={servers['plain']}/slow|100ms", certs)
        closing.append(monitor)
        problems = await monitor.problems()
        texts = sorted(p.text for p in problems)
        assert all(p.severity == "warn" for p in problems)
        assert re.fullmatch(r"slow slow: \d+ms \(limit 100ms\)", texts[0]), texts
        assert texts[1] in ("soon certificate expires in 4d", "soon certificate expires in 5d")

    async def test_cert_warn_days_is_a_setting(
        self, servers: dict[str, str], certs: Certs, closing: list[UrlCheckMonitor]
    ) -> None:
        monitor = make(f"soon={servers['soon']}/health", certs, cert_warn_days=3)
        closing.append(monitor)
        assert await monitor.problems() == []

    async def test_health_and_problems_share_one_round(
        self, servers: dict[str, str], certs: Certs, closing: list[UrlCheckMonitor]
    ) -> None:
        """status asks both at once: each URL is requested once, not twice."""
        plain = FakeServer()
        routes(plain)
        with plain:
            monitor = make(f"a={plain.url}/health", certs)
            closing.append(monitor)
            await asyncio.gather(monitor.health_check(), monitor.problems())
            assert len(plain.requests) == 1

    async def test_registered_from_settings(self, certs: Certs) -> None:
        settings = MonitorSettings(
            _env_file=None,
            check_urls="a=http://127.0.0.1:9/",  # type: ignore[call-arg]
            host_monitor="off",
        )
        monitors = build_monitors(settings)
        assert monitors.names == ["urls"]
        await monitors.aclose()
