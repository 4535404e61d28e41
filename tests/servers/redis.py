"""A private redis-server on a free loopback port, in a temporary directory.

Unlike the shared Redis of tests/conftest.py (REDIS_URL), this one belongs to one test,
so the test may stop it mid-conversation and start it again on the same port to see
the service recover. No persistence: a restart comes back empty, as a failed-over
replica without the old data would.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.common import free_port, need_binary, port_open, start, stop, wait_until


class RedisServer:
    """One redis-server process; `stop()` and `start()` may be called any number of times."""

    def __init__(self, directory: Path, port: int | None = None, binary: str = "redis-server") -> None:
        self.binary = need_binary(binary)
        self.directory = directory
        self.port = port or free_port()
        self.starts = 0
        self.log = directory / "redis-0.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
               "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no",
               "--databases", "2", "--loglevel", "warning"]
        self.starts += 1
        self.log = self.directory / f"redis-{self.starts}.log"  # one log per start: none is truncated
        self.proc = start(cmd, self.log)
        wait_until(lambda: port_open(self.port), 10, self.proc, "redis-server", self.log)

    def stop(self) -> None:
        """Stop at once (SIGKILL): connections drop as they would when a Redis host dies."""
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL, timeout_s=5)
            self.proc = None
        wait_until(lambda: not port_open(self.port), 5, what="redis-server shutdown")

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGTERM, timeout_s=5)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running private redis-server; skipped (or failed under OPERATOR_REQUIRE_SERVICES=1) when absent."""
    with RedisServer(tmp_path) as server:
        yield server
