"""The one interface every backend adapter implements, and the data it returns.

Errors (the whole tree; ``reason`` is always short human text, safe for an SMS):

    MonitorError                a backend call failed
    ├── Unreachable             no usable connection            "unreachable", "connection dropped"
    │   ├── Refused             nothing listens there           "connection refused"
    │   └── TimedOut            no answer within the deadline   "timeout after 3s"
    ├── AuthRejected            credentials refused             "auth rejected (HTTP 401)"
    ├── BadResponse             it answered, but not usefully   "HTTP 500", "bad response (not JSON)"
    │   └── UnexpectedShape     valid JSON, not the documented shape
    └── QueryFailed             the backend refused our question "query error: parse error ..."

An adapter never lets any other exception escape `health_check()`; query methods run
their I/O through `Monitor.call()`, which turns timeouts, transport failures, HTTP
errors and malformed bodies into the matching `MonitorError` (`as_monitor_error`).
Callers that only need the text catch `MonitorError` and read `.reason`.

The JSON-shape helpers (`expect_dict`, `expect_list`, `str_labels`) are here so every
adapter rejects a body that is not the documented shape the same way.
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


class Unreachable(MonitorError):
    """No usable connection to the backend (reset, DNS, unreachable host)."""


class Refused(Unreachable):
    """The connection was refused: nothing listens at that address."""


class TimedOut(Unreachable):
    """No answer within the monitor's deadline (connect, request or query)."""


class AuthRejected(MonitorError):
    """The backend refused our credentials (HTTP 401/403, bad password, bad API key)."""


class BadResponse(MonitorError):
    """The backend answered, but not with something usable (HTTP 5xx, not JSON, ...)."""


BAD_SHAPE = "bad response (unexpected shape)"


class UnexpectedShape(BadResponse):
    """Well-formed, but not the documented shape (a missing key, a string for a list)."""

    def __init__(self, reason: str = BAD_SHAPE) -> None:
        super().__init__(reason)


class QueryFailed(MonitorError):
    """The backend works but refused our question (a malformed PromQL alias, a bad index)."""


def expect_dict(value: object) -> dict[str, Any]:
    """`value` as a JSON object, or UnexpectedShape: callers then read keys without KeyError surprises."""
    if not isinstance(value, dict):
        raise UnexpectedShape()
    return value


def expect_list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise UnexpectedShape()
    return value


def str_labels(value: object) -> dict[str, str]:
    """A label set; Prometheus-style labels are always strings, anything else is a broken body."""
    labels = expect_dict(value)
    if not all(isinstance(v, str) for v in labels.values()):
        raise UnexpectedShape()
    return labels


@dataclass(frozen=True, slots=True)
class Health:
    monitor: str
    ok: bool
    reason: str = ""  # why it is down, or a short note when ok ("yellow", "v2.42.0")
    latency_s: float = 0.0
    degraded: bool = False  # ok, but `reason` is a warning worth a line in `status` ("cluster yellow")


@dataclass(frozen=True, slots=True)
class Degraded:
    """What `probe()` returns when the backend answers but says something is wrong with it."""

    note: str


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
    stale_s: float | None = None  # the row's target has not been scraped for this long


@dataclass(frozen=True, slots=True)
class MetricResult:
    alias: MetricAlias
    series: list[Series]  # largest value first
    why_empty: str = ""  # what the source knows of an empty answer: "target 10.0.0.7:9100 node down 3m"


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
    annotations: dict[str, str] = field(default_factory=dict)  # runbook_url, dashboard, ...
    generator_url: str = ""  # where the rule lives (Prometheus's graph link), when sent


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
    subject: str = ""  # the instance the problem is about, when it is one ("127.0.0.1:9100")


@dataclass(frozen=True, slots=True)
class Report:
    """Short, already-worded lines for commands whose data is backend-specific (db, gateway)."""

    monitor: str
    lines: list[str]


def as_monitor_error(exc: BaseException, timeout_s: float) -> MonitorError:
    """The MonitorError for a failed backend call; its reason never holds a traceback or a secret."""
    if isinstance(exc, MonitorError):
        return exc
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return TimedOut(f"timeout after {timeout_s:g}s")
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        if code in (401, 403):
            return AuthRejected(f"auth rejected (HTTP {code})")
        return BadResponse(f"HTTP {code}")
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return Refused("connection refused")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | ConnectionResetError):
        return Unreachable("connection dropped")
    if isinstance(exc, httpx.TransportError | OSError):
        return Unreachable("unreachable")
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return BadResponse("bad response (not JSON)")
    if isinstance(exc, KeyError | TypeError | ValueError | IndexError | AttributeError):
        return UnexpectedShape()
    return MonitorError(f"error ({type(exc).__name__})")


def describe_failure(exc: BaseException, timeout_s: float) -> str:
    """Short human reason for a failed backend call (the SMS text of `as_monitor_error`)."""
    return as_monitor_error(exc, timeout_s).reason


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
    async def probe(self) -> str | Degraded:
        """Cheapest call that proves the backend works (one round trip, or concurrent ones).

        Returns a note (version, ...) or '', or `Degraded` when it works but reports trouble.
        Raise (anything) when it does not work; `health_check` words the reason.
        """

    async def health_check(self) -> Health:
        start = time.perf_counter()
        try:
            note = await self.call(self.probe())
        except MonitorError as exc:
            return Health(self.name, False, exc.reason, time.perf_counter() - start)
        if isinstance(note, Degraded):
            return Health(self.name, True, note.note, time.perf_counter() - start, degraded=True)
        return Health(self.name, True, note, time.perf_counter() - start)

    async def call(self, aw: Awaitable[T]) -> T:
        """Await a backend call under this monitor's timeout; every failure becomes MonitorError."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await aw
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = as_monitor_error(exc, self.timeout_s)
            if error is exc:
                raise
            raise error from exc

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
