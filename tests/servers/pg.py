"""Fixtures: throwaway PostgreSQL clusters (the newest installed major) and a pgBouncer, on loopback.

All run as the `postgres` OS user (they refuse root) from a temp dir, on free ports
below 32768, with password (SCRAM) auth over TCP so auth failures can be tested.

    pg_server        session: PgServer(port, ...); roles postgres/postgres (superuser),
                     monitor/monitor (pg_monitor only), app/app owning database appdb
    pgbouncer_server session: PgBouncerServer(port, ...); database appdb with pool_size=1
                     (so a second client waits while one holds a transaction), admin
                     user pgbadmin/pgbadmin, stats user pgbstats/pgbstats
    pg_replication   module: a primary of its own plus a streaming standby made with
                     pg_basebackup (`application_name` REPLICA_NAME), so tests may pause
                     replay and make lag without disturbing pg_server's other users

A cluster that is installed but does not initialise or start fails the test (never skips).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.servers.common import failed_to_start, free_port, need_binary, start, stop, wait_until


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


def _listen_conf(data: Path, port: int, sockets: Path) -> None:
    """Appended settings win over earlier lines of postgresql.conf (also over a copied primary's)."""
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n"
            "shared_buffers = 32MB\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )


def _initdb(base: Path) -> None:
    initdb = need_binary(str(PG_BIN / "initdb"))
    pwfile = base / "pwfile"
    pwfile.write_text("postgres\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, OS_USER, OS_USER)
    done = subprocess.run(
        _as_os_user(
            [
                initdb,
                "-D",
                str(base / "data"),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
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
        failed_to_start("initdb", f"{done.stdout.decode()[-500:]} {done.stderr.decode()[-1000:]}")


def _start_postgres(base: Path, data: Path, port: int, name: str = "postgres") -> subprocess.Popen[bytes]:
    postgres = need_binary(str(PG_BIN / "postgres"))
    log = base / f"{name}.log"
    proc = start([postgres, "-D", str(data)], log, user=OS_USER)
    server = PgServer(port, base)
    try:
        wait_until(lambda: _pg_ready(server.dsn()), 30, proc, name, log)
    except BaseException:
        stop(proc)
        raise
    return proc


@contextmanager
def _primary(prefix: str) -> Iterator[tuple[PgServer, subprocess.Popen[bytes]]]:
    base = _owned_tempdir(prefix)
    proc = None
    try:
        _initdb(base)
        port = free_port()
        _listen_conf(base / "data", port, base)
        proc = _start_postgres(base, base / "data", port)
        yield PgServer(port, base), proc
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_postgres() as server:
        yield server


REPLICA_NAME = "standby1"


@dataclass
class Replication:
    primary: PgServer
    standby: PgServer

    def pause_replay(self) -> None:
        with psycopg.connect(self.standby.dsn(), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with psycopg.connect(self.standby.dsn(), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


def _streaming(primary: PgServer) -> bool:
    with psycopg.connect(primary.dsn(), connect_timeout=2) as conn:
        row = conn.execute(
            "SELECT state FROM pg_stat_replication WHERE application_name = %s", (REPLICA_NAME,)
        ).fetchone()
    return row is not None and row[0] == "streaming"


@pytest.fixture(scope="module")
def pg_replication() -> Iterator[Replication]:
    """A primary and a hot standby streaming from it (pg_basebackup -R), each on its own free port."""
    basebackup = need_binary(str(PG_BIN / "pg_basebackup"))
    with _primary("operator-pgprimary-") as (primary, primary_proc):
        base = _owned_tempdir("operator-pgstandby-")
        data = base / "data"
        proc = None
        try:
            done = subprocess.run(
                _as_os_user(
                    [
                        basebackup,
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(primary.port),
                        "-U",
                        "postgres",
                        "-D",
                        str(data),
                        "-R",
                        "-X",
                        "stream",
                        "--no-sync",
                        "-c",
                        "fast",
                    ]
                ),
                capture_output=True,
                check=False,
                env={**os.environ, "PGPASSWORD": "postgres"},
                timeout=60,
            )
            if done.returncode:
                failed_to_start("pg_basebackup", done.stderr.decode()[-1000:], primary.base / "postgres.log")
            port = free_port()
            _listen_conf(data, port, base)
            with (data / "postgresql.auto.conf").open("a") as conf:  # a later line wins: name the standby
                conf.write(
                    f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres "
                    f"password=postgres application_name={REPLICA_NAME}'\n"
                )
            proc = _start_postgres(base, data, port, "standby")
            standby = PgServer(port, base)
            wait_until(lambda: _streaming(primary), 30, primary_proc, "streaming replication", base / "standby.log")
            yield Replication(primary, standby)
        finally:
            if proc is not None:
                stop(proc)
            shutil.rmtree(base, ignore_errors=True)


@contextmanager
def running_pgbouncer(pg_server: PgServer) -> Iterator[PgBouncerServer]:
    """A pgBouncer in front of `pg_server`'s appdb (roles app, pgbadmin, pgbstats; pool_size=1)."""
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


@contextmanager
def running_postgres(prefix: str = "operator-pg-") -> Iterator[PgServer]:
    """A fresh cluster with roles monitor (pg_monitor) and app (owning database appdb)."""
    with _primary(prefix) as (server, _proc):
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE ROLE monitor LOGIN PASSWORD 'monitor' IN ROLE pg_monitor")
            conn.execute("CREATE ROLE app LOGIN PASSWORD 'app'")
            conn.execute("CREATE DATABASE appdb OWNER app")
        yield server


@pytest.fixture(scope="session")
def pgbouncer_server(pg_server: PgServer) -> Iterator[PgBouncerServer]:
    with running_pgbouncer(pg_server) as server:
        yield server
