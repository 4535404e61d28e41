"""The monitor commands (status, alerts, metrics, logs, db, gateway): one record + one handler each.

Monitor failures arrive as ``MonitorError`` and are worded per monitor, so one backend down
never hides the others. Each handler is ``async (ctx, query) -> Answer``; see
``dialogs/registry.py`` for the record's fields.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol, runtime_checkable

from dialogs.answer import Answer
from dialogs.context import CommandContext
from dialogs.query import Item, Query, pick
from dialogs.registry import Option, SlotSpec, command
from monitors.alerting import collect_alerts, format_alert_detail, format_alert_list, numbered_alerts
from monitors.base import (
    ALERTS,
    DB,
    GATEWAY,
    LOGS,
    METRICS,
    Health,
    LogSource,
    MetricAlias,
    MetricSource,
    MonitorError,
    ReportSource,
)
from monitors.log_format import format_logs
from monitors.metric_format import WindowSeries, format_metric, format_metric_error, format_metric_window
from monitors.registry import Monitors

WINDOW_OPTIONS: tuple[Option, ...] = tuple(
    (label, timedelta(minutes=minutes)) for label, minutes in (("15m", 15), ("1h", 60), ("6h", 360), ("24h", 1440))
)
LOG_LINES = 20


def _services(monitors: Monitors) -> Sequence[Option]:
    return [(name, name) for name in monitors.log_services]


def _metrics(monitors: Monitors) -> Sequence[Option]:
    return [(name, name) for name in monitors.metric_aliases]


def _windows(monitors: Monitors) -> Sequence[Option]:
    return WINDOW_OPTIONS


SERVICE = SlotSpec("service", "{Command} for which service?", _services,
                   none_configured="No services configured for logs (set LOG_SERVICES).")
WINDOW = SlotSpec("window", "{service}: which window?", _windows, numbered=False)
METRIC = SlotSpec("metric", "Which metric?", _metrics, none_configured="No metrics configured (see METRIC_ALIASES).")


@runtime_checkable
class WindowedMetricSource(Protocol):
    """A metric source that can answer over a window (Prometheus's range queries)."""

    async def query_metric_window(self, alias: MetricAlias, window: timedelta) -> list[WindowSeries]: ...


@command("status", usage="status", help="status: health of every monitor, DOWN ones first.",
         words=("stat", "health"), stateless=True,
         doc="every configured monitor checked in parallel: a summary line, DOWN ones first with a reason")
async def status(ctx: CommandContext, query: Query) -> Answer:
    if not ctx.monitors.all:
        return Answer("No monitors configured. Set PROMETHEUS_URL, LOKI_URL, DATABASE_URL, ... "
                      "(see .env.example), then operator check.")
    return Answer(format_status(await ctx.monitors.check_all()), query=Query("status"))


def format_status(results: list[Health]) -> str:
    """A summary line, then DOWN monitors with their reason, then the healthy ones."""
    down = [h for h in results if not h.ok]
    head = f"{len(results) - len(down)}/{len(results)} ok" + (f", {len(down)} DOWN" if down else "")
    lines = [f"{h.monitor} DOWN: {h.reason}" for h in down]
    lines += [f"{h.monitor} ok {h.latency_s * 1000:.0f}ms" for h in results if h.ok]
    return "\n".join([head, *lines])


@command("alerts", usage="alerts", help="alerts: firing alerts, most severe first. alerts 2 (or 2) shows item 2.",
         words=("alert",), slots=(SlotSpec("choice", "Which alert?", required=False),), stateless=True,
         needs=frozenset({ALERTS}), configure="No alert source configured (set ALERTMANAGER_URL, PROMETHEUS_URL "
         "or DATADOG_API_KEY).", says=("alerts", "alerts 2"),
         doc="firing alerts, most severe first, numbered; details of one")
async def alerts(ctx: CommandContext, query: Query) -> Answer:
    alerts, errors = await collect_alerts(ctx.monitors.with_capability(ALERTS))
    groups = numbered_alerts(alerts)
    items = tuple(Item(g[0].name, detail=format_alert_detail(g, ctx.now), labels=dict(g[0].labels),
                       source=g[0].source) for g in groups)
    text = format_alert_list(alerts, errors, ctx.now)
    if query.choice is not None:  # "alerts 2": the list is remembered, item 2 is shown
        text = pick(items, query.choice)
    return Answer(text, items=items, list_kind="alerts", query=Query("alerts"))


@command("metrics", usage="metrics [name]",
         help="metrics cpu: top series of a named query; metrics cpu 1h: now/avg/peak. metrics alone lists names.",
         words=("metric", "graph"), slots=(METRIC, dataclasses.replace(WINDOW, required=False)),
         needs=frozenset({METRICS}), configure="No metrics source configured (set PROMETHEUS_URL or DATADOG_API_KEY).",
         says=("metrics", "metrics cpu", "metrics cpu 1h"),
         doc="a named query (cpu, memory, disk, load, up, or your own) with units, top series first; "
             "with a window, now / average / peak over it")
async def metrics(ctx: CommandContext, query: Query) -> Answer:
    name = query.metric or ""
    alias = ctx.monitors.metric_aliases.get(name)
    if alias is None:
        return Answer(f"No metric named {name}. Try: {', '.join(ctx.monitors.metric_aliases)}.")
    source = ctx.monitors.by_name(alias.source)
    if not isinstance(source, MetricSource):
        return Answer(f"No {alias.source} for metric {name} configured (set {alias.source.upper()}_URL).")
    asked = Query("metrics", metric=name, window=query.window)
    note = ""
    try:
        if query.window is not None and isinstance(source, WindowedMetricSource):
            rows = await source.query_metric_window(alias, query.window)
            return Answer(format_metric_window(alias, query.window, rows), query=asked)
        if query.window is not None:  # said, never dropped silently
            note = f"\n({source.name} metrics are shown now, without a window)"
        result = await source.query_metric(alias)
    except MonitorError as exc:
        return Answer(format_metric_error(alias, source.name, exc.reason), query=asked)
    return Answer(format_metric(result) + note, query=asked)


@command("logs", usage="logs [service] [window]", help="logs api 1h: error count and latest lines. Window 1m-7d.",
         words=("log",), slots=(SERVICE, WINDOW), needs=frozenset({LOGS}),
         configure="No logs backend configured (set LOKI_URL, ELASTICSEARCH_URL or LOG_FILES).",
         says=("logs", "logs api", "logs api 1h"),
         doc="error count and latest lines for a service; asks for whatever is missing")
async def logs(ctx: CommandContext, query: Query) -> Answer:
    service, window = query.service or "", query.window or timedelta(hours=1)
    sources = [m for m in ctx.monitors.with_capability(LOGS) if isinstance(m, LogSource)]
    source = next((s for s in sources if s.serves(service)), sources[0])  # LOG_FILES splits services
    asked = Query("logs", service=service, window=window)
    try:
        result = await source.errors(service, window, LOG_LINES)
    except MonitorError as exc:
        return Answer(f"logs {service}: {source.name} DOWN: {exc.reason}", query=asked)
    return Answer(format_logs(result, ctx.now), query=asked)


async def _report(monitors: Monitors, capability: str, query: Query) -> Answer:
    async def one(source: ReportSource) -> list[str]:
        name = getattr(source, "name", "?")
        try:
            report = await source.report()
        except MonitorError as exc:
            return [f"{name} DOWN: {exc.reason}"]
        return [f"{report.monitor}:", *report.lines]

    sources = [m for m in monitors.with_capability(capability) if isinstance(m, ReportSource)]
    parts = await asyncio.gather(*(one(s) for s in sources))
    return Answer("\n".join(line for part in parts for line in part), query=query)


@command("db", usage="db", help="db: PostgreSQL connections, longest query, waits, lag; pgBouncer pools.",
         words=("database", "postgres", "pg"), stateless=True, needs=frozenset({DB}),
         configure="No database configured (set DATABASE_URL or PGBOUNCER_URL).",
         doc="PostgreSQL and pgBouncer: connections, longest query, waits, replication lag")
async def db(ctx: CommandContext, query: Query) -> Answer:
    return await _report(ctx.monitors, DB, Query("db"))


@command("gateway", usage="gateway", help="gateway: backends up/down, sessions, 5xx.",
         words=("gw", "api"), stateless=True, needs=frozenset({GATEWAY}),
         configure="No gateway configured (set KONG_ADMIN_URL or HAPROXY_STATS_URL).",
         doc="backends up/down, sessions, 5xx")
async def gateway(ctx: CommandContext, query: Query) -> Answer:
    return await _report(ctx.monitors, GATEWAY, Query("gateway"))
