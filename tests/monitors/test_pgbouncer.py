"""PgBouncerMonitor against a real pgBouncer (pool_size=1) in front of a real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator

import psycopg
import pytest

from monitors.base import MonitorError
from monitors.config import MonitorSettings, Thresholds
from monitors.pgbouncer import PgBouncerMonitor, bouncer_lines, bouncer_problems, pool_line
from tests.servers.pg import PgBouncerServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def monitor(pgbouncer_server: PgBouncerServer) -> AsyncIterator[PgBouncerMonitor]:
    settings = MonitorSettings(pgbouncer_url=pgbouncer_server.admin_dsn, monitor_timeout_s=2, _env_file=None)  # type: ignore[call-arg]
    built = PgBouncerMonitor.from_settings(settings)
    assert built is not None
    yield built
    await built.aclose()


class TestAdminConsole:
    async def test_many_polls_on_one_connection(self, monitor: PgBouncerMonitor) -> None:
        """Twelve reports and health checks reuse one connection: nothing gets auto-prepared."""
        first = None
        for _ in range(12):
            await monitor.report()
            assert (await monitor.health_check()).ok
            first = first or monitor.conn._conn
            assert monitor.conn._conn is first

    async def test_psycopg_defaults_break_on_the_sixth_poll(self, pgbouncer_server: PgBouncerServer) -> None:
        """Why the adapter sets prepare_threshold=None: with defaults the 6th run is prepared and fails."""
        conn = await psycopg.AsyncConnection.connect(pgbouncer_server.admin_dsn, autocommit=True)
        try:
            for _ in range(5):
                await conn.execute("SHOW POOLS")
            with pytest.raises(psycopg.Error, match="extended query protocol"):
                await conn.execute("SHOW POOLS")
        finally:
            await conn.close()

    async def test_health_reports_version(self, monitor: PgBouncerMonitor) -> None:
        health = await monitor.health_check()
        assert health.ok and health.reason.startswith("PgBouncer 1.")

    async def test_waiting_client_is_reported(
        self, monitor: PgBouncerMonitor, pgbouncer_server: PgBouncerServer
    ) -> None:
        """One client holds the only server connection in a transaction; the next one waits."""
        holder = await psycopg.AsyncConnection.connect(pgbouncer_server.dsn())
        await holder.execute("SELECT 1")  # transaction open: the pool's one server is taken

        async def second_client() -> None:
            async with await psycopg.AsyncConnection.connect(pgbouncer_server.dsn(), autocommit=True) as conn:
                await conn.execute("SELECT 2")

        task = asyncio.create_task(second_client())
        try:
            deadline = time.monotonic() + 10
            lines: list[str] = []
            while time.monotonic() < deadline:  # polling is itself the many-polls case
                lines = (await monitor.report()).lines
                if " 1 waiting" in lines[0]:
                    break
                await asyncio.sleep(0.05)
        finally:
            await holder.rollback()
            await asyncio.wait_for(task, 10)  # the waiter gets the server once it is released
            await holder.close()
        assert re.fullmatch(r"pgbouncer: 1 pool, 1 waiting, \d+ q/s(, avg wait \d+ms)?", lines[0]), lines
        assert lines[1].startswith("appdb/app: clients 1 active 1 waiting, servers 1 active 0 idle")
        after = (await monitor.report()).lines
        assert after[0].startswith("pgbouncer: 1 pool, none waiting, ")
        assert len(after) == 1  # no queue, no pool line: a quiet pgBouncer is one line


class TestFailures:
    async def test_wrong_password(self, pgbouncer_server: PgBouncerServer) -> None:
        monitor = PgBouncerMonitor(pgbouncer_server.dsn("pgbadmin", "Wr0ng-pw", db="pgbouncer"), 2)
        try:
            with pytest.raises(MonitorError) as info:
                await monitor.report()
        finally:
            await monitor.aclose()
        assert info.value.reason == "auth rejected"
        assert info.value.__context__ is None or "Wr0ng-pw" not in repr(info.value.__context__)

    async def test_refused_and_hang(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            refused = PgBouncerMonitor(f"postgresql://a:b@127.0.0.1:{closed}/pgbouncer", 0.5)
            hung = PgBouncerMonitor(f"postgresql://a:b@127.0.0.1:{silent.getsockname()[1]}/pgbouncer", 0.5)
            results = [await refused.health_check(), await hung.health_check()]
            await refused.aclose()
            await hung.aclose()
        assert [(h.ok, h.reason) for h in results] == [(False, "connection refused"), (False, "timeout after 0.5s")]

    async def test_unexpected_columns(self, monitor: PgBouncerMonitor, monkeypatch: pytest.MonkeyPatch) -> None:
        """A SHOW POOLS without the expected columns is a shape error, not a crash."""

        async def fetch(*queries: str) -> list[list[dict[str, object]]]:
            return [[{"database": "appdb", "user": "app"}], []]

        monkeypatch.setattr(monitor.conn, "fetch", fetch)
        with pytest.raises(MonitorError, match=r"bad response \(unexpected shape\)"):
            await monitor.report()


class TestLines:
    def test_pool_and_stats_lines_from_captured_rows(self) -> None:
        """Rows shaped as captured from pgBouncer 1.18 (stats as text, times in microseconds)."""
        pool = {
            "database": "appdb",
            "user": "app",
            "cl_active": 3,
            "cl_waiting": 2,
            "sv_active": 1,
            "sv_idle": 0,
            "maxwait": 1,
            "maxwait_us": 250000,
        }
        assert pool_line(pool) == "appdb/app: clients 3 active 2 waiting, servers 1 active 0 idle, maxwait 1.2s"
        stats = {"database": "appdb", "avg_query_count": "12", "avg_xact_count": "10", "avg_wait_time": "962"}
        assert bouncer_lines([pool], [stats]) == [  # under 1 ms average wait is not news
            "pgbouncer: 1 pool, 2 waiting, 12 q/s",
            "appdb/app: clients 3 active 2 waiting, servers 1 active 0 idle, maxwait 1.2s",
        ]
        slow = {**stats, "avg_wait_time": "11000"}
        assert bouncer_lines([pool], [slow])[0] == "pgbouncer: 1 pool, 2 waiting, 12 q/s, avg wait 11ms"

    def test_admin_pool_is_skipped(self) -> None:
        pools = [{"database": "pgbouncer", "user": "pgbouncer", "cl_waiting": 0}]
        assert bouncer_lines(pools, []) == ["pgbouncer: 0 pools, none waiting, 0 q/s"]

    def test_problem_only_over_the_threshold(self) -> None:
        """PGBOUNCER_WAITING_WARN: fewer clients waiting than that is not a problem for `status`."""
        pool = {
            "database": "appdb",
            "user": "app",
            "cl_active": 1,
            "cl_waiting": 2,
            "sv_active": 1,
            "sv_idle": 0,
            "maxwait": 3,
            "maxwait_us": 0,
        }
        assert [p.text for p in bouncer_problems([pool], Thresholds(pgbouncer_waiting=2))] == [
            "pgbouncer appdb/app: 2 clients waiting, longest 3.0s"
        ]
        assert bouncer_problems([pool], Thresholds(pgbouncer_waiting=3)) == []
