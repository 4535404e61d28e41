"""A private redis-server on a free loopback port, in a temporary directory.

Unlike the shared Redis of tests/conftest.py (REDIS_URL), this one belongs to one test,
so the test may stop it mid-conversation and start it again on the same port to see
the service recover. No persistence: a restart comes back empty, as a failed-over
replica without the old data would.

`tls_redis_server` is the same server speaking TLS only (`--port 0 --tls-port P`), with a
self-signed certificate for 127.0.0.1 that the fixture makes with `openssl req`; its `url`
is `rediss://...?ssl_ca_certs=<cert>`, so clients verify the server as in production.
Debian's redis-server is built with TLS; a build without it makes the fixture skip (it
cannot serve `rediss://` at all), with the binary's own complaint as the reason.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.common import (
    failed_to_start,
    free_port,
    need_binary,
    port_open,
    start,
    stop,
    unavailable,
    wait_until,
)


class RedisServer:
    """One redis-server process; `stop()` and `start()` may be called any number of times."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        binary: str = "redis-server",
        cert: Path | None = None,
        key: Path | None = None,
    ) -> None:
        self.binary = need_binary(binary)
        self.directory = directory
        self.port = port or free_port()
        self.cert, self.key = cert, key  # both set: TLS only, no plain port
        self.starts = 0
        self.log = directory / "redis-0.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.cert is not None:
            return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.cert}"
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        cmd = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--daemonize",
            "no",
            "--databases",
            "2",
            "--loglevel",
            "warning",
        ]
        if self.cert is not None and self.key is not None:
            cmd[1:3] = [
                "--port",
                "0",
                "--tls-port",
                str(self.port),
                "--tls-cert-file",
                str(self.cert),
                "--tls-key-file",
                str(self.key),
                "--tls-ca-cert-file",
                str(self.cert),
                "--tls-auth-clients",
                "no",
            ]
        self.starts += 1
        self.log = self.directory / f"redis-{self.starts}.log"  # one log per start: none is truncated
        self.proc = start(cmd, self.log)
        if self.cert is not None:
            self._skip_without_tls()
        wait_until(lambda: port_open(self.port), 10, self.proc, "redis-server", self.log)

    def _skip_without_tls(self) -> None:
        """A redis-server built without TLS exits at once on `--tls-port` (an unknown directive)."""
        assert self.proc is not None
        try:
            self.proc.wait(0.3)
        except subprocess.TimeoutExpired:
            return  # still running: it accepted the TLS options
        text = self.log.read_text(errors="replace")
        if "tls-port" in text and ("Bad directive" in text or "not supported" in text.lower()):
            self.proc = None
            unavailable(f"{self.binary} was built without TLS support: {text.strip()[-200:]}")

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


def self_signed_cert(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """(certificate, key) for `host`, valid a day, made by `openssl req` (subjectAltName IP too)."""
    openssl = need_binary("openssl")
    cert, key = directory / "redis.crt", directory / "redis.key"
    done = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if done.returncode:
        failed_to_start("openssl req", done.stderr.decode()[-500:])
    return cert, key


@pytest.fixture
def tls_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server that speaks only TLS, with a certificate made for this test."""
    cert, key = self_signed_cert(tmp_path)
    with RedisServer(tmp_path, cert=cert, key=key) as server:
        yield server
