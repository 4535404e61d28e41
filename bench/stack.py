"""The real stack on loopback, for bench scripts that show what Operator says about a real system.

Started here, each on a free port below 32768, with the same code the test fixtures use
(tests/servers): node-exporter + Alertmanager + Prometheus (scraping both, one always-firing
rule), PostgreSQL with pgBouncer in front, HAProxy over a live upstream and dead ports. Loki
cannot run here: a local fake (tests/fakes/loki.py) serves generated error lines.

To look like a system with something going on, `busy_stack` adds: alerts of several severities
posted to Alertmanager's API (so they are real Alertmanager alerts, their labels made up); a
running query, an idle-in-transaction session and queued pgBouncer clients on PostgreSQL;
requests and 5xx answers through HAProxy. Everything stops when the context exits.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from tests.fakes.loki import Entry, LokiFake
from tests.servers.haproxy import HAProxyServer, running_haproxy
from tests.servers.pg import PgBouncerServer, PgServer, running_pgbouncer, running_postgres
from tests.servers.prometheus import MonitoringStack, _running_stack

MIN_NS = 60 * 1_000_000_000
BACKENDS = {"be_app": [True, False], "be_api": [True, True, False], "be_web": [True, True]}
ALERTS = [  # (alertname, severity, labels, summary, minutes ago)
    ("HighErrorRate", "critical", {"service": "api-gateway"}, "5xx ratio 7.2% over 5m", 12),
    ("PostgresReplicationLag", "critical", {"instance": "db-replica-2:9187"}, "replica 48s behind", 6),
    ("DiskSpaceLow", "warning", {"instance": "ip-10-0-3-17:9100", "mountpoint": "/var"}, "/var 91% full", 120),
    ("HighLatencyP99", "warning", {"service": "checkout"}, "p99 1.8s over 10m", 9),
]
LOG_LINES = {  # service -> (message, how many, minutes ago of the newest)
    "web": [
        ("payment timeout after 30s order=88412", 12, 1),
        ("upstream checkout-2 returned 503", 9, 4),
        ("db pool exhausted: 20/20 in use", 7, 95),
        ("redis READONLY: can\u2019t write against a read only replica", 5, 130),
        ("TLS handshake to api.stripe.com timed out\u2026 retrying", 4, 200),
    ],
    "api": [("bad gateway from upstream inventory", 3, 5), ("request body too large (413) on /v1/orders", 2, 30)],
    "worker": [("job export-csv failed: S3 SlowDown, retry 3/5", 6, 15)],
}


class _Dirs:
    """What `_running_stack` asks of pytest's tmp_path_factory: fresh directories."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name + "-", dir=self.root))


@dataclass
class Stack:
    monitoring: MonitoringStack
    postgres: PgServer
    pgbouncer: PgBouncerServer
    haproxy: HAProxyServer
    loki: LokiFake

    def env(self) -> dict[str, str]:
        """Operator's settings for this stack, as environment variables."""
        return {
            "PROMETHEUS_URL": self.monitoring.prometheus_url,
            "ALERTMANAGER_URL": self.monitoring.alertmanager_url,
            "DATABASE_URL": self.postgres.dsn("monitor"),
            "PGBOUNCER_URL": self.pgbouncer.dsn("pgbstats", db="pgbouncer"),
            "HAPROXY_STATS_URL": self.haproxy.stats_url,
            "LOKI_URL": self.loki.url,
            "LOG_SERVICES": ",".join(LOG_LINES),
        }


def log_entries(now_ns: int) -> list[Entry]:
    out = []
    for service, lines in LOG_LINES.items():
        for message, count, newest in lines:
            out += [
                Entry({"service": service}, now_ns - newest * MIN_NS - i * 7 * 10**9, f"ERROR {message}")
                for i in range(count)
            ]
    return out


def post_alerts(alertmanager_url: str) -> None:
    now = datetime.now(UTC)
    body = [
        {
            "labels": {"alertname": name, "severity": severity, **labels},
            "annotations": {"summary": summary},
            "startsAt": (now - timedelta(minutes=ago)).isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
        for name, severity, labels, summary, ago in ALERTS
    ]
    httpx.post(f"{alertmanager_url}/api/v2/alerts", json=body, timeout=5).raise_for_status()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # Alertmanager lists them after its group_wait
        names = {a["labels"]["alertname"] for a in httpx.get(f"{alertmanager_url}/api/v2/alerts", timeout=5).json()}
        if {name for name, *_ in ALERTS} <= names:
            return
        time.sleep(0.2)
    raise RuntimeError("posted alerts did not show in Alertmanager")


@contextlib.contextmanager
def database_activity(pg: PgServer, bouncer: PgBouncerServer) -> Iterator[None]:
    """A 60 s query, an idle transaction, and two clients queued behind pgBouncer's one server."""
    conns: list[psycopg.Connection[tuple[object, ...]]] = []

    def sleeper(dsn: str, seconds: int, **kwargs: object) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, **kwargs) as conn:  # type: ignore[arg-type]
                conn.execute(f"SELECT pg_sleep({seconds})")
        except psycopg.Error:
            pass  # cancelled at the end

    idle = psycopg.connect(pg.dsn("app", db="appdb"))
    idle.execute("SELECT 1")  # opens a transaction and leaves it open: "idle in transaction"
    conns.append(idle)
    threads = [threading.Thread(target=sleeper, args=(pg.dsn("app", db="appdb"), 60), daemon=True)]
    threads += [
        threading.Thread(target=sleeper, args=(bouncer.dsn(), 60), kwargs={"prepare_threshold": None}, daemon=True)
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    time.sleep(1.0)  # let them arrive
    try:
        yield
    finally:
        with psycopg.connect(pg.dsn(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'app' AND pid <> pg_backend_pid()"
            )
        for conn in conns:
            with contextlib.suppress(psycopg.Error):
                conn.close()
        for t in threads:
            t.join(5)


def haproxy_traffic(server: HAProxyServer, ok: int = 40, errors: int = 3) -> None:
    with httpx.Client(timeout=5) as client:
        for i in range(ok + errors):
            client.get(server.frontend_url + ("/err" if i % ((ok + errors) // errors) == 0 else "/"))


@contextlib.contextmanager
def busy_stack() -> Iterator[Stack]:
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-stack-")))
        monitoring = stack.enter_context(_running_stack(_Dirs(root)))  # type: ignore[arg-type]
        pg = stack.enter_context(running_postgres("bench-pg-"))
        bouncer = stack.enter_context(running_pgbouncer(pg))
        haproxy = stack.enter_context(running_haproxy(BACKENDS))
        loki = stack.enter_context(LokiFake(log_entries(time.time_ns())))
        post_alerts(monitoring.alertmanager_url)
        stack.enter_context(database_activity(pg, bouncer))
        haproxy_traffic(haproxy)
        yield Stack(monitoring, pg, bouncer, haproxy, loki)
