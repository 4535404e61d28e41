"""Builds the configured monitors from settings. A new backend is one module plus one line here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from monitors.alerting import gather_alerts
from monitors.aliases import load_aliases
from monitors.base import (
    ALERTS,
    Health,
    LogSource,
    MetricAlias,
    MetricSource,
    Monitor,
    MonitorError,
    Problem,
    ProblemSource,
)
from monitors.config import MonitorSettings
from monitors.rollup import Survey, alert_problems, degraded_problems, fold_alerts

Factory = Callable[[MonitorSettings], Monitor | None]


def _factories() -> list[Factory]:
    # Each adapter's `from_settings` returns None when its settings are absent. Imported
    # here so a backend's import and its factory line sit together.
    from monitors.alertmanager import AlertmanagerMonitor
    from monitors.datadog import DatadogMonitor
    from monitors.elasticsearch import ElasticsearchMonitor
    from monitors.haproxy import HAProxyMonitor
    from monitors.host import HostMonitor
    from monitors.kong import KongMonitor
    from monitors.logfiles import LogFilesMonitor
    from monitors.loki import LokiMonitor
    from monitors.pgbouncer import PgBouncerMonitor
    from monitors.postgres import PostgresMonitor
    from monitors.prometheus import PrometheusMonitor
    from monitors.urlcheck import UrlCheckMonitor

    return [
        PrometheusMonitor.from_settings,
        AlertmanagerMonitor.from_settings,
        DatadogMonitor.from_settings,
        HostMonitor.from_settings,
        UrlCheckMonitor.from_settings,
        LogFilesMonitor.from_settings,  # before Loki/Elasticsearch: it answers for its own services only
        LokiMonitor.from_settings,
        ElasticsearchMonitor.from_settings,
        PostgresMonitor.from_settings,
        PgBouncerMonitor.from_settings,
        KongMonitor.from_settings,
        HAProxyMonitor.from_settings,
    ]


class Monitors:
    """The configured monitors plus what users may ask of them (aliases, services)."""

    def __init__(
        self,
        monitors: Sequence[Monitor],
        metric_aliases: dict[str, MetricAlias] | None = None,
        log_services: Sequence[str] = (),
    ) -> None:
        self.all = list(monitors)
        self.metric_aliases = dict(metric_aliases or {})
        self.metric_names = tuple(self.metric_aliases)  # read by the parser on every message
        self.log_services = list(log_services)
        self.observers: list[Callable[[Health], None]] = []  # e.g. the service's own metrics

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.all]

    def with_capability(self, capability: str) -> list[Monitor]:
        return [m for m in self.all if capability in m.capabilities]

    def by_name(self, name: str) -> Monitor | None:
        return next((m for m in self.all if m.name == name), None)

    async def check_all(self) -> list[Health]:
        """Every health check at once; each is bounded by its own timeout and never raises."""
        results = list(await asyncio.gather(*(m.health_check() for m in self.all)))
        for observe in self.observers:
            for health in results:
                observe(health)
        return results

    async def survey(self) -> Survey:
        """What `status` shows: every source's problems and health, and the alerts, all at once.

        A source that can list problems is asked for them, which doubles as its health
        check (one round trip); the others get `health_check()`. Alerts are gathered
        alongside. Every call is bounded by its monitor's timeout and none raises, so
        this returns within MONITOR_TIMEOUT_S (+ scheduling) whatever the backends do.
        """
        checks = [self._problems_of(m) if isinstance(m, ProblemSource) else self._health_of(m) for m in self.all]
        alert_sources = self.with_capability(ALERTS)
        results, book = await asyncio.gather(asyncio.gather(*checks), gather_alerts(alert_sources))
        healths = [health for health, _ in results]
        problems = [p for _, found in results for p in found]
        # A source whose alerts could not be read is down, even if its health endpoint answered.
        failed = dict(error.split(": ", 1) for error in book.errors)
        healths = [
            Health(h.monitor, False, failed[h.monitor], h.latency_s) if h.ok and h.monitor in failed else h
            for h in healths
        ]
        alerts, problems = fold_alerts(book.alerts, problems)  # TargetDown beside the target shown down: once
        problems = alert_problems(alerts, datetime.now(UTC)) + problems + degraded_problems(healths)
        for observe in self.observers:
            for health in healths:
                observe(health)
        return Survey(problems, healths, book.silenced, book.inhibited)

    def checkable_aliases(self, skip: frozenset[str] = frozenset()) -> list[MetricAlias]:
        """Aliases whose source is configured, answers queries, and is not in `skip`."""
        return [
            a
            for a in self.metric_aliases.values()
            if a.source not in skip and isinstance(self.by_name(a.source), MetricSource)
        ]

    async def check_aliases(self, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """Run every metric alias once, at once; (alias, reason) for each that fails.

        For `operator check`: a malformed PromQL alias fails here, at deploy time, not when
        someone asks for it at night. Aliases of monitors named in `skip` (already DOWN) and
        of sources not configured (not offered either) are not run: see `checkable_aliases`.
        """

        async def one(alias: MetricAlias) -> tuple[str, str] | None:
            source = self.by_name(alias.source)
            assert isinstance(source, MetricSource)
            try:
                await source.query_metric(alias)
            except MonitorError as exc:
                return alias.name, exc.reason
            return None

        results = await asyncio.gather(*(one(alias) for alias in self.checkable_aliases(skip)))
        return [failure for failure in results if failure is not None]

    @staticmethod
    async def _health_of(monitor: Monitor) -> tuple[Health, list[Problem]]:
        return await monitor.health_check(), []

    @staticmethod
    async def _problems_of(monitor: Monitor) -> tuple[Health, list[Problem]]:
        assert isinstance(monitor, ProblemSource)
        start = time.perf_counter()
        try:
            found = await monitor.problems()
        except MonitorError as exc:
            return Health(monitor.name, False, exc.reason, time.perf_counter() - start), []
        except Exception as exc:  # an adapter bug must not sink the whole status
            return Health(monitor.name, False, f"error ({type(exc).__name__})", time.perf_counter() - start), []
        return Health(monitor.name, True, "", time.perf_counter() - start), found

    async def aclose(self) -> None:
        await asyncio.gather(*(m.aclose() for m in self.all), return_exceptions=True)


def build_monitors(settings: MonitorSettings) -> Monitors:
    """Open a client per configured backend. Call from the app's start-up hook, not per request."""
    built = [m for factory in _factories() if (m := factory(settings)) is not None]
    aliases = load_aliases(settings)
    # LOG_FILES names services too: they join LOG_SERVICES, in order, once each.
    named = [s for m in built if isinstance(m, LogSource) for s in getattr(m, "services", ())]
    services = list(dict.fromkeys([*settings.log_services, *named]))
    if any(m.name == "host" for m in built) and not any(m.name == "prometheus" for m in built):
        aliases = host_aliases(aliases)
    return Monitors(built, aliases, services)


def host_aliases(aliases: dict[str, MetricAlias]) -> dict[str, MetricAlias]:
    """Without Prometheus, the stock cpu/memory/disk/load aliases are answered by the host
    monitor; aliases the operator wrote (METRIC_ALIASES) are left as written."""
    from monitors.aliases import DEFAULT_ALIASES
    from monitors.host import HOST_ALIASES

    return {
        name: HOST_ALIASES[name] if name in HOST_ALIASES and alias == DEFAULT_ALIASES.get(name) else alias
        for name, alias in aliases.items()
    }
