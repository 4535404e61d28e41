"""Grafana Loki: error lines of one configured service (`logs api 1h`).

Two reads per question, both over Loki's HTTP API:
  * lines: `GET /loki/api/v1/query_range` with `{<label>="<service>"} <error filter>`,
    start/end in ns, `limit`, `direction=backward` (newest first);
  * count: `GET /loki/api/v1/query` (instant) with `sum(count_over_time(<same>[<window>s]))`.
    The count is asked for, not derived from the lines: the lines stop at `limit`.

The service is inserted only after it matched `LOG_SERVICES`, and even then as an
escaped LogQL string literal; the label name and the filter come from configuration.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx

from monitors.base import (
    LOGS,
    BadResponse,
    HttpMonitor,
    LogLine,
    LogResult,
    LogSource,
    QueryFailed,
    UnexpectedShape,
    gather_all,
)
from monitors.config import MonitorSettings
from monitors.log_format import trim


def logql_string(value: str) -> str:
    """`value` as a double-quoted LogQL string literal (Go syntax: `\\"`, `\\\\`, `\\n`, `\\xNN`)."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def log_selector(label: str, service: str, error_filter: str) -> str:
    """The LogQL that selects the service's error lines; `label` is validated by the settings."""
    return f"{{{label}={logql_string(service)}}} {error_filter}".strip()


class LokiMonitor(HttpMonitor, LogSource):
    """Logs from Loki; one pooled client, every call under the monitor timeout."""

    name = "loki"
    capabilities = frozenset({LOGS})

    def __init__(
        self,
        base_url: str,
        client: httpx.AsyncClient,
        timeout_s: float,
        *,
        services: list[str],
        label: str = "service",
        error_filter: str = "",
    ) -> None:
        super().__init__(base_url, client, timeout_s)
        self.services = list(services)
        self.label = label
        self.error_filter = error_filter

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.loki_url is None:
            return None
        headers = {"X-Scope-OrgID": settings.loki_tenant} if settings.loki_tenant else {}
        client = httpx.AsyncClient(timeout=settings.monitor_timeout_s, headers=headers)
        return cls(
            settings.loki_url.get_secret_value(),
            client,
            settings.monitor_timeout_s,
            services=settings.log_services,
            label=settings.loki_service_label,
            error_filter=settings.loki_error_filter,
        )

    async def probe(self) -> str:
        response = await self.client.get(self.base_url + "/ready")
        if response.status_code == 503:
            # Loki says why in plain text ("Ingester not ready: waiting for 15s ...").
            raise BadResponse(f"not ready: {trim(response.text, 60)}")
        response.raise_for_status()
        if response.text.strip() != "ready":
            raise UnexpectedShape()
        return ""

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        response = await self.client.get(self.base_url + path, params=params)
        if response.status_code == 400:
            # Bad LogQL comes back as plain text: "parse error at line 1, col 12: ...".
            raise QueryFailed(f"query rejected: {trim(response.text, 80)}")
        response.raise_for_status()
        body = response.json()
        if body["status"] != "success":
            raise ValueError(body["status"])
        return body["data"]

    async def errors(self, service: str, window: timedelta, limit: int) -> LogResult:
        if service not in self.services:
            # Checked before any request: user words never reach a query unmatched.
            raise QueryFailed(f"unknown service; known: {', '.join(self.services) or 'none'}")
        query = log_selector(self.label, service, self.error_filter)
        seconds = max(1, int(window.total_seconds()))
        end = time.time_ns()
        range_params = {
            "query": query,
            "start": str(end - seconds * 1_000_000_000),
            "end": str(end),
            "limit": str(limit),
            "direction": "backward",
        }
        count_params = {"query": f"sum(count_over_time({query} [{seconds}s]))", "time": str(end)}
        return await self.call(self._errors(service, window, limit, range_params, count_params))

    async def _errors(
        self, service: str, window: timedelta, limit: int, range_params: dict[str, str], count_params: dict[str, str]
    ) -> LogResult:
        streams, vector = await gather_all(
            self._get("/loki/api/v1/query_range", range_params), self._get("/loki/api/v1/query", count_params)
        )
        if streams["resultType"] != "streams" or vector["resultType"] != "vector":
            raise ValueError("result type")
        entries = [(int(ts), str(line)) for stream in streams["result"] for ts, line in stream["values"]]
        entries.sort(key=lambda entry: entry[0], reverse=True)  # streams are merged: re-sort
        lines = [LogLine(datetime.fromtimestamp(ns / 1e9, UTC), line) for ns, line in entries[:limit]]
        count = int(float(vector["result"][0]["value"][1])) if vector["result"] else 0
        return LogResult(service, window, max(count, len(lines)), lines)
