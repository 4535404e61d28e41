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
from monitors.alerting import filter_alerts, format_alert_detail, format_alert_list, gather_alerts, numbered_alerts
from monitors.base import (
    ALERTS,
    DB,
    GATEWAY,
    LOGS,
    METRICS,
    LogSource,
    MetricAlias,
    MetricSource,
    MonitorError,
    ReportSource,
)
from monitors.log_format import format_logs
from monitors.metric_format import WindowSeries, format_metric, format_metric_error, format_metric_window
from monitors.registry import Monitors
from monitors.rollup import format_status

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


SERVICE = SlotSpec(
    "service",
    "{Command} for which service?",
    _services,
    none_configured="No services configured for logs (set LOG_SERVICES).",
)
WINDOW = SlotSpec("window", "{service}: which window?", _windows, numbered=False)
METRIC = SlotSpec("metric", "Which metric?", _metrics, none_configured="No metrics configured (see METRIC_ALIASES).")


@runtime_checkable
class WindowedMetricSource(Protocol):
    """A metric source that can answer over a window (Prometheus's range queries)."""

    async def query_metric_window(self, alias: MetricAlias, window: timedelta) -> list[WindowSeries]: ...


# How on-call engineers say it (nlu reads these; tests/data/corpus.tsv measures them).
STATUS_WORDS = ("stat", "health", "sitrep", "healthy", "outage", "outages", "overview", "summary")
STATUS_PHRASES = (
    "we good",
    "all good",
    "health check",
    "is everything ok",
    "anything down",
    "whats broken",
    "are we up",
    "is prod up",
    "all systems go",
    "how are we doing",
    "state of things",
    "should know",
    "should i worry",
    "customers affected",
    "users affected",
    "customer impact",
    "user impact",
    "is it fixed",
)


@command(
    "status",
    usage="status",
    help="status: what is wrong now (alerts, targets down, db, gateway), "
    "most severe first, then sources DOWN; All clear only when nothing is.",
    words=STATUS_WORDS,
    phrases=STATUS_PHRASES,
    stateless=True,
    doc="what is wrong now, most severe first: firing alerts, scrape targets down, gateway servers not up, "
    'database waits and lag; then monitoring sources DOWN; "All clear" only when nothing is wrong',
)
async def status(ctx: CommandContext, query: Query) -> Answer:
    if not ctx.monitors.all:
        return Answer(
            "No monitors configured. Set PROMETHEUS_URL, LOKI_URL, DATABASE_URL, ... "
            "(see .env.example), then operator check."
        )
    survey = await ctx.monitors.survey()
    text = format_status(survey.problems, survey.healths, silenced=survey.silenced, inhibited=survey.inhibited)
    return Answer(text, query=Query("status"))


ALERTS_WORDS = (
    "alert",
    "alarms",
    "alarm",
    "firing",
    "fired",
    "fires",
    "paging",
    "paged",
    "page",
    "pages",
    "alerting",
    "triggered",
    "incidents",
    "incident",
    "screaming",
    "pagerduty",
    "alertmanager",
    "notifications",
    "critical",
    "crit",
    "crits",
    "sev0",
    "p0",
    "sev1s",
    "p1s",
    "sev2s",
    "p2s",
    "ringing",
    "sev1",
    "sev2",
    "p1",
    "p2",
    "beeping",
)
ALERTS_PHRASES = (
    "what woke me up",
    "going off",
    "what fired",
    "why did i get paged",
    "whats firing",
    "anything paging",
    "anything new",
    "whats new",
    "what is new",
    "what happened",
    # "the info level ones": a severity named as a level ("info" alone is also a help word)
    *(f"{level} {word}" for level in ("info", "warning", "warn", "critical", "crit") for word in ("level", "severity")),
)


@command(
    "alerts",
    usage="alerts",
    help="alerts: firing alerts, most severe then newest first. alerts crit, alerts warn, alerts api-1 filter;"
    " alerts 2 (or 2) shows item 2.",
    words=ALERTS_WORDS,
    phrases=ALERTS_PHRASES,
    slots=(SlotSpec("choice", "Which alert?", required=False), SlotSpec("filter", "Which alerts?", required=False)),
    stateless=True,
    needs=frozenset({ALERTS}),
    configure="No alert source configured (set ALERTMANAGER_URL, PROMETHEUS_URL or DATADOG_API_KEY).",
    says=("alerts", "alerts crit", "alerts api-1", "alerts 2"),
    doc="firing alerts, most severe then newest first, numbered, with silenced/inhibited counts; "
    "filtered by severity or label value; details of one (runbook and dashboard links)",
)
async def alerts(ctx: CommandContext, query: Query) -> Answer:
    book = await gather_alerts(ctx.monitors.with_capability(ALERTS))
    shown = book.alerts if query.filter is None else filter_alerts(book.alerts, query.filter)
    groups = numbered_alerts(shown)
    items = tuple(
        Item(g[0].name, detail=format_alert_detail(g, ctx.now), labels=dict(g[0].labels), source=g[0].source)
        for g in groups
    )
    text = format_alert_list(shown, book.errors, ctx.now, book.silenced, book.inhibited)
    if query.filter is not None:
        text = _filtered(text, query.filter, len(shown), len(book.alerts))
    if query.choice is not None:  # "alerts 2": the list is remembered, item 2 is shown
        text = pick(items, query.choice)
    return Answer(text, items=items, list_kind="alerts", query=Query("alerts", filter=query.filter))


def _filtered(text: str, word: str, matching: int, firing: int) -> str:
    """Say what the list was filtered by: "No alerts match crit (3 firing)." / "crit: 2 alerts firing:"."""
    if matching == 0:
        rest = text.partition("\n")[2]  # keep any "source DOWN" lines
        head = f"No alerts match {word} ({firing} firing)."
        return head + ("\n" + rest if rest else "")
    return f"{word}: {text}"


METRICS_WORDS = ("metric", "graph", "graphs", "utilization", "utilisation", "prometheus", "prom")
METRICS_PHRASES = (
    "what metrics",
    "load average",
    "load avg",
    "disk left",
    "free space",
    "disk space",
    "out of memory",
    "how loaded",
)


@command(
    "metrics",
    usage="metrics [name]",
    help="metrics cpu: top series of a named query; metrics cpu 1h: now/avg/peak. metrics alone lists names.",
    words=METRICS_WORDS,
    phrases=METRICS_PHRASES,
    slots=(METRIC, dataclasses.replace(WINDOW, required=False)),
    needs=frozenset({METRICS}),
    configure="No metrics source configured (set PROMETHEUS_URL or DATADOG_API_KEY).",
    says=("metrics", "metrics cpu", "metrics cpu 1h"),
    doc="a named query (cpu, memory, disk, load, up, or your own) with units, top series first; "
    "with a window, now / average / peak over it",
)
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
            text = format_metric_window(alias, query.window, rows)
            if not rows:  # nothing over the window: the instant query knows why (a target down)
                why = (await source.query_metric(alias)).why_empty
                text += f" ({why})" if why else ""
            return Answer(text, query=asked)
        if query.window is not None:  # said, never dropped silently
            note = f"\n({source.name} metrics are shown now, without a window)"
        result = await source.query_metric(alias)
    except MonitorError as exc:
        return Answer(format_metric_error(alias, source.name, exc.reason), query=asked)
    return Answer(format_metric(result) + note, query=asked)


LOGS_WORDS = (
    "log",
    "errors",
    "error",
    "err",
    "errs",
    "erroring",
    "exceptions",
    "exception",
    "traces",
    "stacktrace",
    "stacktraces",
    "tail",
    "grep",
    "failures",
    "failing",
    "failed",
    "crashing",
    "crash",
    "crashed",
    "crashes",
    "throw",
    "threw",
    "throwing",
    "timeouts",
    "timeout",
    "broke",
    "panics",
    "panic",
    "loki",
    "fatal",
    "warnings",
    "logging",
    "traceback",
    "tracebacks",
    "trace",
)
LOGS_PHRASES = ("stack traces", "error log", "error logs", "what broke", "went wrong")


@command(
    "logs",
    usage="logs [service] [window]",
    help="logs api 1h: error count and latest lines. Window 1m-7d.",
    words=LOGS_WORDS,
    phrases=LOGS_PHRASES,
    slots=(SERVICE, WINDOW),
    needs=frozenset({LOGS}),
    configure="No logs backend configured (set LOKI_URL, ELASTICSEARCH_URL or LOG_FILES).",
    says=("logs", "logs api", "logs api 1h"),
    doc="error count and latest lines for a service; asks for whatever is missing",
)
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
        return report.lines  # each adapter's first line names it: no extra header

    sources = [m for m in monitors.with_capability(capability) if isinstance(m, ReportSource)]
    parts = await asyncio.gather(*(one(s) for s in sources))
    return Answer("\n".join(line for part in parts for line in part), query=query)


DB_WORDS = (
    "database",
    "databases",
    "postgres",
    "postgresql",
    "pg",
    "psql",
    "pgbouncer",
    "bouncer",
    "locks",
    "lock",
    "deadlocks",
    "deadlock",
    "queries",
    "query",
    "replication",
    "replica",
    "replicas",
    "lag",
    "connections",
    "conns",
    "pool",
    "pools",
    "sql",
    "vacuum",
    "primary",
    "dbs",
    "blocking",
    "blocked",
    "blocker",
    "blockers",
    "locked",
    "locking",
    "txn",
    "txns",
    "transactions",
    "postgre",
)
DB_PHRASES = (
    "slow queries",
    "long running queries",
    "connection pool",
    "waiting clients",
    "pool exhausted",
    "too many connections",
    "blocked queries",
    "replication lag",
    "replica lag",
    "idle in transaction",
    "who is blocking",
    "whos blocking",
)


@command(
    "db",
    usage="db",
    help="db: PostgreSQL conns, who blocks whom, idle-in-txn, longest query, replicas; pgBouncer queue.",
    words=DB_WORDS,
    phrases=DB_PHRASES,
    stateless=True,
    needs=frozenset({DB}),
    configure="No database configured (set DATABASE_URL or PGBOUNCER_URL).",
    doc="PostgreSQL and pgBouncer: connections, who blocks whom (pid, user, app, age, query), "
    "idle-in-transaction age, longest query, replicas and lag; clients waiting in pgBouncer",
)
async def db(ctx: CommandContext, query: Query) -> Answer:
    return await _report(ctx.monitors, DB, Query("db"))


GATEWAY_WORDS = (
    "gw",
    "api",
    "haproxy",
    "kong",
    "backends",
    "backend",
    "upstreams",
    "upstream",
    "lb",
    "proxy",
    "ingress",
    "edge",
    "rps",
    "traffic",
    "balancer",
    "nginx",
    "envoy",
    "routes",
)
GATEWAY_PHRASES = ("load balancer", "request rate", "error rate", "bad gateway", "5xx rate", "error rates")


@command(
    "gateway",
    usage="gateway",
    help="gateway: backends up/down with the reason, sessions, 5xx over the last few minutes.",
    words=GATEWAY_WORDS,
    phrases=GATEWAY_PHRASES,
    stateless=True,
    needs=frozenset({GATEWAY}),
    configure="No gateway configured (set KONG_ADMIN_URL or HAPROXY_STATS_URL).",
    doc="backends up/down (a DOWN server's check and since when), sessions, 5xx over a fixed window",
)
async def gateway(ctx: CommandContext, query: Query) -> Answer:
    return await _report(ctx.monitors, GATEWAY, Query("gateway"))
