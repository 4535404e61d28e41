"""A three-node Redis Cluster on loopback (no replicas), for the store's Cluster mode."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.servers.common import free_port, need_binary, port_open, start, stop, unavailable, wait_until


def _node_port() -> int:
    """A free port whose cluster-bus port (+10000) is free too."""
    for _ in range(50):
        port = free_port()
        if not port_open(port + 10000):
            return port
    raise RuntimeError("no port pair free for a cluster node")


def _cluster_ok(cli: str, port: int) -> bool:
    out = subprocess.run([cli, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5)
    return "cluster_state:ok" in out.stdout


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = need_binary("redis-server")
    cli = need_binary("redis-cli")
    base = tmp_path_factory.mktemp("redis-cluster")
    ports = [_node_port() for _ in range(3)]
    procs = []
    try:
        for port in ports:
            log = base / f"node-{port}.log"
            procs.append(proc := start([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base),
                                        "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                                        "--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no",
                                        "--protected-mode", "no"], log))
            wait_until(lambda p=port: port_open(p), 10, proc, "redis cluster node", log)
        created = subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                                  "--cluster-replicas", "0", "--cluster-yes"],
                                 capture_output=True, text=True, timeout=30)
        if created.returncode != 0:
            unavailable(f"redis-cli --cluster create failed: {created.stdout[-300:]} {created.stderr[-300:]}")
        for port in ports:
            wait_until(lambda p=port: _cluster_ok(cli, p), 20, what="redis cluster state ok")
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            stop(proc)


__all__ = ["redis_cluster_url"]
