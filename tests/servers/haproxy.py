"""Fixture: a real HAProxy on loopback with one healthy and one dead server.

haproxy_server  function scope (tests change server states): HAProxyServer with
                `stats_url` (`.../stats;csv`), `frontend_url`, `admin(command)` on the
                admin socket. Backend `be_app`: `up1` is a local HTTP upstream (GET /health
                200, GET /err 500), `dead1` a port where nothing listens. Yielded once
                the stats show up1 UP and dead1 DOWN.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.server import FakeServer, Reply
from tests.servers.common import failed_to_start, free_port, need_binary, start, stop, wait_until


@dataclass
class HAProxyServer:
    stats_url: str
    frontend_url: str
    socket_path: Path
    upstream: FakeServer

    def admin(self, command: str) -> str:
        """Run one command on the admin socket (`disable server be_app/up1`)."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> str:
        with urllib.request.urlopen(self.stats_url, timeout=2) as response:  # noqa: S310 - loopback http
            return str(response.read().decode())

    def server_status(self, server: str) -> str:
        for line in self.stats().splitlines():
            fields = line.split(",")
            if fields[:2] == ["be_app", server]:
                return fields[17]
        return ""


def _config(
    base: Path, fe_port: int, stats_port: int, up_port: int, dead_port: int, backends: dict[str, list[bool]]
) -> str:
    """The first backend is the frontend's default; a True server is the live upstream, False a dead port."""
    sections = []
    for backend, servers in backends.items():
        lines = [f"backend {backend}", "    option httpchk GET /health"]
        for name, up in zip(_names(backend, servers), servers, strict=True):
            lines.append(f"    server {name} 127.0.0.1:{up_port if up else dead_port} check inter 200ms rise 1 fall 1")
        sections.append("\n".join(lines))
    return f"""\
global
    stats socket {base}/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe_main
    bind 127.0.0.1:{fe_port}
    default_backend {next(iter(backends))}
{chr(10).join(sections)}
frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
"""


@contextmanager
def running_haproxy(backends: dict[str, list[bool]] | None = None) -> Iterator[HAProxyServer]:
    """HAProxy over a live upstream and a dead port; yielded once every server shows its state."""
    binary = need_binary("/usr/sbin/haproxy")
    backends = backends or {"be_app": [True, False]}
    base = Path(tempfile.mkdtemp(prefix="operator-haproxy-"))
    upstream = FakeServer()
    upstream.routes[("GET", "/health")] = lambda req: Reply(200, "ok")
    upstream.routes[("GET", "/err")] = lambda req: Reply(500, "boom")
    upstream.routes[("GET", "/")] = lambda req: Reply(200, "hello")
    # HAProxy ends health-check connections with a TCP reset (no TIME_WAIT on its side); the
    # stdlib server would print each ConnectionResetError as a traceback.
    upstream._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    fe_port, stats_port, dead_port = free_port(), free_port(), free_port()
    up_port = int(upstream.url.rsplit(":", 1)[1])
    config = base / "haproxy.cfg"
    config.write_text(_config(base, fe_port, stats_port, up_port, dead_port, backends))
    checked = subprocess.run([binary, "-c", "-q", "-f", str(config)], capture_output=True, check=False)
    if checked.returncode:
        failed_to_start("haproxy", f"it rejects the test config: {checked.stderr.decode()[-500:]}")
    log = base / "haproxy.log"
    with upstream:
        proc = start([binary, "-db", "-f", str(config)], log)
        server = HAProxyServer(
            f"http://127.0.0.1:{stats_port}/stats;csv", f"http://127.0.0.1:{fe_port}", base / "admin.sock", upstream
        )

        def settled() -> bool:
            states = {(f[0], f[1]): f[17] for f in (ln.split(",") for ln in server.stats().splitlines()) if len(f) > 17}
            return all(
                states.get((b, n)) == ("UP" if up else "DOWN")
                for b, servers in backends.items()
                for n, up in zip(_names(b, servers), servers, strict=True)
            )

        try:
            wait_until(settled, 20, proc, "haproxy", log)
            yield server
        finally:
            stop(proc)
            shutil.rmtree(base, ignore_errors=True)


def _names(backend: str, servers: list[bool]) -> list[str]:
    """be_app's servers are up1, up2, ... and dead1, dead2, ...; other backends' are <backend>-1, -2, ..."""
    if backend == "be_app":
        return [
            f"up{servers[: i + 1].count(True)}" if up else f"dead{servers[: i + 1].count(False)}"
            for i, up in enumerate(servers)
        ]
    return [f"{backend}-{i + 1}" for i in range(len(servers))]


@pytest.fixture
def haproxy_server() -> Iterator[HAProxyServer]:
    """be_app: up1 (healthy upstream) and dead1 (nothing listens)."""
    with running_haproxy() as server:
        yield server
