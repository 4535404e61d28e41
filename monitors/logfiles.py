"""Log files on this machine as a log backend: `logs api 1h` without Loki or Elasticsearch.

LOG_FILES=api=/var/log/api/*.log,web=/var/log/nginx/error.log names each service's files
(a glob; repeat a name for more globs). Each match's rotated sibling (`<file>.1`) is read
too. A file last written before the window starts is skipped without being opened.

Cost: one worker thread per question (`asyncio.to_thread`, under the monitor timeout).
Files are read backwards from their end in 64 KiB blocks, newest file first, and the
reading stops at the first line older than the window or after LOG_FILES_MAX_BYTES in
all, whichever comes first; a question that hits the byte bound says "at least N".

What counts: a line whose own time (monitors/log_times.py) is inside the window and that
matches LOG_FILES_ERROR_PATTERN (Loki's usual filter by default); for a JSON line with a
level field, the level decides. A line without a time (a stack frame) belongs to the
timed line above it.

Errors: a glob that matches nothing, a file that cannot be read (permission, a
directory, not a regular file) -> MonitorError naming the file; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, Self

from monitors.base import LOGS, LogLine, LogResult, LogSource, Monitor, MonitorError, Problem, ProblemSource
from monitors.config import MonitorSettings
from monitors.log_times import JSON_LEVEL_KEYS, JSON_MESSAGE_KEYS, json_fields, json_time, text_time

BLOCK = 64 * 1024
ERROR_LEVELS = frozenset({"error", "err", "fatal", "critical", "crit", "panic", "alert", "emerg", "emergency"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def parse_log_files(value: str) -> dict[str, list[str]]:
    """`api=/var/log/api/*.log,web=/var/log/nginx/error.log` -> {service: [globs]}; ValueError
    names the bad entry."""
    services: dict[str, list[str]] = {}
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        name, sep, pattern = (part.strip() for part in entry.partition("="))
        if not sep or not _NAME.fullmatch(name) or not pattern:
            raise ValueError(f"entry {entry!r} is not service=/path/glob")
        if not os.path.isabs(pattern):
            raise ValueError(f"{name}: {pattern!r} is not an absolute path")
        services.setdefault(name, []).append(pattern)
    return services


@dataclass(frozen=True, slots=True)
class Scan:
    lines: list[LogLine]
    partial: bool  # the byte bound stopped the reading before the window's start


def files_of(patterns: list[str]) -> list[str]:
    """Every file the globs match plus rotated `.1` siblings, newest first; MonitorError
    when a glob matches nothing or a match cannot be read."""
    found: dict[str, float] = {}
    for pattern in patterns:
        matches = glob.glob(pattern)
        if not matches:
            raise MonitorError(f"no file matches {pattern}")
        for path in matches:
            for candidate in (path, path + ".1"):
                if candidate in found or (candidate != path and not os.path.lexists(candidate)):
                    continue
                found[candidate] = _mtime(candidate)
    return sorted(found, key=lambda p: -found[p])


def _mtime(path: str) -> float:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise MonitorError(f"cannot read {path} ({_why(exc)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise MonitorError(f"cannot read {path} (a directory)")
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the reader forever
        raise MonitorError(f"cannot read {path} (not a regular file)")
    return info.st_mtime


def readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise MonitorError(f"cannot read {path} ({_why(exc)})") from None


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "not found"
    return exc.strerror or type(exc).__name__


class Backwards:
    """Lines of a file from its end towards its start, reading at most `budget` bytes.

    After iterating: `spent` bytes were read; `cut` is True when the bound stopped the
    reading before the file's start (the partial line at the cut is dropped)."""

    def __init__(self, fh: BinaryIO, budget: int) -> None:
        self.fh, self.budget = fh, budget
        self.spent, self.cut = 0, False

    def __iter__(self) -> Iterator[bytes]:
        pos = self.fh.seek(0, os.SEEK_END)
        carry = b""
        while pos > 0 and self.spent < self.budget:
            size = min(BLOCK, pos, self.budget - self.spent)
            pos -= size
            self.spent += size
            self.fh.seek(pos)
            parts = (self.fh.read(size) + carry).split(b"\n")
            carry = parts[0]  # may be the tail of a line that starts in the block before
            yield from reversed(parts[1:])
        if pos == 0:
            yield carry
        else:
            self.cut = True


class LineReader:
    """Turns one raw line into (time or None, message, is_error)."""

    def __init__(self, pattern: re.Pattern[str], now: datetime) -> None:
        self.pattern, self.now = pattern, now

    def read(self, line: str) -> tuple[datetime | None, str, bool]:
        data = json_fields(line)
        if data is not None:
            message = next((str(data[k]) for k in JSON_MESSAGE_KEYS if k in data), line)
            level = next((data[k] for k in JSON_LEVEL_KEYS if k in data), None)
            if isinstance(level, int | float) and not isinstance(level, bool):
                is_error = level >= 50  # pino/bunyan: 50 error, 60 fatal
            elif isinstance(level, str):
                is_error = level.lower() in ERROR_LEVELS
            else:
                is_error = self.pattern.search(line) is not None
            return json_time(data), message, is_error
        stamped = text_time(line, self.now)
        is_error = self.pattern.search(line) is not None
        return (stamped[0], stamped[1], is_error) if stamped else (None, line, is_error)


def scan_file(path: str, start: datetime, reader: LineReader, budget: int) -> tuple[list[LogLine], Backwards]:
    """Error lines of one file inside [start, now], and the reader (bytes spent, cut short)."""
    found: list[LogLine] = []
    pending: list[str] = []  # untimed error lines (stack frames) waiting for the timed line above
    try:
        with open(path, "rb") as fh:
            lines = Backwards(fh, budget)
            for raw in lines:
                if not raw.strip():
                    continue
                moment, message, is_error = reader.read(raw.decode("utf-8", "replace").rstrip("\r"))
                if moment is None:
                    if is_error:
                        pending.append(message)
                    continue
                if moment < start:
                    break  # lines are appended in time order: everything above is older
                if is_error:
                    found.append(LogLine(moment, message))
                found += [LogLine(moment, m) for m in pending]
                pending = []
    except OSError as exc:
        raise MonitorError(f"cannot read {path} ({_why(exc)})") from None
    return found, lines


def scan(patterns: list[str], window: timedelta, now: datetime, pattern: re.Pattern[str], max_bytes: int) -> Scan:
    """Blocking: every error line of the service's files inside the window, newest first."""
    start = now - window
    reader, budget, partial, lines = LineReader(pattern, now), max_bytes, False, []
    for path in files_of(patterns):
        if _mtime(path) < start.timestamp():
            continue  # nothing written since the window opened
        if budget <= 0:
            partial = True
            break
        found, read = scan_file(path, start, reader, budget)
        lines += found
        budget -= read.spent
        partial = partial or read.cut
    lines.sort(key=lambda line: line.ts, reverse=True)
    return Scan(lines, partial)


class LogFilesMonitor(Monitor, LogSource, ProblemSource):
    """Error lines of the services in LOG_FILES, read from this machine's disk."""

    name = "logfiles"
    capabilities = frozenset({LOGS})

    def __init__(
        self,
        files: dict[str, list[str]],
        timeout_s: float,
        *,
        max_bytes: int = 4 * 1024 * 1024,
        error_pattern: str = "(?i)(error|fatal|panic|exception)",
    ) -> None:
        super().__init__(timeout_s)
        self.files = files
        self.max_bytes = max_bytes
        self.pattern = re.compile(error_pattern)

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if not settings.log_files:
            return None
        return cls(
            parse_log_files(settings.log_files),
            settings.monitor_timeout_s,
            max_bytes=settings.log_files_max_bytes,
            error_pattern=settings.log_files_error_pattern,
        )

    @property
    def services(self) -> list[str]:
        return list(self.files)

    def serves(self, service: str) -> bool:
        return service in self.files

    def _check(self) -> tuple[int, list[str]]:
        """(readable files, "service: why" for each service whose files cannot be read). Blocking."""
        total, broken = 0, []
        for service, patterns in self.files.items():
            try:
                paths = files_of(patterns)
                for path in paths:
                    readable(path)
            except MonitorError as exc:
                broken.append(f"{service}: {exc.reason}")
                continue
            total += len(paths)
        return total, broken

    async def probe(self) -> str:
        # One service's missing file is that service's problem (see `problems`), not the whole
        # source down: the others still answer `logs`. Down only when nothing at all is readable.
        files, broken = await asyncio.to_thread(self._check)
        if broken and len(broken) == len(self.files):
            raise MonitorError(broken[0] if len(broken) == 1 else f"{broken[0]} (+{len(broken) - 1} more)")
        note = f"{files} file{'s' if files != 1 else ''}"
        return f"{note}, {len(broken)} unreadable" if broken else note

    async def problems(self) -> list[Problem]:
        """A warning per service whose log files cannot be read; MonitorError when none can."""
        _files, broken = await self.call(asyncio.to_thread(self._check))
        if broken and len(broken) == len(self.files):
            raise MonitorError(broken[0] if len(broken) == 1 else f"{broken[0]} (+{len(broken) - 1} more)")
        return [Problem("warn", self.name, f"logs {why}") for why in broken]

    async def errors(self, service: str, window: timedelta, limit: int) -> LogResult:
        patterns = self.files.get(service)
        if patterns is None:
            raise MonitorError(f"unknown service; known: {', '.join(self.files) or 'none'}")
        now = datetime.now().astimezone()
        found = await self.call(asyncio.to_thread(scan, patterns, window, now, self.pattern, self.max_bytes))
        return LogResult(service, window, len(found.lines), found.lines[:limit], partial=found.partial)
