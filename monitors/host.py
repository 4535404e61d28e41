"""This machine, through psutil: CPU, memory, the fullest real filesystem, load per core,
uptime and the busiest processes. Needs no backend, so a fresh install has metrics.

Cost: every read runs in a worker thread (`asyncio.to_thread`) under the monitor timeout;
the event loop never waits on /proc. A snapshot without CPU reads a few /proc files
(~1 ms). CPU busy % is a difference of two `cpu_times()` samples: the previous sample
is the baseline when it is between MIN_SAMPLE_S and MAX_BASELINE_S old, otherwise the
thread samples for MIN_SAMPLE_S itself. `top` samples every process twice, TOP_SAMPLE_S
apart (one pass over /proc each).

Contract: `problems()` reports a filesystem, memory or load over its threshold
(HOST_DISK_MAX_PERCENT, HOST_MEMORY_MAX_PERCENT, HOST_LOAD_MAX_PER_CORE);
`query_metric()` answers the aliases whose source is "host" (query cpu, memory, disk,
load); failures surface as MonitorError through `Monitor.call`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from typing import Self

import psutil

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
from monitors.metric_format import format_number

MIN_SAMPLE_S = 0.25
MAX_BASELINE_S = 30.0
TOP_SAMPLE_S = 0.5
CRIT_PERCENT = 98.0  # a disk or memory this full breaks things now, not soon

# Pseudo and in-memory filesystems: never the "disk" anyone asks about.
VIRTUAL_FS = frozenset({
    "tmpfs", "devtmpfs", "ramfs", "overlay", "squashfs", "proc", "sysfs", "cgroup", "cgroup2",
    "devpts", "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "autofs", "fusectl",
    "configfs", "hugetlbfs", "nsfs", "binfmt_misc", "efivarfs", "rpc_pipefs", "nfsd", "iso9660",
})

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


@dataclass(frozen=True, slots=True)
class Disk:
    mount: str
    percent: float
    total: int


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    hostname: str
    cores: int
    memory_percent: float
    memory_total: int
    disks: list[Disk]  # real filesystems, fullest first
    load: tuple[float, float, float]
    uptime_s: float
    cpu_percent: float | None = None  # only when asked for: it needs two samples


@dataclass(frozen=True, slots=True)
class ProcessUse:
    pid: int
    name: str
    cpu_percent: float  # of one core, as top shows it
    rss: int


def real_disks() -> list[Disk]:
    """Usage of every real filesystem (one row per device), fullest first."""
    disks, devices = [], set()
    for part in psutil.disk_partitions(all=False):
        if part.fstype in VIRTUAL_FS or part.device in devices:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:  # unmounted meanwhile, or a mount we may not stat
            continue
        if usage.total == 0:
            continue
        devices.add(part.device)
        disks.append(Disk(part.mountpoint, usage.percent, usage.total))
    return sorted(disks, key=lambda d: -d.percent)


class CpuSampler:
    """CPU busy % between two `cpu_times()` samples, keeping the last as the next baseline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None  # (monotonic, busy, total)
        self.prime()

    @staticmethod
    def _read() -> tuple[float, float, float]:
        t = psutil.cpu_times()
        # guest time is already inside user/nice on Linux; idle includes waiting for I/O.
        total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
        idle = t.idle + getattr(t, "iowait", 0.0)
        return time.monotonic(), total - idle, total

    def prime(self) -> None:
        with self._lock:
            self._last = self._read()

    def percent(self) -> float:
        """Blocking (up to MIN_SAMPLE_S): call it from a worker thread."""
        with self._lock:
            last = self._last
            if last is None or not MIN_SAMPLE_S <= time.monotonic() - last[0] <= MAX_BASELINE_S:
                last = self._read()
                time.sleep(MIN_SAMPLE_S)
            now = self._read()
            self._last = now
        busy, total = now[1] - last[1], now[2] - last[2]
        return max(0.0, min(100.0, 100.0 * busy / total)) if total > 0 else 0.0


def snapshot(cpu: CpuSampler | None = None) -> HostSnapshot:
    """Blocking read of this host; with `cpu`, CPU busy % as well."""
    memory = psutil.virtual_memory()
    return HostSnapshot(
        hostname=socket.gethostname(),
        cores=psutil.cpu_count() or 1,
        memory_percent=memory.percent,
        memory_total=memory.total,
        disks=real_disks(),
        load=psutil.getloadavg(),
        uptime_s=time.time() - psutil.boot_time(),
        cpu_percent=cpu.percent() if cpu is not None else None,
    )


def busiest_processes(sample_s: float = TOP_SAMPLE_S) -> list[ProcessUse]:
    """Every process's CPU over `sample_s` and its resident memory. Blocking: run in a thread."""
    procs = []
    for proc in psutil.process_iter(["name"]):
        try:
            proc.cpu_percent(None)  # baseline
            procs.append(proc)
        except psutil.Error:
            continue
    time.sleep(sample_s)
    uses = []
    for proc in procs:
        try:
            with proc.oneshot():
                uses.append(ProcessUse(proc.pid, proc.info["name"] or "?", proc.cpu_percent(None),
                                       proc.memory_info().rss))
        except psutil.Error:  # gone, zombie or not ours to read
            continue
    return uses


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
    head = (f"{snap.hostname}: {cpu}mem {format_number(snap.memory_percent, '%')} "
            f"load {format_number(load, '/core')} up {format_uptime(snap.uptime_s)}")
    by_cpu = sorted(uses, key=lambda u: -u.cpu_percent)[:n]
    by_mem = sorted(uses, key=lambda u: -u.rss)[:n]
    cpu_line = ", ".join(f"{u.name} {format_number(u.cpu_percent, '%')}" for u in by_cpu)
    mem_line = ", ".join(f"{u.name} {format_number(float(u.rss), 'B')}" for u in by_mem)
    return "\n".join([head, f"by cpu: {cpu_line or 'none'}", f"by mem: {mem_line or 'none'}"])


def top_text(cpu: CpuSampler | None = None) -> str:
    """Blocking: the `top` answer for this host (the command runs it in a thread)."""
    uses = busiest_processes()
    return format_top(snapshot(cpu), uses)


class HostMonitor(Monitor, MetricSource, ProblemSource):
    """The machine Operator runs on."""

    name = "host"
    capabilities = frozenset({METRICS, HOST})

    def __init__(self, timeout_s: float, *, disk_max: float = 90.0, memory_max: float = 90.0,
                 load_max: float = 2.0) -> None:
        super().__init__(timeout_s)
        self.disk_max, self.memory_max, self.load_max = disk_max, memory_max, load_max
        self.cpu = CpuSampler()

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if not host_monitor_enabled(settings):
            return None
        return cls(settings.monitor_timeout_s, disk_max=settings.host_disk_max_percent,
                   memory_max=settings.host_memory_max_percent, load_max=settings.host_load_max_per_core)

    async def read(self, *, cpu: bool = False) -> HostSnapshot:
        return await self.call(asyncio.to_thread(snapshot, self.cpu if cpu else None))

    async def probe(self) -> str:
        snap = await asyncio.to_thread(snapshot)
        disk = f", disk {format_number(snap.disks[0].percent, '%')}" if snap.disks else ""
        return f"mem {format_number(snap.memory_percent, '%')}{disk}, load " \
               f"{format_number(snap.load[0] / snap.cores, '/core')}"

    async def problems(self) -> list[Problem]:
        return host_problems(await self.read(), self.disk_max, self.memory_max, self.load_max, self.name)

    async def top(self) -> str:
        """The `top` answer; about TOP_SAMPLE_S, in a thread."""
        return await self.call(asyncio.to_thread(top_text, self.cpu))

    async def query_metric(self, alias: MetricAlias) -> MetricResult:
        if alias.source != self.name or alias.query not in HOST_QUERIES:
            raise MonitorError(f"query error: the host knows {', '.join(HOST_QUERIES)}")
        snap = await self.read(cpu=alias.query == "cpu")
        if alias.query == "disk":
            return MetricResult(alias, [Series(d.mount, d.percent) for d in snap.disks])
        value = {"cpu": snap.cpu_percent or 0.0, "memory": snap.memory_percent,
                 "load": snap.load[0] / snap.cores}[alias.query]
        return MetricResult(alias, [Series(snap.hostname, value)])


def host_problems(snap: HostSnapshot, disk_max: float, memory_max: float, load_max: float,
                  monitor: str = "host") -> list[Problem]:
    """What is over its threshold, most severe first. Load uses the 5-minute average: a
    one-minute spike (a build, a backup starting) is not yet a problem."""
    found = []
    for disk in snap.disks:
        if disk.percent > disk_max:
            severity = "crit" if disk.percent >= CRIT_PERCENT else "warn"
            found.append(Problem(severity, monitor, f"{snap.hostname} disk {disk.mount} "
                                                    f"{format_number(disk.percent, '%')} full"))
    if snap.memory_percent > memory_max:
        severity = "crit" if snap.memory_percent >= CRIT_PERCENT else "warn"
        found.append(Problem(severity, monitor, f"{snap.hostname} memory "
                                                f"{format_number(snap.memory_percent, '%')} used"))
    per_core = snap.load[1] / snap.cores
    if per_core > load_max:
        found.append(Problem("warn", monitor, f"{snap.hostname} load {format_number(per_core, '/core')} (5m)"))
    return sorted(found, key=lambda p: p.severity != "crit")


def host_monitor_enabled(settings: MonitorSettings) -> bool:
    """HOST_MONITOR=auto is on when nothing else gives metrics (no Prometheus, no Datadog)."""
    if settings.host_monitor == "auto":
        return settings.prometheus_url is None and settings.datadog_api_key is None
    return settings.host_monitor == "on"
