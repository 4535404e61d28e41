"""Plumbing shared by the benchmarks: private servers on loopback, signed requests, wrk, medians.

Every server binds 127.0.0.1 on a free port below 32768 and is stopped by its PID; every
load run is bounded in time. Results are compared as ratios within one run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.common import free_port  # noqa: E402

__all__ = ["free_port"]  # re-exported for the bench scripts

TOKEN = "bench-auth-token-0123456789"  # noqa: S105 - a made-up token for loopback servers
PUBLIC = "https://ops.example.com"
PYTHON = sys.executable
OPERATOR = str(Path(sys.executable).with_name("operator"))


def senders(count: int) -> list[str]:
    """Distinct valid US numbers: +1 415 555 1000, 1001, ..."""
    return [f"+1415555{1000 + i:04d}" for i in range(count)]


def signed_form(form: dict[str, str], url: str = PUBLIC + "/sms") -> tuple[str, str]:
    """(X-Twilio-Signature, urlencoded body)."""
    return RequestValidator(TOKEN).compute_signature(url, form), urlencode(form)


def twilio_form(sender: str, body: str, sid: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+14155550000",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def spawn(
    name: str,
    argv: Sequence[str],
    workdir: Path,
    port: int,
    env: dict[str, str] | None = None,
    ready_path: str | None = "/health",
    timeout_s: float = 30,
) -> Proc:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
    p = Proc(name, proc, port, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if ready_path is None or httpx.get(p.base + ready_path, timeout=0.5).status_code == 200:
                return p
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    p.stop()
    raise RuntimeError(f"{name} not ready after {timeout_s}s: {log.read_text(errors='replace')[-2000:]}")


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A private redis-server (no persistence) on a free port; yields its URL."""
    port = free_port()
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--protected-mode",
        "no",
        "--loglevel",
        "warning",
    ]
    log = workdir / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (
                subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False).stdout.strip()
                == b"PONG"
            ):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("redis-server not ready")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def flush_redis(url: str) -> None:
    port = url.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(["redis-cli", "-p", port, "flushall"], capture_output=True, check=True)


def operator_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "PROMETHEUS", "LOKI", "REDIS_", "AUTHORIZED", "LOG_", "RATE_"))
    }
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC, "LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


# --- wrk ---------------------------------------------------------------------------------

WRK_LUA = r"""
-- Cycles through pre-signed Twilio requests: one per line, "<signature>\t<urlencoded body>".
local sigs, bodies, n, i = {}, {}, 0, 0
for line in io.lines(os.getenv("BENCH_BODIES")) do
  local tab = line:find("\t", 1, true)
  n = n + 1
  sigs[n] = line:sub(1, tab - 1)
  bodies[n] = line:sub(tab + 1)
end
request = function()
  i = i % n + 1
  return wrk.format("POST", "/sms", {["Content-Type"] = "application/x-www-form-urlencoded",
                                     ["X-Twilio-Signature"] = sigs[i]}, bodies[i])
end
"""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(text)
    return float(m[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m[2]]


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get (Debian package `wrk`) when missing and running as root."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=False).returncode:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True)
        found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: run `apt-get install wrk` (Debian/Ubuntu) and rerun")
    return found


def wrk(url: str, bodies: Path, duration_s: int, connections: int = 16, threads: int = 1) -> WrkResult:
    binary = ensure_wrk()
    script = bodies.with_suffix(".lua")
    script.write_text(WRK_LUA)
    out = subprocess.run(
        [
            binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration_s}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=duration_s + 30,
        check=True,
        env={**os.environ, "BENCH_BODIES": str(bodies)},
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = (int(non2xx[1]) if non2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return WrkResult(rps, p50, p99, total, errors)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return f"{os.cpu_count()} cores (nproc), Python {sys.version.split()[0]}, {os.uname().sysname} {os.uname().release}"
