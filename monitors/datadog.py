"""Datadog (API v1): key validation for health, timeseries queries for aliases whose
source is "datadog", and monitors in Alert/Warn state as alerts.

Keys travel only as request headers set on the client; they are read from SecretStr at
start-up and never appear in a reason, a log line or a repr.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any, Self

import httpx

from monitors.alerting import normalise_severity, parse_time
from monitors.base import (
    ALERTS,
    METRICS,
    Alert,
    AlertSource,
    AuthRejected,
    HttpMonitor,
    MetricAlias,
    MetricResult,
    MetricSource,
    MonitorError,
    QueryFailed,
    Series,
    UnexpectedShape,
    expect_dict,
    expect_list,
)
from monitors.config import MonitorSettings

# How far back a metric query looks for its latest point: Datadog rolls points up into
# intervals, so a window much shorter than a few intervals can come back empty.
QUERY_WINDOW_S = 600
_ALERTING = {"Alert": "critical", "Warn": "warning"}


def _tag_value(tag: str) -> str:
    # "host:web-01" → "web-01"; a bare tag stays as it is
    return tag.partition(":")[2] or tag


def _series_label(entry: dict[str, Any], alias: MetricAlias) -> str:
    tags = [t for t in entry.get("tag_set") or [] if isinstance(t, str)]
    for tag in tags:
        if tag.partition(":")[0] == alias.label:
            return _tag_value(tag)
    if tags:
        return ",".join(_tag_value(t) for t in tags)
    scope = entry.get("scope")
    if isinstance(scope, str) and scope not in ("", "*"):
        return ",".join(_tag_value(t) for t in scope.split(","))
    return alias.name  # an ungrouped query ({*}) is one number for everything


def _last_point(pointlist: object) -> float:
    """The newest non-null value of [[ms, value], ...]; NaN when every point is null."""
    for point in reversed(expect_list(pointlist)):
        pair = expect_list(point)
        if len(pair) != 2:
            raise UnexpectedShape()
        if pair[1] is not None:
            if not isinstance(pair[1], int | float):
                raise UnexpectedShape()
            return float(pair[1])
    return math.nan


def _monitor_alerts(monitor: dict[str, Any]) -> list[Alert]:
    """One Alert per alerting group of a multi-alert monitor (so the list can group them), else one."""
    overall = monitor.get("overall_state")
    if overall not in _ALERTING:
        return []
    name = monitor.get("name")
    if not isinstance(name, str):
        raise UnexpectedShape()
    tags = [t for t in monitor.get("tags") or [] if isinstance(t, str)]
    labels = {t.partition(":")[0]: t.partition(":")[2] for t in tags}
    labels["monitor_id"] = str(monitor.get("id", ""))
    message = str(monitor.get("message") or "")
    groups = expect_dict(expect_dict(monitor.get("state") or {}).get("groups") or {})
    firing = [expect_dict(g) for g in groups.values()]
    firing = [g for g in firing if g.get("status") in _ALERTING]

    def make(subject: str, severity: str, started: object) -> Alert:
        return Alert(
            name=name,
            severity=normalise_severity(severity),
            subject=subject,
            source="datadog",
            started_at=_started(started),
            summary=name,
            description=message,
            labels=labels,
        )

    if not firing:
        subject = labels.get("service") or labels.get("host") or ""
        return [make(subject, _ALERTING[overall], monitor.get("overall_state_modified"))]
    return [
        make(_tag_value(str(g.get("name", ""))), _ALERTING[g["status"]], g.get("last_triggered_ts")) for g in firing
    ]


def _started(raw: object) -> datetime | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        return datetime.fromtimestamp(raw, UTC)  # group timestamps are epoch seconds
    return parse_time(raw)


class DatadogMonitor(HttpMonitor, MetricSource, AlertSource):
    """Metrics and monitor alerts from one Datadog organisation."""

    name = "datadog"
    capabilities = frozenset({METRICS, ALERTS})

    def __init__(self, base_url: str, client: httpx.AsyncClient, timeout_s: float, *, has_app_key: bool = True) -> None:
        super().__init__(base_url, client, timeout_s)
        self.has_app_key = has_app_key

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.datadog_api_key is None:
            return None
        base = (
            settings.datadog_api_url.get_secret_value()
            if settings.datadog_api_url
            else f"https://api.{settings.datadog_site.strip().strip('.')}"
        )
        headers = {"DD-API-KEY": settings.datadog_api_key.get_secret_value(), "Accept": "application/json"}
        if settings.datadog_app_key is not None:
            headers["DD-APPLICATION-KEY"] = settings.datadog_app_key.get_secret_value()
        timeout = settings.monitor_timeout_s
        client = httpx.AsyncClient(timeout=timeout, headers=headers)
        return cls(base, client, timeout, has_app_key=settings.datadog_app_key is not None)

    async def probe(self) -> str:
        """The API key is valid (403 or valid:false → 'API key rejected'), and data calls can run."""
        response = await self.client.get(self.base_url + "/api/v1/validate")
        if response.status_code in (401, 403):
            raise AuthRejected("API key rejected")
        response.raise_for_status()
        if expect_dict(response.json()).get("valid") is not True:
            raise AuthRejected("API key rejected")
        if not self.has_app_key:
            # Validation needs only the API key, but queries and monitors need both.
            raise AuthRejected("DATADOG_APP_KEY not set")
        return ""

    async def query_metric(self, alias: MetricAlias) -> MetricResult:
        if alias.source != self.name:
            raise QueryFailed(f"{alias.name} is not a Datadog query")
        return await self.call(self._query(alias))

    async def _query(self, alias: MetricAlias) -> MetricResult:
        now = int(time.time())
        params = {"from": str(now - QUERY_WINDOW_S), "to": str(now), "query": alias.query}
        response = await self.client.get(self.base_url + "/api/v1/query", params=params)
        if response.status_code == 400:
            raise QueryFailed(f"query error: {_errors_text(response)}")
        response.raise_for_status()
        body = expect_dict(response.json())
        if body.get("status") == "error":
            raise QueryFailed(f"query error: {str(body.get('error', '?'))[:90]}")
        series = []
        for item in expect_list(body.get("series")):
            entry = expect_dict(item)
            series.append(Series(_series_label(entry, alias), _last_point(entry.get("pointlist"))))
        series.sort(key=lambda s: (math.isnan(s.value), -s.value if not math.isnan(s.value) else 0))
        return MetricResult(alias, series)

    async def alerts(self) -> list[Alert]:
        return await self.call(self._alerts())

    async def _alerts(self) -> list[Alert]:
        # group_states fills in each monitor's per-group state, so a multi-alert monitor
        # names the hosts that are alerting rather than just "Alert".
        body = await self.get_json("/api/v1/monitor", params={"group_states": "alert,warn"})
        return [alert for item in expect_list(body) for alert in _monitor_alerts(expect_dict(item))]


def _errors_text(response: httpx.Response) -> str:
    try:
        errors = expect_dict(response.json()).get("errors")
    except (ValueError, MonitorError):
        errors = None
    if isinstance(errors, list) and errors:
        return str(errors[0])[:90]
    return f"HTTP {response.status_code}"
