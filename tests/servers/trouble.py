"""Servers of a test module's own, made to misbehave for real: stopped, frozen, queued.

The session fixtures (`pg_server`, `monitoring_stack`) are shared by many tests, so a
test that kills or freezes a server starts its own here:

    trouble_db     module: a PostgreSQL cluster and a pgBouncer in front of it (pool_size=1,
                   admin user pgbadmin), each freezable: ``with db.frozen("pgbouncer"):``
                   SIGSTOPs every process of that server and always SIGCONTs on exit.
    trouble_replica module: a streaming standby of trouble_db (pg_basebackup -R), "standby1".
    trouble_stack  module: node-exporter, Alertmanager and Prometheus (1 s scrapes) with a
                   `TargetDown` rule (critical, runbook_url and dashboard annotations);
                   ``stack.kill_node()`` stops node-exporter, ``stack.start_node()`` brings it back.

Missing binaries skip (or fail under OPERATOR_REQUIRE_SERVICES=1); a server that is
installed but does not start fails the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.servers.common import free_port, need_binary, start, stop, wait_until
from tests.servers.pg import PG_BIN

OS_USER = "postgres"
RUNBOOK = "https://runbooks.example.com/target-down"
DASHBOARD = "https://grafana.example.com/d/node"


def _as_os_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["setpriv", f"--reuid={OS_USER}", f"--regid={OS_USER}", "--init-groups", "--", *argv]
    return argv


def _owned_tempdir(prefix: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, OS_USER, OS_USER)
    return base


def _tree(pid: int) -> list[int]:
    """The process and all its descendants (PostgreSQL backends call setsid(): no common group)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            todo.extend(int(child) for child in children)
    return pids


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the server and every process it forked."""
    for pid in _tree(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass
class TroubleDb:
    pg_port: int
    bouncer_port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def pg_dsn(self, user: str = "postgres", db: str = "appdb") -> str:
        return f"postgresql://{user}:{user}@127.0.0.1:{self.pg_port}/{db}"

    def bouncer_dsn(self, user: str = "app", db: str = "appdb") -> str:
        return f"postgresql://{user}:{user}@127.0.0.1:{self.bouncer_port}/{db}"

    @property
    def admin_dsn(self) -> str:
        return self.bouncer_dsn("pgbadmin", "pgbouncer")

    @contextlib.contextmanager
    def frozen(self, which: str) -> Iterator[None]:
        """SIGSTOP every process of `which` ("postgres" or "pgbouncer"); SIGCONT no matter what."""
        proc = self.procs[which]
        _signal_group(proc, signal.SIGSTOP)
        try:
            # Delivery is asynchronous: wait until the kernel shows every process stopped.
            wait_until(lambda: all(_stopped(pid) for pid in _tree(proc.pid)), 5, what=f"{which} stopping")
            yield
        finally:
            _signal_group(proc, signal.SIGCONT)


def _pg_ready(dsn: str) -> bool:
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        conn.execute("SELECT 1")
    return True


@pytest.fixture(scope="module")
def trouble_db() -> Iterator[TroubleDb]:
    initdb = need_binary(str(PG_BIN / "initdb"))
    postgres = need_binary(str(PG_BIN / "postgres"))
    bouncer = need_binary("/usr/sbin/pgbouncer")
    base = _owned_tempdir("operator-trouble-")
    (base / "pwfile").write_text("postgres\n")
    if os.geteuid() == 0:
        shutil.chown(base / "pwfile", OS_USER, OS_USER)
    done = subprocess.run(
        _as_os_user(
            [
                initdb,
                "-D",
                str(base / "data"),
                "-U",
                "postgres",
                f"--pwfile={base / 'pwfile'}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        ),
        capture_output=True,
        check=False,
    )
    if done.returncode:
        pytest.fail(f"initdb failed: {done.stderr.decode()[-1000:]}")
    db = TroubleDb(free_port(), free_port())
    with (base / "data" / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {db.pg_port}\nunix_socket_directories = '{base}'\n"
            "shared_buffers = 16MB\nfsync = off\nsynchronous_commit = off\nmax_connections = 20\n"
        )
    try:
        log = base / "postgres.log"
        db.procs["postgres"] = start([postgres, "-D", str(base / "data")], log, user=OS_USER)
        wait_until(lambda: _pg_ready(db.pg_dsn(db="postgres")), 30, db.procs["postgres"], "postgres", log)
        with psycopg.connect(db.pg_dsn(db="postgres"), autocommit=True) as conn:
            conn.execute("CREATE ROLE monitor LOGIN PASSWORD 'monitor' IN ROLE pg_monitor")
            conn.execute("CREATE ROLE app LOGIN PASSWORD 'app'")
            conn.execute("CREATE DATABASE appdb OWNER app")
        (base / "userlist.txt").write_text('"app" "app"\n"pgbadmin" "pgbadmin"\n')
        (base / "pgbouncer.ini").write_text(f"""\
[databases]
appdb = host=127.0.0.1 port={db.pg_port} dbname=appdb pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {db.bouncer_port}
unix_socket_dir = {base}
auth_type = scram-sha-256
auth_file = {base}/userlist.txt
admin_users = pgbadmin
pool_mode = transaction
max_client_conn = 50
""")
        if os.geteuid() == 0:
            for path in base.iterdir():
                shutil.chown(path, OS_USER, OS_USER)
        (base / "userlist.txt").chmod(0o600)
        log = base / "pgbouncer.log"
        db.procs["pgbouncer"] = start([bouncer, str(base / "pgbouncer.ini")], log, user=OS_USER)

        def bouncer_ready() -> bool:
            with psycopg.connect(db.admin_dsn, autocommit=True, prepare_threshold=None, connect_timeout=2) as c:
                c.execute("SHOW VERSION")
            return True

        wait_until(bouncer_ready, 20, db.procs["pgbouncer"], "pgbouncer", log)
        yield db
    finally:
        for proc in reversed(list(db.procs.values())):
            _signal_group(proc, signal.SIGCONT)  # a stopped process ignores SIGTERM until resumed
            stop(proc)
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Replica:
    port: int
    name: str

    def dsn(self, user: str = "postgres", db: str = "appdb") -> str:
        return f"postgresql://{user}:{user}@127.0.0.1:{self.port}/{db}"


@pytest.fixture(scope="module")
def trouble_replica(trouble_db: TroubleDb) -> Iterator[Replica]:
    """A streaming standby of `trouble_db`'s PostgreSQL (pg_basebackup -R), named "standby1"."""
    basebackup = need_binary(str(PG_BIN / "pg_basebackup"))
    postgres = need_binary(str(PG_BIN / "postgres"))
    base = _owned_tempdir("operator-replica-")
    replica = Replica(free_port(), "standby1")
    done = subprocess.run(
        _as_os_user(
            [
                basebackup,
                "-d",
                trouble_db.pg_dsn(db="postgres"),
                "-D",
                str(base / "data"),
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "--checkpoint=fast",
            ]
        ),
        capture_output=True,
        check=False,
    )
    if done.returncode:
        pytest.fail(f"pg_basebackup failed: {done.stderr.decode()[-1000:]}")
    with (base / "data" / "postgresql.conf").open("a") as conf:
        # cluster_name becomes the walreceiver's application_name: the name the primary reports.
        conf.write(
            f"port = {replica.port}\nunix_socket_directories = '{base}'\ncluster_name = '{replica.name}'\n"
            "hot_standby = on\n"
        )
    log = base / "postgres.log"
    proc = start([postgres, "-D", str(base / "data")], log, user=OS_USER)
    try:
        wait_until(lambda: _pg_ready(replica.dsn(db="postgres")), 30, proc, "standby", log)

        def streaming() -> bool:
            with psycopg.connect(trouble_db.pg_dsn(db="postgres"), connect_timeout=2) as conn:
                row = conn.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").fetchone()
            return bool(row and row[0] == 1)

        wait_until(streaming, 30, proc, "standby streaming", log)
        yield replica
    finally:
        stop(proc)
        shutil.rmtree(base, ignore_errors=True)


_RULES = f"""\
groups:
  - name: trouble
    rules:
      - alert: TargetDown
        expr: up == 0
        labels: {{severity: critical}}
        annotations:
          summary: "{{{{ $labels.job }}}} target {{{{ $labels.instance }}}} is down"
          runbook_url: {RUNBOOK}
          dashboard: {DASHBOARD}
"""


@dataclass
class TroubleStack:
    prometheus_url: str
    alertmanager_url: str
    node_port: int
    node_instance: str
    base: Path
    node: subprocess.Popen[bytes] | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @contextlib.contextmanager
    def frozen(self, which: str) -> Iterator[None]:
        """SIGSTOP "prometheus" or "alertmanager"; SIGCONT no matter what."""
        proc = self.procs[which]
        _signal_group(proc, signal.SIGSTOP)
        try:
            wait_until(lambda: is_stopped(proc), 5, what=f"{which} stopping")
            yield
        finally:
            _signal_group(proc, signal.SIGCONT)

    def start_node(self) -> None:
        binary = need_binary("/usr/bin/prometheus-node-exporter")
        log = self.base / "node_exporter.log"
        self.node = start(
            [
                binary,
                f"--web.listen-address=127.0.0.1:{self.node_port}",
                "--collector.disable-defaults",
                "--collector.cpu",
                "--collector.meminfo",
                "--collector.loadavg",
            ],
            log,
        )
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{self.node_port}/metrics", timeout=1).status_code == 200,
            20,
            self.node,
            "node-exporter",
            log,
        )

    def kill_node(self) -> None:
        if self.node is not None:
            stop(self.node, signal.SIGKILL)
            self.node = None

    def up(self, job: str = "node") -> float | None:
        """Prometheus's own `up` for the job, straight from its API (None before the first scrape)."""
        body = httpx.get(
            f"{self.prometheus_url}/api/v1/query", params={"query": f'up{{job="{job}"}}'}, timeout=5
        ).json()
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def query(self, promql: str) -> list[dict[str, object]]:
        """Prometheus's own answer to an instant query (the reference, not our adapter)."""
        body = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": promql}, timeout=5).json()
        result: list[dict[str, object]] = body["data"]["result"]
        return result

    def am_alert_names(self, **params: str) -> list[str]:
        alerts = httpx.get(f"{self.alertmanager_url}/api/v2/alerts", params=params, timeout=5).json()
        return [a["labels"]["alertname"] for a in alerts]


@pytest.fixture(scope="module")
def trouble_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TroubleStack]:
    am_bin = need_binary("/usr/bin/prometheus-alertmanager")
    prom_bin = need_binary("/usr/bin/prometheus")
    base = tmp_path_factory.mktemp("trouble-monitoring")
    node_port, am_port, prom_port = free_port(), free_port(), free_port()
    stack = TroubleStack(
        f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}", node_port, f"127.0.0.1:{node_port}", base
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        stack.start_node()
        (base / "alertmanager.yml").write_text(
            "route: {receiver: 'null', group_by: [alertname], group_wait: 1s, group_interval: 5s,"
            " repeat_interval: 1h}\nreceivers: [{name: 'null'}]\n"
        )
        log = base / "alertmanager.log"
        procs.append(
            proc := start(
                [
                    am_bin,
                    f"--config.file={base / 'alertmanager.yml'}",
                    f"--storage.path={base}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                log,
            )
        )
        wait_until(
            lambda: httpx.get(f"{stack.alertmanager_url}/-/ready", timeout=1).status_code == 200,
            20,
            proc,
            "alertmanager",
            log,
        )
        stack.procs["alertmanager"] = proc
        (base / "rules.yml").write_text(_RULES)
        (base / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{base / 'rules.yml'}']\n"
            f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]}}\n"
            "scrape_configs:\n"
            f"  - {{job_name: node, static_configs: [{{targets: ['127.0.0.1:{node_port}']}}]}}\n"
        )
        log = base / "prometheus.log"
        procs.append(
            proc := start(
                [
                    prom_bin,
                    f"--config.file={base / 'prometheus.yml'}",
                    f"--storage.tsdb.path={base / 'prom-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--rules.alert.resend-delay=1s",
                ],
                log,
            )
        )
        stack.procs["prometheus"] = proc
        wait_until(lambda: stack.up() == 1.0, 30, proc, "prometheus scraping node-exporter", log)
        yield stack
    finally:
        stack.kill_node()
        for proc in reversed(procs):
            _signal_group(proc, signal.SIGCONT)  # a stopped process ignores SIGTERM until resumed
            stop(proc)


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return True  # gone: it answers nothing either


def is_stopped(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the kernel shows the server and all its processes stopped (frozen for real)."""
    return all(_stopped(pid) for pid in _tree(proc.pid))
