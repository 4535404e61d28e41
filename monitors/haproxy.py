"""HAProxy: backend and server health for `gateway`, from the stats CSV (HAPROXY_STATS_URL).

HAPROXY_STATS_URL points at the CSV export, e.g. `http://lb:8404/stats;csv`. One GET
per question; the first line is the header (`# pxname,svname,...`). Per backend we say
how many servers are up and name the others with their status (DOWN, MAINT, ...),
current sessions, and the 5xx responses - as a count since the last look and a rate,
from counters kept in the adapter (HAProxy only has totals since its start).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from typing import Self

import httpx

from monitors.base import GATEWAY, HttpMonitor, Report, ReportSource
from monitors.config import MonitorSettings

_AGGREGATES = ("FRONTEND", "BACKEND")
# Server states that still take traffic. "UP 1/3" / "DOWN 1/2" are transitions in progress.
_SERVING = ("UP", "NOLB", "DRAIN", "no check")


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    status: str
    sessions: int
    responses: int  # all HTTP responses (hrsp_*), for the 5xx share
    errors_5xx: int
    servers: list[tuple[str, str]]  # (name, status)

    @property
    def not_serving(self) -> list[tuple[str, str]]:
        return [(n, s) for n, s in self.servers if not s.startswith(_SERVING)]


def _int(value: str | None) -> int:
    return int(value) if value else 0  # empty cells: not applicable (e.g. tcp mode)


def parse_stats(text: str) -> list[Backend]:
    """Backends with their servers, in CSV order; raises ValueError on another shape."""
    if not text.startswith("# pxname,svname,"):
        raise ValueError("not HAProxy stats CSV")
    rows = list(csv.DictReader(io.StringIO(text[2:])))
    servers: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if row["svname"] not in _AGGREGATES:
            servers.setdefault(row["pxname"], []).append((row["svname"], row["status"]))
    codes = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
    return [
        Backend(row["pxname"], row["status"], _int(row["scur"]), sum(_int(row.get(c)) for c in codes),
                _int(row.get("hrsp_5xx")), servers.get(row["pxname"], []))
        for row in rows if row["svname"] == "BACKEND"
    ]


class HAProxyMonitor(HttpMonitor, ReportSource):
    """`gateway` from HAProxy's stats page; remembers counters between looks."""

    name = "haproxy"
    capabilities = frozenset({GATEWAY})

    def __init__(self, stats_url: str, client: httpx.AsyncClient, timeout_s: float) -> None:
        super().__init__(stats_url, client, timeout_s)
        self.stats_url = stats_url  # used as is: `;csv` is part of the path
        self._last: tuple[float, dict[str, Backend]] | None = None

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.haproxy_stats_url is None:
            return None
        client = httpx.AsyncClient(timeout=settings.monitor_timeout_s)
        return cls(settings.haproxy_stats_url.get_secret_value(), client, settings.monitor_timeout_s)

    async def _fetch(self) -> list[Backend]:
        response = await self.client.get(self.stats_url)
        response.raise_for_status()
        return parse_stats(response.text)

    async def probe(self) -> str:
        backends = await self._fetch()
        return f"{len(backends)} backends"

    async def report(self) -> Report:
        return await self.call(self._report())

    async def _report(self) -> Report:
        backends = await self._fetch()
        now = time.monotonic()
        previous = self._last
        self._last = (now, {b.name: b for b in backends})
        down = sum(len(b.not_serving) for b in backends)
        head = f"haproxy: {len(backends)} backends, " + (f"{down} servers not up" if down else "all servers up")
        lines = [head]
        for backend in backends:
            lines.append(self.backend_line(backend, previous, now))
        return Report(self.name, lines)

    @staticmethod
    def backend_line(b: Backend, previous: tuple[float, dict[str, Backend]] | None, now: float) -> str:
        """`be_app UP: 1/2 up, down: dead1 (DOWN); 3 sess; 5xx 12 (+4 in 30s, 8%)`."""
        up = len(b.servers) - len(b.not_serving)
        text = f"{b.name} {b.status}: {up}/{len(b.servers)} up"
        if b.not_serving:
            text += ", down: " + ", ".join(f"{n} ({s})" for n, s in b.not_serving)
        text += f"; {b.sessions} sess; 5xx {b.errors_5xx}"
        before = previous[1].get(b.name) if previous else None
        if previous and before and b.errors_5xx >= before.errors_5xx:  # lower: HAProxy restarted
            new_5xx, new_all = b.errors_5xx - before.errors_5xx, b.responses - before.responses
            share = f", {100 * new_5xx / new_all:.0f}%" if new_all > 0 else ""
            text += f" (+{new_5xx} in {now - previous[0]:.0f}s{share})"
        return text
