"""Fixtures: a throwaway PostgreSQL 15 cluster and a pgBouncer in front of it, on loopback.

Both run as the `postgres` OS user (they refuse root) from a temp dir, on free ports
below 32768, with password (SCRAM) auth over TCP so auth failures can be tested.

    pg_server        session: PgServer(port, ...); roles postgres/postgres (superuser),
                     monitor/monitor (pg_monitor only), app/app owning database appdb
    pgbouncer_server session: PgBouncerServer(port, ...); database appdb with pool_size=1
                     (so a second client waits while one holds a transaction), admin
                     user pgbadmin/pgbadmin, stats user pgbstats/pgbstats
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.servers.common import free_port, need_binary, start, stop, unavailable, wait_until


def _newest_pg_bin() -> Path:
    """The newest installed PostgreSQL's binaries (Debian keeps one folder per major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _newest_pg_bin()
OS_USER = "postgres"


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


@dataclass
class PgServer:
    port: int
    base: Path

    def dsn(self, user: str = "postgres", password: str | None = None, db: str = "postgres") -> str:
        return f"postgresql://{user}:{password or user}@127.0.0.1:{self.port}/{db}"


@dataclass
class PgBouncerServer:
    port: int
    base: Path

    def dsn(self, user: str = "app", password: str | None = None, db: str = "appdb") -> str:
        return f"postgresql://{user}:{password or user}@127.0.0.1:{self.port}/{db}"

    @property
    def admin_dsn(self) -> str:
        return self.dsn("pgbadmin", db="pgbouncer")


def _pg_ready(dsn: str) -> bool:
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        conn.execute("SELECT 1")
    return True


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    initdb = need_binary(str(PG_BIN / "initdb"))
    postgres = need_binary(str(PG_BIN / "postgres"))
    base = _owned_tempdir("operator-pg-")
    pwfile = base / "pwfile"
    pwfile.write_text("postgres\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, OS_USER, OS_USER)
    done = subprocess.run(
        _as_os_user([initdb, "-D", str(base / "data"), "-U", "postgres", f"--pwfile={pwfile}",
                     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"]),
        capture_output=True, check=False)
    if done.returncode:
        unavailable(f"initdb failed: {done.stdout.decode()[-500:]} {done.stderr.decode()[-1000:]}")
    port = free_port()
    with (base / "data" / "postgresql.conf").open("a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{base}'\n"
                   "shared_buffers = 32MB\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    log = base / "postgres.log"
    proc = start([postgres, "-D", str(base / "data")], log, user=OS_USER)
    server = PgServer(port, base)
    try:
        wait_until(lambda: _pg_ready(server.dsn()), 30, proc, "postgres", log)
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE ROLE monitor LOGIN PASSWORD 'monitor' IN ROLE pg_monitor")
            conn.execute("CREATE ROLE app LOGIN PASSWORD 'app'")
            conn.execute("CREATE DATABASE appdb OWNER app")
        yield server
    finally:
        stop(proc)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbouncer_server(pg_server: PgServer) -> Iterator[PgBouncerServer]:
    binary = need_binary("/usr/sbin/pgbouncer")
    base = _owned_tempdir("operator-pgb-")
    port = free_port()
    (base / "userlist.txt").write_text('"app" "app"\n"pgbadmin" "pgbadmin"\n"pgbstats" "pgbstats"\n')
    (base / "pgbouncer.ini").write_text(f"""\
[databases]
appdb = host=127.0.0.1 port={pg_server.port} dbname=appdb pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {base}
auth_type = scram-sha-256
auth_file = {base}/userlist.txt
admin_users = pgbadmin
stats_users = pgbstats
pool_mode = transaction
max_client_conn = 50
""")
    if os.geteuid() == 0:
        for path in base.iterdir():
            shutil.chown(path, OS_USER, OS_USER)
    (base / "userlist.txt").chmod(0o600)
    log = base / "pgbouncer.log"
    proc = start([binary, str(base / "pgbouncer.ini")], log, user=OS_USER)
    server = PgBouncerServer(port, base)

    def ready() -> bool:
        with psycopg.connect(server.admin_dsn, autocommit=True, prepare_threshold=None, connect_timeout=2) as conn:
            conn.execute("SHOW VERSION")
        return True

    try:
        wait_until(ready, 20, proc, "pgbouncer", log)
        yield server
    finally:
        stop(proc)
        shutil.rmtree(base, ignore_errors=True)
