"""The one interface every backend adapter implements, and the data it returns.

Errors (the whole tree):
    MonitorError        a backend call failed; ``reason`` is short human text for an SMS
                        ("timeout after 3s", "connection refused", "HTTP 500", "API key rejected").

An adapter never lets any other exception escape `health_check()`; query methods run
their I/O through `Monitor.call()`, which turns timeouts, transport failures, HTTP
errors and malformed bodies into `MonitorError`.
"""

from __future__ import annotations

import asyncio
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx

T = TypeVar("T")

# What a monitor can answer; commands pick monitors by these.
METRICS = "metrics"
ALERTS = "alerts"
LOGS = "logs"
DB = "db"
GATEWAY = "gateway"
HOST = "host"  # the machine Operator runs on (`top`)


class MonitorError(Exception):
    """A backend call failed; `reason` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Health:
    monitor: str
    ok: bool
    reason: str = ""  # why it is down, or a short note when ok ("yellow", "v2.42.0")
    latency_s: float = 0.0


@dataclass(frozen=True, slots=True)
class MetricAlias:
    """A named query the user may ask for (`metrics cpu`); users never send PromQL."""

    name: str
    query: str
    unit: str = ""
    label: str = "instance"  # which series label names a row in the answer
    source: str = "prometheus"  # or "datadog"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    value: float  # may be NaN; formatters say so


@dataclass(frozen=True, slots=True)
class MetricResult:
    alias: MetricAlias
    series: list[Series]  # largest value first


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    severity: str  # lower-case as labelled: critical, warning, info, ...
    subject: str  # the most telling label value (instance, service, job, ...)
    source: str  # monitor name
    started_at: datetime | None = None
    summary: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogLine:
    ts: datetime
    message: str


@dataclass(frozen=True, slots=True)
class LogResult:
    service: str
    window: timedelta
    error_count: int
    lines: list[LogLine]  # newest first
    partial: bool = False  # the backend read only the newest part of the window: a lower bound


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the monitored system (not in the monitor): what `status` rolls up.

    ``severity`` is "crit" or "warn"; ``text`` is short and self-contained for an SMS
    ("target 127.0.0.1:9100 (node) down 2m", "pgbouncer: 2 clients waiting").
    """

    severity: str
    monitor: str
    text: str


@dataclass(frozen=True, slots=True)
class Report:
    """Short, already-worded lines for commands whose data is backend-specific (db, gateway)."""

    monitor: str
    lines: list[str]


def describe_failure(exc: BaseException, timeout_s: float) -> str:
    """Short human reason for a failed backend call; never a traceback, never a secret."""
    if isinstance(exc, MonitorError):
        return exc.reason
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        if code in (401, 403):
            return f"auth rejected (HTTP {code})"
        return f"HTTP {code}"
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | ConnectionResetError):
        return "connection dropped"
    if isinstance(exc, httpx.TransportError | OSError):
        return "unreachable"
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return "bad response (not JSON)"
    if isinstance(exc, KeyError | TypeError | ValueError | IndexError | AttributeError):
        return "bad response (unexpected shape)"
    return f"error ({type(exc).__name__})"


async def gather_all(*aws: Any) -> list[Any]:
    """Like gather, but every request finishes (each is bounded by the client timeout) before
    the first failure is raised as itself - no orphaned requests, and `call` can word it."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


class Monitor(ABC):
    """One backend. Subclasses set `name` and `capabilities` and implement `probe()`."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    @abstractmethod
    async def probe(self) -> str:
        """Cheapest call that proves the backend works; returns a note (version, ...) or ''.

        Raise (anything) when it does not work; `health_check` words the reason.
        """

    async def health_check(self) -> Health:
        start = time.perf_counter()
        try:
            note = await self.call(self.probe())
        except MonitorError as exc:
            return Health(self.name, False, exc.reason, time.perf_counter() - start)
        return Health(self.name, True, note, time.perf_counter() - start)

    async def call(self, aw: Awaitable[T]) -> T:
        """Await a backend call under this monitor's timeout; every failure becomes MonitorError."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await aw
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise MonitorError(describe_failure(exc, self.timeout_s)) from exc

    async def aclose(self) -> None:  # noqa: B027 - optional hook; adapters with pools override it
        """Release pooled connections."""


class HttpMonitor(Monitor):
    """A monitor that talks HTTP through one pooled client, opened at start-up."""

    def __init__(self, base_url: str, client: httpx.AsyncClient, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self.base_url = base_url.rstrip("/")
        self.client = client

    async def get_json(self, path: str, **kwargs: object) -> object:
        response = await self.client.get(self.base_url + path, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response.json()

    async def aclose(self) -> None:
        await self.client.aclose()


# Capabilities. A monitor lists the ones it implements in `capabilities`; each method
# raises MonitorError (never anything else) when the backend fails.


class MetricSource(ABC):
    @abstractmethod
    async def query_metric(self, alias: MetricAlias) -> MetricResult: ...


class AlertSource(ABC):
    @abstractmethod
    async def alerts(self) -> list[Alert]:
        """Active alerts: firing, not silenced, not inhibited."""


class LogSource(ABC):
    def serves(self, service: str) -> bool:
        """Whether the service's logs are here; sources may split the services between them."""
        return True

    @abstractmethod
    async def errors(self, service: str, window: timedelta, limit: int) -> LogResult:
        """Error-level lines of one configured service over the window, newest first."""


class ReportSource(ABC):
    """db and gateway: backend-specific facts, already worded as short lines."""

    @abstractmethod
    async def report(self) -> Report: ...


class ProblemSource(ABC):
    """A monitor that can say what is wrong in the system it watches, for `status`."""

    @abstractmethod
    async def problems(self) -> list[Problem]:
        """Current problems, most severe first; raise MonitorError when the backend fails."""
