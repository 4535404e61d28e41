"""Shared plumbing for fixtures that start real servers on loopback.

A server binary that is not installed skips the test with a clear reason (`unavailable`),
except under OPERATOR_REQUIRE_SERVICES=1 (set by .ci/run), where it fails instead. A server
that is installed but does not come up (crash, bad config, port clash) always fails the
test with its log tail (`failed_to_start`): a skip there would hide a broken fixture.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE = os.environ.get("OPERATOR_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip (or fail, when services are required) because a server is missing."""
    if REQUIRE:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def failed_to_start(what: str, detail: str = "", log: Path | None = None) -> NoReturn:
    """Fail (never skip): the server is installed, so not coming up is a bug to see."""
    tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    pytest.fail(f"{what} is installed but did not start: {detail}\n{tail}".rstrip(), pytrace=False)


def need_binary(path: str) -> str:
    found = shutil.which(path) or (path if Path(path).exists() else None)
    if found is None:
        unavailable(f"{path} is not installed (apt-get install the Debian package; .ci/run does)")
    assert found is not None
    return found


_used_ports: set[int] = set()


def free_port(low: int = 20000, high: int = 32000) -> int:
    """A free loopback port in [low, high), below 32768 (the range above is handed out to client
    sockets). The scan starts at a per-process offset so parallel test runs rarely meet."""
    span = high - low
    start_at = (os.getpid() * 37) % span
    for i in range(span):
        port = low + (start_at + i) % span
        if port in _used_ports:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise RuntimeError(f"no free loopback port in [{low}, {high})")


def wait_until(
    check: Callable[[], bool],
    timeout_s: float,
    proc: subprocess.Popen[bytes] | None = None,
    what: str = "server",
    log: Path | None = None,
) -> None:
    """Poll `check` until true; fail (not skip) with the server's log tail if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not ready yet; keep polling until the deadline
            pass
        time.sleep(0.05)
    status = "exited" if proc is not None and proc.poll() is not None else f"not ready after {timeout_s}s"
    failed_to_start(what, status, log)


def start(
    cmd: Sequence[str], log: Path, *, user: str | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server in the background, logging to `log`; as `user` when it refuses root."""
    argv = list(cmd)
    if user is not None and os.geteuid() == 0:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *argv]
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0
