"""The commands a user can text, each a coroutine from monitors to an `Answer`.

A command's help text lives beside it in COMMANDS (as in Errbot, where a docstring
is the help). Monitor failures arrive as `MonitorError` and are worded per monitor,
so one backend down never hides the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dialogs.answer import Answer
from monitors.alerting import format_alert_detail, format_alert_list, gather_alerts, numbered_alerts
from monitors.base import (
    ALERTS,
    DB,
    GATEWAY,
    LOGS,
    LogSource,
    MetricSource,
    MonitorError,
    ReportSource,
)
from monitors.log_format import format_logs
from monitors.metric_format import format_metric, format_metric_error
from monitors.registry import Monitors
from monitors.rollup import format_status


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    help: str


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("status", "status", "status: what is wrong now (alerts, targets, db, gateway), then sources DOWN."),
        Command("alerts", "alerts [N]", "alerts: firing alerts, most severe first. alerts 2 (or 2) shows item 2."),
        Command("metrics", "metrics [name]", "metrics cpu: top series of a named query. metrics alone lists names."),
        Command("logs", "logs [service] [window]", "logs api 1h: error count and latest lines. Window 1m-7d."),
        Command("db", "db", "db: PostgreSQL connections, longest query, waits, lag; pgBouncer pools."),
        Command("gateway", "gateway", "gateway: backends up/down, sessions, 5xx."),
        Command("more", "more", "more: next page of the last long answer."),
        Command("again", "again", "again: ask the last question again. A bare window (6h) re-asks with it."),
        Command("reset", "reset", "reset: forget this conversation."),
        Command("help", "help [command]", "help logs: how one command works."),
    )
}

HELP = ("Ops desk: status, alerts, metrics [name], logs [svc] [window], db, gateway. "
        "Then: more, again, 6h, 2, reset. help <cmd> for more.")


def help_text(topic: str | None = None) -> str:
    command = COMMANDS.get(topic or "")
    return command.help if command else HELP


def _not_configured(what: str, settings: str) -> Answer:
    return Answer(f"No {what} configured (set {settings}).")


async def run_status(monitors: Monitors) -> Answer:
    if not monitors.all:
        return Answer("No monitors configured. Set PROMETHEUS_URL, LOKI_URL, DATABASE_URL, ... "
                      "(see .env.example), then operator check.")
    survey = await monitors.survey()
    text = format_status(survey.problems, survey.healths, silenced=survey.silenced, inhibited=survey.inhibited)
    return Answer(text, query={"command": "status"})


async def run_alerts(monitors: Monitors, now: datetime | None = None) -> Answer:
    sources = monitors.with_capability(ALERTS)
    if not sources:
        return _not_configured("alert source", "ALERTMANAGER_URL, PROMETHEUS_URL or DATADOG_API_KEY")
    now = now or datetime.now(UTC)
    book = await gather_alerts(sources)
    alerts, errors = book.alerts, book.errors
    groups = numbered_alerts(alerts)
    items = [{"label": g[0].name, "detail": format_alert_detail(g, now),
              "labels": dict(g[0].labels), "source": g[0].source} for g in groups]
    text = format_alert_list(alerts, errors, now, book.silenced, book.inhibited)
    return Answer(text, items=items, list_kind="alerts", query={"command": "alerts"})


async def run_metrics(monitors: Monitors, metric: str) -> Answer:
    alias = monitors.metric_aliases.get(metric)
    if alias is None:
        return Answer(f"No metric named {metric}. Try: {', '.join(monitors.metric_aliases)}.")
    source = monitors.by_name(alias.source)
    if not isinstance(source, MetricSource):
        return _not_configured(f"{alias.source} for metric {metric}", f"{alias.source.upper()}_URL")
    query = {"command": "metrics", "metric": metric}
    try:
        result = await source.query_metric(alias)
    except MonitorError as exc:
        return Answer(format_metric_error(alias, source.name, exc.reason), query=query)
    return Answer(format_metric(result), query=query)


async def run_logs(monitors: Monitors, service: str, window: timedelta, limit: int = 20) -> Answer:
    sources = [m for m in monitors.with_capability(LOGS) if isinstance(m, LogSource)]
    if not sources:
        return _not_configured("logs backend", "LOKI_URL or ELASTICSEARCH_URL")
    query = {"command": "logs", "service": service, "window_s": int(window.total_seconds())}
    source = sources[0]
    try:
        result = await source.errors(service, window, limit)
    except MonitorError as exc:
        return Answer(f"logs {service}: {source.name} DOWN: {exc.reason}", query=query)
    return Answer(format_logs(result, datetime.now(UTC)), query=query)


async def run_report(monitors: Monitors, capability: str) -> Answer:
    sources = [m for m in monitors.with_capability(capability) if isinstance(m, ReportSource)]
    if not sources:
        if capability == DB:
            return _not_configured("database", "DATABASE_URL or PGBOUNCER_URL")
        return _not_configured("gateway", "KONG_ADMIN_URL or HAPROXY_STATS_URL")

    async def one(source: ReportSource) -> list[str]:
        name = getattr(source, "name", "?")
        try:
            report = await source.report()
        except MonitorError as exc:
            return [f"{name} DOWN: {exc.reason}"]
        return report.lines  # each adapter's first line names it: no extra header

    parts = await asyncio.gather(*(one(s) for s in sources))
    return Answer("\n".join(line for part in parts for line in part), query={"command": capability})


REPORTS = {"db": DB, "gateway": GATEWAY}
