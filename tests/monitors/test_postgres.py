"""PostgresMonitor against a real PostgreSQL 15 started by the `pg_server` fixture."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from monitors.base import AuthRejected, MonitorError
from monitors.config import MonitorSettings
from monitors.db_facts import age, query_text, size_bytes
from monitors.pgconn import pg_reason
from monitors.postgres import PostgresMonitor
from tests.servers.pg import PgServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def monitor(pg_server: PgServer) -> AsyncIterator[PostgresMonitor]:
    settings = MonitorSettings(database_url=pg_server.dsn("monitor", db="appdb"), monitor_timeout_s=2, _env_file=None)  # type: ignore[call-arg]
    built = PostgresMonitor.from_settings(settings)
    assert built is not None
    yield built
    await built.aclose()


async def wait_for(conn: psycopg.AsyncConnection[tuple[int]], sql: str, want: int) -> None:
    """Poll pg_stat_activity until the background sessions are where the test put them."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = await (await conn.execute(sql)).fetchone()  # type: ignore[arg-type]
        if row and row[0] >= want:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"background sessions never reached: {sql}")


class TestReport:
    async def test_quiet_database(self, monitor: PostgresMonitor) -> None:
        """Connections vs max_connections and size on one line (its own session excluded), then replicas."""
        report = await monitor.report()
        assert report.monitor == "postgres"
        assert report.lines[0].startswith("postgres appdb: ")
        assert "/100 conns" in report.lines[0] and report.lines[0].endswith("B")
        assert not any(line.startswith("longest query") for line in report.lines)

    async def test_long_query_and_lock_waiter(self, monitor: PostgresMonitor, pg_server: PgServer) -> None:
        """A running pg_sleep is the longest query; a session blocked on a lock is counted."""
        app = pg_server.dsn("app", db="appdb")
        admin = await psycopg.AsyncConnection.connect(pg_server.dsn(db="appdb"), autocommit=True)
        sleeper = await psycopg.AsyncConnection.connect(app, autocommit=True)
        holder = await psycopg.AsyncConnection.connect(app)
        waiter = await psycopg.AsyncConnection.connect(app, autocommit=True)
        tasks: list[asyncio.Task[object]] = []
        try:
            await admin.execute("CREATE TABLE IF NOT EXISTS locked (id int)")
            await admin.execute("GRANT ALL ON locked TO app")
            tasks.append(asyncio.create_task(sleeper.execute("SELECT pg_sleep(30) /* 'secret literal' */")))
            # The sleeper must be running before the lock waiter starts: it is the longest query.
            await wait_for(admin, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'", 1)
            await holder.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")  # transaction stays open
            tasks.append(asyncio.create_task(waiter.execute("SELECT count(*) FROM locked")))
            await wait_for(admin, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", 1)

            lines = (await monitor.report()).lines
            for _ in range(40):  # a query under a second old is not shown: poll (bounded) past that
                if any(line.startswith("longest query ") for line in lines):
                    break
                await asyncio.sleep(0.05)
                lines = (await monitor.report()).lines
        finally:
            await sleeper.cancel_safe()
            await holder.rollback()
            await asyncio.gather(*tasks, return_exceptions=True)
            for conn in (admin, sleeper, holder, waiter):
                await conn.close()
        text = "\n".join(lines)
        longest = next(line for line in lines if line.startswith("longest query "))
        assert "SELECT pg_sleep(?)" in longest, lines  # number literals are masked too
        assert "secret literal" not in text  # string literals are masked
        assert sum(line.startswith("lock: ") for line in lines) == 1
        assert any(line.startswith("idle in txn: ") for line in lines)
        assert "active" in lines[0] and "idle in transaction" in lines[0]

    async def test_reconnects_after_the_connection_dies(self, monitor: PostgresMonitor, pg_server: PgServer) -> None:
        """The kept connection is reused; after the server kills it, the next poll reconnects."""
        await monitor.report()
        with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'operator-monitor') t"
            ).fetchone()
        assert killed == (1,)
        with pytest.raises(MonitorError):
            await monitor.report()  # the dead connection is noticed and dropped
        assert (await monitor.report()).lines[0].startswith("postgres appdb")


class TestFailures:
    async def test_wrong_password(self, pg_server: PgServer) -> None:
        """Auth failure is "auth rejected", and the password appears nowhere in the error."""
        monitor = PostgresMonitor(pg_server.dsn("monitor", "s3cret-Wr0ng", db="appdb"), 2)
        try:
            health = await monitor.health_check()
            with pytest.raises(MonitorError) as info:
                await monitor.report()
        finally:
            await monitor.aclose()
        assert (health.ok, health.reason) == (False, "auth rejected")
        assert info.value.reason == "auth rejected" and isinstance(info.value, AuthRejected)
        chain = [info.value, info.value.__cause__, info.value.__context__]
        assert all("s3cret-Wr0ng" not in repr(exc) for exc in chain)

    async def test_refused(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        monitor = PostgresMonitor(f"postgresql://u:p@127.0.0.1:{port}/db", 0.5)
        health = await monitor.health_check()
        await monitor.aclose()
        assert (health.ok, health.reason) == (False, "connection refused")

    async def test_hang(self) -> None:
        """A server that accepts but never answers: timeout, not a stuck reply."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            monitor = PostgresMonitor(f"postgresql://u:p@127.0.0.1:{sock.getsockname()[1]}/db", 0.5)
            with pytest.raises(MonitorError) as info:
                await monitor.report()
            await monitor.aclose()
        assert info.value.reason == "timeout after 0.5s"

    async def test_not_postgres(self, garbage_port: int) -> None:
        """Something else on the port (an HTTP server): a bad-response reason."""
        monitor = PostgresMonitor(f"postgresql://u:p@127.0.0.1:{garbage_port}/db", 2)
        health = await monitor.health_check()
        await monitor.aclose()
        assert (health.ok, health.reason) == (False, "bad response (not PostgreSQL)")


@pytest.fixture
def garbage_port() -> Iterator[int]:
    """A TCP server that answers every connection with an HTTP error and closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.05)  # so the loop notices the end of the test
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                client, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with client, contextlib.suppress(OSError):  # the client may hang up first
                client.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    done.set()
    thread.join(2)
    sock.close()


class TestHelpers:
    @pytest.mark.parametrize(("seconds", "text"), [(5.4, "5s"), (252, "4m12s"), (7500, "2h05m"), (273600, "3d04h")])
    def test_age(self, seconds: float, text: str) -> None:
        assert age(seconds) == text

    def test_query_text_masks_literals_and_truncates(self) -> None:
        assert (
            query_text("SELECT *\n  FROM users WHERE email = 'a@b.c' AND x = 'it''s'")
            == "SELECT * FROM users WHERE email = '?' AND x = '?'"
        )
        assert (
            query_text("UPDATE t2 SET v = -4.5 WHERE id IN (17, 18) AND col3 = $1")
            == "UPDATE t2 SET v = ? WHERE id IN (?, ?) AND col3 = $1"
        )
        assert len(query_text("SELECT " + "x, " * 50)) == 60

    def test_size_bytes(self) -> None:
        assert size_bytes(512) == "512 B"
        assert size_bytes(12 * 1024 * 1024) == "12 MB"

    def test_pg_reason_never_echoes_driver_text(self) -> None:
        """An invalid-DSN error quotes the DSN; the reason does not."""
        for dsn in ("host=h password hunter2", "postgresql://u:hunter2@h/db?bogus_option=1"):
            with pytest.raises(psycopg.Error) as info:
                psycopg.conninfo.conninfo_to_dict(dsn)
            assert pg_reason(info.value) == "bad DSN"
        assert PostgresMonitor.from_settings(MonitorSettings(_env_file=None)) is None  # type: ignore[call-arg]
