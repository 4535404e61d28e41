"""This machine, through psutil: CPU, memory, the fullest real filesystem, load per core,
uptime and the busiest processes. Needs no backend, so a fresh install has metrics.

Cost: every read (monitors/host_sample.py) runs in a worker thread (`asyncio.to_thread`)
under the monitor timeout; the event loop never waits on /proc. A CPU reading may sample
for 0.25 s and `top` for 0.5 s, in that thread.

Contract: `problems()` reports a filesystem, memory or load over its threshold
(HOST_DISK_MAX_PERCENT, HOST_MEMORY_MAX_PERCENT, HOST_LOAD_MAX_PER_CORE);
`query_metric()` answers the aliases whose source is "host" (query cpu, memory, disk,
load); failures surface as MonitorError through `Monitor.call`.
"""

from __future__ import annotations

import asyncio
from typing import Self

from monitors.base import (
    HOST,
    METRICS,
    MetricAlias,
    MetricResult,
    MetricSource,
    Monitor,
    MonitorError,
    Problem,
    ProblemSource,
    Series,
)
from monitors.config import MonitorSettings
from monitors.host_sample import (
    TOP_SAMPLE_S,
    CpuSampler,
    HostSnapshot,
    ProcessUse,
    busiest_processes,
    snapshot,
)
from monitors.metric_format import format_number

CRIT_PERCENT = 98.0  # a disk or memory this full breaks things now, not soon

HOST_QUERIES = ("cpu", "memory", "disk", "load")
HOST_ALIASES: dict[str, MetricAlias] = {
    a.name: a
    for a in (
        MetricAlias("cpu", "cpu", "%", label="host", source="host", description="CPU busy %, this host"),
        MetricAlias("memory", "memory", "%", label="host", source="host", description="memory used %, this host"),
        MetricAlias("disk", "disk", "%", label="mount", source="host", description="filesystems % full"),
        MetricAlias("load", "load", "/core", label="host", source="host", description="load1 per core"),
    )
}


def format_uptime(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{minutes}m" if hours else f"{minutes}m"


def format_top(snap: HostSnapshot, uses: list[ProcessUse], n: int = 4) -> str:
    """`top`: the host in one line, then the busiest processes by CPU and by memory."""
    cpu = f"cpu {format_number(snap.cpu_percent, '%')} " if snap.cpu_percent is not None else ""
    load = snap.load[0] / snap.cores
    head = (
        f"{snap.hostname}: {cpu}mem {format_number(snap.memory_percent, '%')} "
        f"load {format_number(load, '/core')} up {format_uptime(snap.uptime_s)}"
    )
    by_cpu = sorted(uses, key=lambda u: -u.cpu_percent)[:n]
    by_mem = sorted(uses, key=lambda u: -u.rss)[:n]
    cpu_line = ", ".join(f"{u.name} {format_number(u.cpu_percent, '%')}" for u in by_cpu)
    mem_line = ", ".join(f"{u.name} {format_number(float(u.rss), 'B')}" for u in by_mem)
    return "\n".join([head, f"by cpu: {cpu_line or 'none'}", f"by mem: {mem_line or 'none'}"])


def top_text(cpu: CpuSampler | None = None, sample_s: float = TOP_SAMPLE_S) -> str:
    """Blocking: the `top` answer for this host (the command runs it in a thread)."""
    uses = busiest_processes(sample_s)
    return format_top(snapshot(cpu), uses)


class HostMonitor(Monitor, MetricSource, ProblemSource):
    """The machine Operator runs on."""

    name = "host"
    capabilities = frozenset({METRICS, HOST})

    def __init__(
        self, timeout_s: float, *, disk_max: float = 90.0, memory_max: float = 90.0, load_max: float = 2.0
    ) -> None:
        super().__init__(timeout_s)
        self.disk_max, self.memory_max, self.load_max = disk_max, memory_max, load_max
        self.cpu = CpuSampler()

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if not host_monitor_enabled(settings):
            return None
        return cls(
            settings.monitor_timeout_s,
            disk_max=settings.host_disk_max_percent,
            memory_max=settings.host_memory_max_percent,
            load_max=settings.host_load_max_per_core,
        )

    async def read(self, *, cpu: bool = False) -> HostSnapshot:
        return await self.call(asyncio.to_thread(snapshot, self.cpu if cpu else None))

    async def probe(self) -> str:
        snap = await asyncio.to_thread(snapshot)
        disk = f", disk {format_number(snap.disks[0].percent, '%')}" if snap.disks else ""
        return (
            f"mem {format_number(snap.memory_percent, '%')}{disk}, load "
            f"{format_number(snap.load[0] / snap.cores, '/core')}"
        )

    async def problems(self) -> list[Problem]:
        return host_problems(await self.read(), self.disk_max, self.memory_max, self.load_max, self.name)

    async def top(self) -> str:
        """The `top` answer; about TOP_SAMPLE_S (less under a short MONITOR_TIMEOUT_S), in a thread."""
        return await self.call(asyncio.to_thread(top_text, self.cpu, min(TOP_SAMPLE_S, self.timeout_s / 3)))

    async def query_metric(self, alias: MetricAlias) -> MetricResult:
        if alias.source != self.name or alias.query not in HOST_QUERIES:
            raise MonitorError(f"query error: the host knows {', '.join(HOST_QUERIES)}")
        snap = await self.read(cpu=alias.query == "cpu")
        if alias.query == "disk":
            return MetricResult(alias, [Series(d.mount, d.percent) for d in snap.disks])
        value = {"cpu": snap.cpu_percent or 0.0, "memory": snap.memory_percent, "load": snap.load[0] / snap.cores}[
            alias.query
        ]
        return MetricResult(alias, [Series(snap.hostname, value)])


def host_problems(
    snap: HostSnapshot, disk_max: float, memory_max: float, load_max: float, monitor: str = "host"
) -> list[Problem]:
    """What is over its threshold, most severe first. Load uses the 5-minute average: a
    one-minute spike (a build, a backup starting) is not yet a problem."""
    found = []
    for disk in snap.disks:
        if disk.percent > disk_max:
            severity = "crit" if disk.percent >= CRIT_PERCENT else "warn"
            found.append(
                Problem(severity, monitor, f"{snap.hostname} disk {disk.mount} {format_number(disk.percent, '%')} full")
            )
    if snap.memory_percent > memory_max:
        severity = "crit" if snap.memory_percent >= CRIT_PERCENT else "warn"
        found.append(
            Problem(severity, monitor, f"{snap.hostname} memory {format_number(snap.memory_percent, '%')} used")
        )
    per_core = snap.load[1] / snap.cores
    if per_core > load_max:
        found.append(Problem("warn", monitor, f"{snap.hostname} load {format_number(per_core, '/core')} (5m)"))
    return sorted(found, key=lambda p: p.severity != "crit")


def host_monitor_enabled(settings: MonitorSettings) -> bool:
    """HOST_MONITOR=auto is on when nothing else gives metrics (no Prometheus, no Datadog)."""
    if settings.host_monitor == "auto":
        return settings.prometheus_url is None and settings.datadog_api_key is None
    return settings.host_monitor == "on"
