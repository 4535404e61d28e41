"""Prometheus (HTTP API v1): readiness and version, instant queries for metric aliases,
scrape targets down (for `status`), and its own alerts list, which `alerts` falls back
to when there is no Alertmanager.

Cost: a health check is two concurrent GETs; `metrics x` is two concurrent instant
queries (the alias and `up == 0`), `problems()` is one - plus, only while some target is
down, `TARGET_AGE` (how long since it last answered: marks metric rows stale).

Every request runs under `Monitor.call`, so refused connections, timeouts, HTTP errors
and bodies that are not the documented shape all surface as `MonitorError`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Self

import httpx

from monitors.alerting import format_age_s, normalise_severity, parse_time, strip_port, subject_of
from monitors.base import (
    ALERTS,
    METRICS,
    Alert,
    AlertSource,
    BadResponse,
    HttpMonitor,
    MetricAlias,
    MetricResult,
    MetricSource,
    MonitorError,
    Problem,
    ProblemSource,
    QueryFailed,
    Series,
    UnexpectedShape,
    expect_dict,
    expect_list,
    gather_all,
    str_labels,
)
from monitors.config import MonitorSettings
from monitors.metric_format import WindowSeries

_FALLBACK_LABELS = ("instance", "job")
# A range query returns about this many points per series, whatever the window (1m to 7d).
_RANGE_POINTS = 120
_STALE_AFTER_S = 60.0  # a range's last point older than this (or 3 steps) is not "now"


# Targets down now, then - only when there are some - seconds since each last answered
# (600 means "10m or more"). A subquery on `up == 1` at 1 s resolution because a failed
# scrape still writes `up` (as 0) every interval; it costs 600 steps per `up` series, so
# it runs only when something is down.
TARGETS_DOWN = "up == 0"
TARGET_AGE = (
    "(time() - max by (job, instance) (max_over_time(timestamp(up == 1)[10m:1s]))"
    " and on (job, instance) up == 0) or on (job, instance) (up == 0) + 600"
)
AGE_CAP_S = 600


def prometheus_alert(
    labels: Mapping[str, str], annotations: Mapping[str, str], started: object, source: str, generator_url: object = ""
) -> Alert:
    """An Alert from a Prometheus-style label set (shared with the Alertmanager adapter)."""
    if not labels.get("alertname"):
        raise UnexpectedShape()
    return Alert(
        name=labels["alertname"],
        severity=normalise_severity(labels.get("severity")),
        subject=subject_of(labels),
        source=source,
        started_at=parse_time(started),
        summary=str(annotations.get("summary", "")),
        description=str(annotations.get("description", "")),
        labels=dict(labels),
        annotations=dict(annotations),
        generator_url=generator_url if isinstance(generator_url, str) else "",
    )


def _sample(value: object) -> float:
    # An instant sample is [unix_ts, "string value"]; the string may be "NaN" or "+Inf".
    pair = expect_list(value)
    if len(pair) != 2 or not isinstance(pair[1], str):
        raise UnexpectedShape()
    try:
        return float(pair[1])
    except ValueError:
        raise UnexpectedShape() from None


def _row_label(labels: Mapping[str, str], preferred: str) -> str:
    for key in (preferred, *_FALLBACK_LABELS):
        if labels.get(key):
            return labels[key]
    named = sorted((k, v) for k, v in labels.items() if k != "__name__")
    return ",".join(v for _, v in named) or labels.get("__name__", "value")


def vector_rows(result: object) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of each element of an instant vector."""
    rows = []
    for item in expect_list(result):
        entry = expect_dict(item)
        rows.append((str_labels(entry.get("metric", {})), _sample(entry.get("value"))))
    return rows


def _stale_for(labels: Mapping[str, str], ages: Mapping[tuple[str, str], float]) -> float | None:
    """How long the row's target has been down, matched on instance (and job when the row has one)."""
    instance = labels.get("instance")
    if not instance:
        return None
    found = [age for (job, inst), age in ages.items() if inst == instance and labels.get("job", job) == job]
    return max(found) if found else None


def series_from_vector(
    alias: MetricAlias, result: list[Any], ages: Mapping[tuple[str, str], float] | None = None
) -> list[Series]:
    """Rows of an instant vector: labelled by alias.label, largest first, NaN last.

    A `:port` is dropped from instance labels when that leaves every row distinct,
    which is the usual case (one exporter per host) and much shorter in an SMS.
    `ages` ((job, instance) -> seconds since the target last answered) marks stale rows.
    """
    rows = vector_rows(result)
    names = [_row_label(labels, alias.label) for labels, _ in rows]
    short = [strip_port(n) for n in names]
    if len(set(short)) == len(short):
        names = short
    series = [
        Series(name, value, _stale_for(labels, ages or {})) for name, (labels, value) in zip(names, rows, strict=True)
    ]
    return sorted(series, key=lambda s: (math.isnan(s.value), -s.value if not math.isnan(s.value) else 0))


class PrometheusMonitor(HttpMonitor, MetricSource, AlertSource, ProblemSource):
    """Metrics, alerts and scrape targets from one Prometheus server."""

    name = "prometheus"
    capabilities = frozenset({METRICS, ALERTS})

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.prometheus_url is None:
            return None
        timeout = settings.monitor_timeout_s
        return cls(settings.prometheus_url.get_secret_value(), httpx.AsyncClient(timeout=timeout), timeout)

    async def probe(self) -> str:
        """Ready, and which version: 'v2.42.0' (the Debian '+ds' build suffix dropped).

        Both requests at once, so the check costs one round trip.
        """
        ready, info = await gather_all(
            self.client.get(self.base_url + "/-/ready"), self.get_json("/api/v1/status/buildinfo")
        )
        ready.raise_for_status()
        version = expect_dict(_success(info)).get("version")
        return f"v{str(version).split('+')[0]}" if version else ""

    async def query_metric(self, alias: MetricAlias) -> MetricResult:
        if alias.source != self.name:
            raise QueryFailed(f"{alias.name} is not a Prometheus query")
        return await self.call(self._query(alias))

    async def instant(self, promql: str) -> dict[str, Any]:
        """The `data` of one instant query; a query Prometheus rejects is QueryFailed."""
        response = await self.client.get(self.base_url + "/api/v1/query", params={"query": promql})
        if response.status_code in (400, 422):
            # A broken alias (bad_data) or an execution error: say what Prometheus said.
            raise QueryFailed(f"query error: {_error_text(response)}")
        response.raise_for_status()
        return expect_dict(_success(response.json()))

    async def target_ages(self) -> dict[tuple[str, str], float]:
        """(job, instance) -> seconds since the last good scrape, for every target down now."""
        if not vector_rows((await self.instant(TARGETS_DOWN)).get("result")):
            return {}
        data = await self.instant(TARGET_AGE)
        return {
            (labels.get("job", ""), labels.get("instance", "")): value
            for labels, value in vector_rows(data.get("result"))
        }

    async def _query(self, alias: MetricAlias) -> MetricResult:
        data, ages = await gather_all(self.instant(alias.query), self.target_ages())
        kind, result = data.get("resultType"), data.get("result")
        if kind == "vector":
            series = series_from_vector(alias, expect_list(result), ages)
            return MetricResult(alias, series, "" if series else _targets_down_for(alias, ages))
        if kind == "scalar":
            return MetricResult(alias, [Series(alias.name, _sample(result))])
        # A range vector (or string) cannot be shown as one number per row.
        raise QueryFailed(f"query error: {alias.name} returns a {kind}, not an instant vector")

    async def check_query(self, promql: str) -> None:
        """Run a query once and discard the answer (`operator check`); QueryFailed when it is broken."""
        await self.call(self.instant(promql))

    async def problems(self) -> list[Problem]:
        """Scrape targets down, the longest down first: 'target 127.0.0.1:9100 (node) down 2m'."""
        ages = await self.call(self.target_ages())
        ordered = sorted(ages.items(), key=lambda item: (-item[1], item[0]))
        return [
            Problem("crit", self.name, f"target {instance or '?'} ({job or '?'}) down {_age(age)}", instance)
            for (job, instance), age in ordered
        ]

    async def query_metric_window(self, alias: MetricAlias, window: timedelta) -> list[WindowSeries]:
        """The alias over ``window`` (``/api/v1/query_range``): per series now / average / peak,
        highest now first. About ``_RANGE_POINTS`` points per series, so 7d costs what 1h does."""
        if alias.source != self.name:
            raise QueryFailed(f"{alias.name} is not a Prometheus query")
        return await self.call(self._query_window(alias, window))

    async def _query_window(self, alias: MetricAlias, window: timedelta) -> list[WindowSeries]:
        end = time.time()
        seconds = window.total_seconds()
        params = {
            "query": alias.query,
            "start": f"{end - seconds:.3f}",
            "end": f"{end:.3f}",
            "step": f"{max(seconds / _RANGE_POINTS, 1.0):.3f}",
        }
        response = await self.client.get(self.base_url + "/api/v1/query_range", params=params)
        if response.status_code in (400, 422):
            raise QueryFailed(f"query error: {_error_text(response)}")
        response.raise_for_status()
        data = expect_dict(_success(response.json()))
        if data.get("resultType") != "matrix":
            raise UnexpectedShape()
        rows: list[tuple[dict[str, str], list[float], float]] = []
        for item in expect_list(data.get("result")):
            entry = expect_dict(item)
            points = [(float(expect_list(p)[0]), _sample(p)) for p in expect_list(entry.get("values"))]
            values = [v for _, v in points if not math.isnan(v)]
            if values:
                last_at = max(at for at, v in points if not math.isnan(v))
                rows.append((str_labels(entry.get("metric", {})), values, end - last_at))
        names = [_row_label(labels, alias.label) for labels, _, _ in rows]
        short = [strip_port(n) for n in names]
        names = short if len(set(short)) == len(short) else names
        # A series whose points stop early (its target died) has no "now": its last value is marked stale.
        fresh = max(3 * float(params["step"]), _STALE_AFTER_S)
        found = [
            WindowSeries(name, values[-1], sum(values) / len(values), max(values), age if age > fresh else None)
            for name, (_, values, age) in zip(names, rows, strict=True)
        ]
        return sorted(found, key=lambda r: -r.now)

    async def alerts(self) -> list[Alert]:
        return await self.call(self._alerts())

    async def _alerts(self) -> list[Alert]:
        data = expect_dict(_success(await self.get_json("/api/v1/alerts")))
        alerts = []
        for item in expect_list(data.get("alerts")):
            entry = expect_dict(item)
            if entry.get("state") != "firing":  # "pending" has not met its `for:` yet
                continue
            alerts.append(
                prometheus_alert(
                    str_labels(entry.get("labels")),
                    str_labels(entry.get("annotations", {})),
                    entry.get("activeAt"),
                    self.name,
                )
            )
        return alerts


def _targets_down_for(alias: MetricAlias, ages: Mapping[tuple[str, str], float]) -> str:
    """Why an alias came back empty, when Prometheus knows: its job's targets are down.

    A target is the alias's when its job names the query's metrics (`node` for `node_memory_...`)
    or its selector (`job="api"`); when none is, every target down is named - it may be why.
    """
    mine = [
        key for key in ages if key[0] and re.search(rf"\b{re.escape(key[0])}_|job=\"{re.escape(key[0])}\"", alias.query)
    ]
    down = sorted(mine or ages, key=lambda key: (-ages[key], key))
    if not down:
        return ""
    (job, instance), more = down[0], len(down) - 1
    return f"target {instance or '?'} {job or '?'} down {_age(ages[down[0]])}" + (f" +{more}" if more else "")


def _age(seconds: float) -> str:
    return f"{AGE_CAP_S // 60}m+" if seconds >= AGE_CAP_S else format_age_s(seconds)


def _success(body: object) -> object:
    envelope = expect_dict(body)
    if envelope.get("status") != "success":
        raise BadResponse(f"error: {_clip(str(envelope.get('error', 'status not success')))}")
    return envelope.get("data")


def _error_text(response: httpx.Response) -> str:
    try:
        error = expect_dict(response.json()).get("error")
    except (ValueError, MonitorError):
        error = None
    if not isinstance(error, str):
        return f"HTTP {response.status_code}"
    # 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis' → the useful tail
    return _clip(error.removeprefix('invalid parameter "query": '))


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
