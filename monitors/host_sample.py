"""Reading this machine through psutil: blocking functions, meant for a worker thread.

Cost: a snapshot without CPU reads a few /proc files (~1 ms). CPU busy % is a difference
of two `cpu_times()` samples: the previous sample is the baseline when it is between
MIN_SAMPLE_S and MAX_BASELINE_S old, otherwise the call samples for MIN_SAMPLE_S itself.
`busiest_processes` samples every process twice, TOP_SAMPLE_S apart (one pass over /proc each).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import psutil

MIN_SAMPLE_S = 0.25
MAX_BASELINE_S = 30.0
TOP_SAMPLE_S = 0.5
# Pseudo and in-memory filesystems: never the "disk" anyone asks about. Network mounts are
# left out too: statfs on a dead NFS server hangs, and would hold a worker thread with it.
VIRTUAL_FS = frozenset(
    {
        "tmpfs",
        "devtmpfs",
        "ramfs",
        "overlay",
        "squashfs",
        "proc",
        "sysfs",
        "cgroup",
        "cgroup2",
        "devpts",
        "mqueue",
        "debugfs",
        "tracefs",
        "securityfs",
        "pstore",
        "bpf",
        "autofs",
        "fusectl",
        "configfs",
        "hugetlbfs",
        "nsfs",
        "binfmt_misc",
        "efivarfs",
        "rpc_pipefs",
        "nfsd",
        "iso9660",
        "nfs",
        "nfs4",
        "cifs",
        "smbfs",
        "smb3",
        "fuse.sshfs",
    }
)


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
                uses.append(
                    ProcessUse(proc.pid, proc.info["name"] or "?", proc.cpu_percent(None), proc.memory_info().rss)
                )
        except psutil.Error:  # gone, zombie or not ours to read
            continue
    return uses
