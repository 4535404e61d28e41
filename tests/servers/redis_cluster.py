"""A three-node Redis Cluster on loopback (no replicas), for the store's Cluster mode.

Each node also listens on its cluster-bus port, port + 10000. Both must stay below 32768
(above it the kernel hands out client ports, and a bus port there once clashed), so node
ports come from [11000, 22000): the bus ports fall in [21000, 32000). A port can still be
taken between the check and redis-server's bind; then the cluster is started again on new
ports, a bounded number of times, before the fixture fails with the node's log.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.common import failed_to_start, free_port, need_binary, port_open, start, stop, wait_until

BUS_OFFSET = 10000
NODE_PORTS = (11000, 22000)  # node + BUS_OFFSET < 32768
ATTEMPTS = 3


def node_port() -> int:
    """A free port whose cluster-bus port (+10000) is free too, both below 32768."""
    for _ in range(50):
        port = free_port(*NODE_PORTS)
        if not port_open(port + BUS_OFFSET) and port_free(port + BUS_OFFSET):
            return port
    raise RuntimeError("no port pair free for a cluster node")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_ok(cli: str, port: int) -> bool:
    out = subprocess.run([cli, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5)
    return "cluster_state:ok" in out.stdout


def _bind_clash(log: Path) -> bool:
    return log.exists() and "Address already in use" in log.read_text(errors="replace")


def _start_nodes(server: str, base: Path, ports: list[int], procs: list[subprocess.Popen[bytes]]) -> Path | None:
    """Start one node per port; the log of a node that lost its port to someone else, else None."""
    for port in ports:
        log = base / f"node-{port}.log"
        procs.append(
            proc := start(
                [
                    server,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(base),
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{port}.conf",
                    "--cluster-node-timeout",
                    "2000",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "no",
                ],
                log,
            )
        )
        deadline = time.monotonic() + 10
        while not port_open(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is not None:
            if _bind_clash(log):
                return log
            failed_to_start("redis cluster node", "exited", log)
        wait_until(lambda p=port: port_open(p), 10, proc, "redis cluster node", log)
    return None


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = need_binary("redis-server")
    cli = need_binary("redis-cli")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for attempt in range(1, ATTEMPTS + 1):
            base = tmp_path_factory.mktemp("redis-cluster")
            ports = [node_port() for _ in range(3)]
            clash = _start_nodes(server, base, ports, procs)
            if clash is None:
                break
            for proc in procs:
                stop(proc)
            procs.clear()
            if attempt == ATTEMPTS:
                failed_to_start("redis cluster node", f"port clash on {ATTEMPTS} attempts", clash)
        created = subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if created.returncode != 0:
            failed_to_start(
                "redis cluster", f"redis-cli --cluster create: {created.stdout[-300:]} {created.stderr[-300:]}"
            )
        for port in ports:
            wait_until(lambda p=port: _cluster_ok(cli, p), 20, what="redis cluster state ok")
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            stop(proc)


__all__ = ["redis_cluster_url"]
