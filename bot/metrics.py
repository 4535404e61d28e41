"""The service's own metrics, exposed at /metrics. One registry per app, so tests can build many."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitors.base import Health

OUTCOMES = (
    "answered",
    "forged",
    "unknown_sender",
    "rate_limited",
    "duplicate",
    "error",
    "opted_out",
    "busy",
    "store_unavailable",
    "deferred",
    "oversized",
)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter("operator_messages", "Inbound messages by outcome", ["outcome"], registry=self.registry)
        # Children bound once: zeros are exported from the start (rate() works at once), and
        # the hot path skips a label lookup per message.
        self._outcomes = {outcome: self.messages.labels(outcome) for outcome in OUTCOMES}
        self.reply_seconds = Histogram(
            "operator_reply_seconds",
            "Time from request to reply",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 8, 15),
            registry=self.registry,
        )
        self.commands = Counter("operator_commands", "Commands understood", ["command"], registry=self.registry)
        self._commands: dict[str, Counter] = {}  # children by command, bound on first use as the outcomes are
        self.monitor_seconds = Histogram(
            "operator_monitor_check_seconds",
            "Monitor health check latency",
            ["monitor"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
            registry=self.registry,
        )
        self.monitor_up = Gauge(
            "operator_monitor_up", "1 when the last health check passed", ["monitor"], registry=self.registry
        )

    def outcome(self, name: str) -> None:
        self._outcomes[name].inc()

    def command(self, name: str) -> None:
        child = self._commands.get(name)
        if child is None:
            child = self._commands[name] = self.commands.labels(name)
        child.inc()

    def observe_health(self, health: Health) -> None:
        self.monitor_seconds.labels(health.monitor).observe(health.latency_s)
        self.monitor_up.labels(health.monitor).set(1 if health.ok else 0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
