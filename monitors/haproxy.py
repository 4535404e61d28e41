"""HAProxy: backend and server health for `gateway` and `status`, from the stats CSV (HAPROXY_STATS_URL).

HAPROXY_STATS_URL points at the CSV export, e.g. `http://lb:8404/stats;csv`. One GET
per question; the first line is the header (`# pxname,svname,...`). Per backend we say
how many servers are up and name the others with their status and why (HAProxy's
`check_status`/`last_chk`, and `lastchg`: how long ago it changed state), current
sessions, and the 5xx responses over a fixed window (GATEWAY_WINDOW_S).

The window: HAProxy only has totals since its start, so the adapter keeps samples of
the counters - from every fetch, and from a background sampler (every window/5, started
on first use, stopped by `aclose`) - and compares now with the newest sample at least a
window old. The answer is the same whoever asked last; until a window of samples exists
it says how long it covers ("5xx 3 in last 40s").
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import time
from collections import deque
from dataclasses import dataclass
from typing import Self

import httpx

from monitors.alerting import format_age_s
from monitors.base import GATEWAY, HttpMonitor, MonitorError, Problem, ProblemSource, Report, ReportSource
from monitors.config import MonitorSettings, Thresholds

_AGGREGATES = ("FRONTEND", "BACKEND")
# Server states that still take traffic. "UP 1/3" / "DOWN 1/2" are transitions in progress.
_SERVING = ("UP", "NOLB", "DRAIN", "no check")


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    status: str
    check: str = ""  # check_status: L4CON, L7STS, L4TOUT, ...
    last_check: str = ""  # last_chk: "Connection refused", "HTTP status check returned code <500>"
    since_s: int | None = None  # lastchg: seconds since the last state change

    @property
    def serving(self) -> bool:
        return self.status.startswith(_SERVING)

    def why(self) -> str:
        """`dead1 DOWN L4CON Connection refused for 3m`: what HAProxy knows about a server not up.

        "for", not a comma: several servers are listed with commas between them."""
        detail = " ".join(part for part in (self.check, self.last_check) if part)
        since = f" for {format_age_s(self.since_s)}" if self.since_s is not None else ""
        return f"{self.name} {self.status}" + (f" {detail}" if detail else "") + since


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    status: str
    sessions: int
    responses: int  # all HTTP responses (hrsp_*), for the 5xx share
    errors_5xx: int
    servers: list[Server]

    @property
    def not_serving(self) -> list[Server]:
        return [server for server in self.servers if not server.serving]


@dataclass(frozen=True, slots=True)
class Rate:
    """5xx over the window: count, share of responses, and the span actually covered."""

    errors: int
    responses: int
    span_s: float

    @property
    def share_pct(self) -> float | None:
        return 100 * self.errors / self.responses if self.responses > 0 else None

    def text(self) -> str:
        share = f" ({self.share_pct:.0f}%)" if self.share_pct is not None else ""
        return f"5xx {self.errors} in last {format_age_s(self.span_s)}{share}"


def _int(value: str | None) -> int:
    return int(value) if value else 0  # empty cells: not applicable (e.g. tcp mode)


def parse_stats(text: str) -> list[Backend]:
    """Backends with their servers, in CSV order; raises ValueError on another shape."""
    if not text.startswith("# pxname,svname,"):
        raise ValueError("not HAProxy stats CSV")
    rows = list(csv.DictReader(io.StringIO(text[2:])))
    servers: dict[str, list[Server]] = {}
    for row in rows:
        if row["svname"] not in _AGGREGATES:
            since = row.get("lastchg") or ""
            servers.setdefault(row["pxname"], []).append(
                Server(
                    row["svname"],
                    row["status"],
                    (row.get("check_status") or "").lstrip("* "),
                    row.get("last_chk") or "",
                    int(since) if since.isdigit() else None,
                )
            )
    codes = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
    return [
        Backend(
            row["pxname"],
            row["status"],
            _int(row["scur"]),
            sum(_int(row.get(c)) for c in codes),
            _int(row.get("hrsp_5xx")),
            servers.get(row["pxname"], []),
        )
        for row in rows
        if row["svname"] == "BACKEND"
    ]


Sample = tuple[float, dict[str, tuple[int, int]]]  # (monotonic time, backend -> (responses, 5xx))


class HAProxyMonitor(HttpMonitor, ReportSource, ProblemSource):
    """`gateway` and `status` from HAProxy's stats page; keeps counter samples for the 5xx window."""

    name = "haproxy"
    capabilities = frozenset({GATEWAY})

    def __init__(
        self, stats_url: str, client: httpx.AsyncClient, timeout_s: float, limits: Thresholds | None = None
    ) -> None:
        super().__init__(stats_url, client, timeout_s)
        self.stats_url = stats_url  # used as is: `;csv` is part of the path
        self.limits = limits or Thresholds()
        self.samples: deque[Sample] = deque()
        self._sampler: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.haproxy_stats_url is None:
            return None
        client = httpx.AsyncClient(timeout=settings.monitor_timeout_s)
        return cls(
            settings.haproxy_stats_url.get_secret_value(),
            client,
            settings.monitor_timeout_s,
            Thresholds.from_settings(settings),
        )

    async def _fetch(self) -> list[Backend]:
        response = await self.client.get(self.stats_url)
        response.raise_for_status()
        backends = parse_stats(response.text)
        self.remember(time.monotonic(), backends)
        if self._sampler is None:
            self._sampler = asyncio.create_task(self._sample_forever())
        return backends

    def remember(self, now: float, backends: list[Backend]) -> None:
        """Keep a sample; drop the ones no window comparison can need any more."""
        self.samples.append((now, {b.name: (b.responses, b.errors_5xx) for b in backends}))
        window = self.limits.gateway_window_s
        while len(self.samples) > 1 and self.samples[1][0] <= now - window:
            self.samples.popleft()

    def rate(self, backend: Backend, now: float) -> Rate | None:
        """5xx since the newest sample at least a window old (else the oldest kept); None without one."""
        window = self.limits.gateway_window_s
        older = [(t, counts) for t, counts in self.samples if t <= now - 1 and backend.name in counts]
        if not older:
            return None
        base_t, counts = next(((t, c) for t, c in reversed(older) if t <= now - window), older[0])
        responses, errors = counts[backend.name]
        if backend.errors_5xx < errors or backend.responses < responses:
            return None  # HAProxy restarted: the counters began again
        return Rate(backend.errors_5xx - errors, backend.responses - responses, now - base_t)

    async def _sample_forever(self) -> None:
        interval = max(2.0, self.limits.gateway_window_s / 5)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(MonitorError):
                await self.call(self._fetch())

    async def probe(self) -> str:
        backends = await self._fetch()
        return f"{len(backends)} backends"

    async def report(self) -> Report:
        return await self.call(self._report())

    async def _report(self) -> Report:
        backends = await self._fetch()
        now = time.monotonic()
        down = sum(len(b.not_serving) for b in backends)
        head = f"haproxy: {len(backends)} backend{'s' * (len(backends) != 1)}, " + (
            f"{down} server{'s' * (down != 1)} not up" if down else "all servers up"
        )
        return Report(self.name, [head, *(self.backend_line(b, self.rate(b, now)) for b in backends)])

    @staticmethod
    def backend_line(b: Backend, rate: Rate | None) -> str:
        """`be_app UP: 1/2 up, down: dead1 DOWN L4CON Connection refused, 3m; 3 sess; 5xx 4 in last 5m (8%)`."""
        up = len(b.servers) - len(b.not_serving)
        text = f"{b.name} {b.status}: {up}/{len(b.servers)} up"
        if b.not_serving:
            text += ", down: " + ", ".join(server.why() for server in b.not_serving)
        text += f"; {b.sessions} sess; "
        return text + (rate.text() if rate is not None else f"5xx {b.errors_5xx} total")

    async def problems(self) -> list[Problem]:
        return await self.call(self._problems())

    async def _problems(self) -> list[Problem]:
        backends = await self._fetch()
        now = time.monotonic()
        out = []
        for b in backends:
            if b.not_serving:
                up = len(b.servers) - len(b.not_serving)
                severity = "crit" if up == 0 else "warn"
                reasons = ", ".join(server.why() for server in b.not_serving[:2])
                more = f" +{len(b.not_serving) - 2}" if len(b.not_serving) > 2 else ""
                out.append(
                    Problem(severity, self.name, f"{self.name} {b.name}: {up}/{len(b.servers)} up ({reasons}{more})")
                )
            rate = self.rate(b, now)
            if rate is not None and (rate.share_pct or 0) >= self.limits.gateway_5xx_pct:
                out.append(Problem("warn", self.name, f"{self.name} {b.name}: {rate.text()}"))
        return sorted(out, key=lambda p: p.severity != "crit")

    async def aclose(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        await super().aclose()
