"""URL checks: is each configured URL answering as expected, how fast, and for https how
long until its certificate expires.

CHECK_URLS is a comma-separated list of `name=url`, each optionally followed by `|`-separated
expectations in any order:
    api=https://api.example.com/health|200|500ms,web=https://example.com|2xx|2s,old=http://x/|301
    status: `200` (exactly), `2xx` (any in the class); default: any status below 400
    latency: `500ms` or `2s`; slower is a warning, not DOWN
A URL holding a comma or a `|` writes it percent-encoded (%2C, %7C).

Cost: all URLs at once, each a fresh connection (DNS, TCP, TLS: what a user pays) through
one shared client, headers only (the body is never read). Each check ends a little before
MONITOR_TIMEOUT_S, so a hanging URL is reported as such instead of timing out the whole
monitor. `health_check()` and `problems()` share one round of checks when asked together
(status asks both): a round is reused for FRESH_S.

Contract: a URL that fails is a Problem (crit) "api DOWN: 503 in 120ms", a slow one or a
certificate expiring within CERT_WARN_DAYS a warning. The monitor itself is healthy
whenever it could run the checks; its note counts the URLs up ("2/3 up").
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass
from typing import Self

import certifi
import httpx

from monitors.base import Monitor, Problem, ProblemSource
from monitors.config import MonitorSettings

FRESH_S = 2.0
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_STATUS = re.compile(r"([1-5])(\d\d|xx)")
_LATENCY = re.compile(r"(\d+(?:\.\d+)?)(ms|s)")


@dataclass(frozen=True, slots=True)
class UrlSpec:
    name: str
    url: str
    status: tuple[int, int] = (100, 399)  # accepted status codes, inclusive
    max_latency_s: float | None = None


def parse_check_urls(value: str) -> list[UrlSpec]:
    """CHECK_URLS -> specs; ValueError names the entry that is wrong and why."""
    specs: list[UrlSpec] = []
    entries = [e.strip() for e in value.split(",") if e.strip()]
    for number, entry in enumerate(entries, 1):
        name, sep, rest = (part.strip() for part in entry.partition("="))
        url, *options = (part.strip() for part in rest.split("|"))
        # Errors name the entry, never echo its URL: it may carry user:password@.
        if not sep or not _NAME.fullmatch(name):
            raise ValueError(f"entry {number} is not name=url")
        if not re.match(r"https?://[^/\s]+", url):
            raise ValueError(f"{name}: not an http(s) URL")
        status, latency = (100, 399), None
        for option in options:
            if m := _STATUS.fullmatch(option.lower()):
                low = int(m.group(1)) * 100
                status = (low, low + 99) if m.group(2) == "xx" else (int(option),) * 2
            elif m := _LATENCY.fullmatch(option.lower()):
                latency = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
            else:
                raise ValueError(f"{name}: {option[:12]!r} is neither a status (200, 2xx) nor a latency (500ms, 2s)")
        if any(s.name == name for s in specs):
            raise ValueError(f"{name}: named twice")
        specs.append(UrlSpec(name, url, status, latency))
    return specs


@dataclass(frozen=True, slots=True)
class UrlResult:
    spec: UrlSpec
    up: bool
    reason: str  # "503 in 120ms", "certificate expired", "no answer in 3s", or "200 in 45ms"
    latency_s: float = 0.0
    cert_days: float | None = None  # https only: days until the certificate's notAfter


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms"


def _failure(exc: BaseException, timeout_s: float) -> str:  # noqa: C901 - one branch per transport failure, each with its SMS wording
    """Short reason for a failed check, from the whole cause chain (httpx wraps ssl and socket errors)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for err in chain:
        if isinstance(err, ssl.SSLCertVerificationError):
            message = (err.verify_message or str(err)).lower()
            if "expired" in message:
                return "certificate expired"
            if "hostname" in message or "ip address mismatch" in message:
                return "certificate is for another host"
            if "self-signed" in message or "self signed" in message or "issuer" in message:
                return "certificate not trusted (unknown issuer)"
            return f"certificate rejected ({message[:40]})"
        if isinstance(err, ssl.SSLError):
            return "TLS handshake failed"
    for err in chain:
        if isinstance(err, TimeoutError | httpx.TimeoutException):
            return f"no answer in {timeout_s:g}s"
        if isinstance(err, ConnectionRefusedError) or "refused" in str(err).lower():
            return "connection refused"
        if "name or service not known" in str(err).lower() or "nodename nor servname" in str(err).lower():
            return "host not found"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection dropped"
    return "unreachable"


def _cert_days(response: httpx.Response) -> float | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    return (ssl.cert_time_to_seconds(not_after) - time.time()) / 86400


class UrlCheckMonitor(Monitor, ProblemSource):
    """Every URL of CHECK_URLS, checked at once."""

    name = "urls"

    def __init__(
        self, specs: list[UrlSpec], client: httpx.AsyncClient, timeout_s: float, *, cert_warn_days: int = 14
    ) -> None:
        super().__init__(timeout_s)
        self.specs, self.client, self.cert_warn_days = specs, client, cert_warn_days
        # Each check gives up a little before the monitor's own deadline, so it can say why.
        self.check_timeout_s = timeout_s - min(0.2, timeout_s / 10)
        self._round: asyncio.Future[list[UrlResult]] | None = None
        self._round_at = 0.0

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.check_urls is None or not settings.check_urls.get_secret_value():
            return None
        context = ssl.create_default_context(cafile=certifi.where())
        if settings.check_urls_ca_file:
            context.load_verify_locations(settings.check_urls_ca_file)
        client = httpx.AsyncClient(
            verify=context,
            follow_redirects=False,
            timeout=settings.monitor_timeout_s,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        return cls(
            parse_check_urls(settings.check_urls.get_secret_value()),
            client,
            settings.monitor_timeout_s,
            cert_warn_days=settings.cert_warn_days,
        )

    async def check(self, spec: UrlSpec) -> UrlResult:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.check_timeout_s), self.client.stream("GET", spec.url) as response:
                latency = time.perf_counter() - start
                days = _cert_days(response)
                code = response.status_code
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return UrlResult(spec, False, _failure(exc, self.timeout_s), time.perf_counter() - start)
        up = spec.status[0] <= code <= spec.status[1]
        return UrlResult(spec, up, f"{code} in {_ms(latency)}", latency, days)

    async def results(self) -> list[UrlResult]:
        """One round of checks, shared by callers within FRESH_S of each other."""
        now = time.monotonic()
        if self._round is None or (self._round.done() and now - self._round_at > FRESH_S):
            self._round_at = now
            self._round = asyncio.ensure_future(asyncio.gather(*(self.check(s) for s in self.specs)))
        return await asyncio.shield(self._round)

    async def probe(self) -> str:
        results = await self.results()
        return f"{sum(r.up for r in results)}/{len(results)} up"

    async def problems(self) -> list[Problem]:
        found: list[Problem] = []
        for r in await self.call(self.results()):
            name = r.spec.name
            if not r.up:
                found.append(Problem("crit", self.name, f"{name} DOWN: {r.reason}"))
                continue
            limit = r.spec.max_latency_s
            if limit is not None and r.latency_s > limit:
                found.append(Problem("warn", self.name, f"{name} slow: {_ms(r.latency_s)} (limit {_ms(limit)})"))
            if r.cert_days is not None and r.cert_days < self.cert_warn_days:
                found.append(Problem("warn", self.name, f"{name} certificate expires in {max(0, int(r.cert_days))}d"))
        return sorted(found, key=lambda p: p.severity != "crit")

    async def aclose(self) -> None:
        await self.client.aclose()
