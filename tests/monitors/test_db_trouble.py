"""`db` and `status` facts against a PostgreSQL and a pgBouncer of this module's own, in real trouble:
a lock held by one transaction and waited on by another, a session idle in a transaction, clients
queued behind pgBouncer's single server connection, and each server frozen with SIGSTOP.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg.rows import dict_row

from monitors.base import TimedOut
from monitors.config import Thresholds
from monitors.pgbouncer import PgBouncerMonitor
from monitors.postgres import PostgresMonitor
from monitors.registry import Monitors
from tests.servers.trouble import (  # noqa: F401 - module fixtures
    Replica,
    TroubleDb,
    is_stopped,
    trouble_db,
    trouble_replica,
)

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.5
ANYTHING = Thresholds(lock_wait_s=0, idle_in_txn_s=0, pgbouncer_waiting=1)


async def until(check: object, what: str, timeout_s: float = 10) -> None:
    """Poll an async predicate (bounded) until the servers are where the test put them."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never happened: {what}")


async def count(dsn: str, sql: str) -> int:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        row = await (await conn.execute(sql)).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


@pytest.fixture
async def pg(trouble_db: TroubleDb) -> AsyncIterator[PostgresMonitor]:
    monitor = PostgresMonitor(trouble_db.pg_dsn("monitor"), TIMEOUT_S, ANYTHING)
    yield monitor
    await monitor.aclose()


@pytest.fixture
async def bouncer(trouble_db: TroubleDb) -> AsyncIterator[PgBouncerMonitor]:
    monitor = PgBouncerMonitor(trouble_db.admin_dsn, TIMEOUT_S, ANYTHING)
    yield monitor
    await monitor.aclose()


class TestLockWait:
    async def test_who_blocks_whom(self, pg: PostgresMonitor, trouble_db: TroubleDb) -> None:
        """Two real transactions on one row: `db` names the blocking pid, its user/app and its
        statement without literals; `status` lists the wait as a problem naming the blocker."""
        admin = await psycopg.AsyncConnection.connect(trouble_db.pg_dsn(), autocommit=True)
        holder = await psycopg.AsyncConnection.connect(trouble_db.pg_dsn("app") + "?application_name=billing")
        waiter = await psycopg.AsyncConnection.connect(
            trouble_db.pg_dsn("app") + "?application_name=report", autocommit=True
        )
        blocked: asyncio.Task[object] | None = None
        try:
            await admin.execute("CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, owner text)")
            await admin.execute("GRANT ALL ON accounts TO app")
            await admin.execute("INSERT INTO accounts VALUES (1, 'x') ON CONFLICT DO NOTHING")
            await holder.execute("UPDATE accounts SET owner = 'alice@example.com' WHERE id = 1")
            holder_pid = holder.info.backend_pid
            blocked = asyncio.create_task(waiter.execute("UPDATE accounts SET owner = 'bob' WHERE id = 1"))

            async def waiting() -> bool:
                return (
                    await count(
                        trouble_db.pg_dsn(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    )
                    == 1
                )

            await until(waiting, "a lock waiter")
            lines = (await pg.report()).lines
            problems = await pg.problems()
        finally:
            await holder.rollback()
            if blocked is not None:
                await asyncio.gather(blocked, return_exceptions=True)
            for conn in (admin, holder, waiter):
                await conn.close()
        lock = next(line for line in lines if line.startswith("lock: "))
        assert (
            f"waits 0s on pid {holder_pid} app/billing (idle in transaction" in lock
            or f"on pid {holder_pid} app/billing (idle in transaction" in lock
        ), lines
        assert "/report waits " in lock
        assert "UPDATE accounts SET owner = '?' WHERE id = ?" in lock
        assert "alice" not in "\n".join(lines)  # literals never leave the database
        idle = next(line for line in lines if line.startswith("idle in txn: "))
        assert f"pid {holder_pid} app/billing" in idle
        texts = [p.text for p in problems]
        assert any(f"on a lock held by pid {holder_pid} app/billing" in t for t in texts), texts
        assert any(t.startswith(f"postgres: pid {holder_pid} app/billing idle in txn") for t in texts), texts

    async def test_quiet_database_is_one_line_and_says_no_replicas(self, pg: PostgresMonitor) -> None:
        """No doubled header, connections vs max_connections, and an explicit "no replicas"."""
        lines = (await pg.report()).lines
        assert lines[0].startswith("postgres appdb: ") and "/20 conns" in lines[0]
        assert lines[-1] == "no replicas"
        assert len("\n".join(lines)) <= 120
        assert await pg.problems() == []


class TestPgBouncerQueue:
    async def test_clients_waiting_are_a_problem(self, bouncer: PgBouncerMonitor, trouble_db: TroubleDb) -> None:
        """pool_size=1 and a long query: the next two clients queue; `db` and `status` say so."""
        long = await psycopg.AsyncConnection.connect(trouble_db.bouncer_dsn(), autocommit=True)
        running = asyncio.create_task(long.execute("SELECT pg_sleep(3)"))
        await asyncio.sleep(0.2)  # let the long query take the pool's only server connection

        async def queued() -> None:
            async with await psycopg.AsyncConnection.connect(trouble_db.bouncer_dsn(), autocommit=True) as c:
                await c.execute("SELECT 1")

        queue = [asyncio.create_task(queued()) for _ in range(2)]
        try:

            async def two_waiting() -> bool:
                return any("2 waiting" in line for line in (await bouncer.report()).lines)

            await until(two_waiting, "two clients waiting in pgBouncer")
            lines = (await bouncer.report()).lines
            problems = await bouncer.problems()
        finally:
            await asyncio.gather(running, *queue, return_exceptions=True)
            await long.close()
        assert lines[0].startswith("pgbouncer: 1 pool, 2 waiting")
        assert any(line.startswith("appdb/app: clients 1 active 2 waiting") for line in lines), lines
        assert [(p.severity, p.text.split(",")[0]) for p in problems] == [
            ("warn", "pgbouncer appdb/app: 2 clients waiting")
        ]
        assert await bouncer.problems() == []  # the queue drained


class TestDeadlines:
    async def test_frozen_pgbouncer_mid_query(
        self, bouncer: PgBouncerMonitor, pg: PostgresMonitor, trouble_db: TroubleDb
    ) -> None:
        """A kept connection to a SIGSTOPped pgBouncer: the poll gives up within the deadline
        (psycopg's own cancel would wait 10 s), status names pgbouncer, and after SIGCONT the
        next poll is normal with nothing left behind."""
        await bouncer.report()  # the kept connection exists: the case where cancel used to hang
        monitors = Monitors([pg, bouncer])
        tasks_before = len(asyncio.all_tasks())
        with trouble_db.frozen("pgbouncer"):
            assert is_stopped(trouble_db.procs["pgbouncer"])
            started = time.monotonic()
            with pytest.raises(TimedOut) as info:
                await bouncer.report()
            assert time.monotonic() - started < TIMEOUT_S + 0.5
            assert info.value.reason == f"timeout after {TIMEOUT_S:g}s"
            started = time.monotonic()
            survey = await monitors.survey()
            assert time.monotonic() - started < TIMEOUT_S + 0.5
        health = {h.monitor: h for h in survey.healths}
        assert (health["pgbouncer"].ok, health["pgbouncer"].reason) == (False, f"timeout after {TIMEOUT_S:g}s")
        assert health["postgres"].ok
        after = (await bouncer.report()).lines[0]
        assert after.startswith("pgbouncer: ") and "none waiting" in after
        await _nothing_left(bouncer, tasks_before)

        async def one_monitor_client() -> bool:
            async with await psycopg.AsyncConnection.connect(
                trouble_db.admin_dsn, autocommit=True, prepare_threshold=None, row_factory=dict_row
            ) as conn:
                rows = await (await conn.execute("SHOW CLIENTS")).fetchall()
            # only the kept connection: the abandoned ones are gone
            return sum(1 for row in rows if row["application_name"] == "operator-monitor") == 1

        await until(one_monitor_client, "abandoned admin connections closed")

    async def test_frozen_pgbouncer_at_connect(self, trouble_db: TroubleDb) -> None:
        """No kept connection yet: the connect itself is bounded the same way."""
        monitor = PgBouncerMonitor(trouble_db.admin_dsn, TIMEOUT_S)
        try:
            with trouble_db.frozen("pgbouncer"):
                started = time.monotonic()
                health = await monitor.health_check()
                assert time.monotonic() - started < TIMEOUT_S + 0.5
            assert (health.ok, health.reason) == (False, f"timeout after {TIMEOUT_S:g}s")
            assert (await monitor.health_check()).ok
        finally:
            await monitor.aclose()
        assert not monitor.conn.abandoned

    async def test_frozen_postgres(self, pg: PostgresMonitor, trouble_db: TroubleDb) -> None:
        """Every PostgreSQL process SIGSTOPped with our connection open: `db` is TimedOut in time;
        after SIGCONT the next poll is normal and only one monitor session exists."""
        await pg.report()
        tasks_before = len(asyncio.all_tasks())
        with trouble_db.frozen("postgres"):
            assert is_stopped(trouble_db.procs["postgres"])
            started = time.monotonic()
            with pytest.raises(TimedOut):
                await pg.report()
            health = await pg.health_check()  # and a fresh connect while frozen
            assert time.monotonic() - started < 2 * (TIMEOUT_S + 0.5)
            assert (health.ok, health.reason) == (False, f"timeout after {TIMEOUT_S:g}s")
        assert (await pg.report()).lines[0].startswith("postgres appdb: ")
        await _nothing_left(pg, tasks_before)

        async def one_session() -> bool:
            return (
                await count(
                    trouble_db.pg_dsn(),
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'operator-monitor'",
                )
                == 1
            )

        await until(one_session, "abandoned PostgreSQL sessions gone")


async def _nothing_left(monitor: PostgresMonitor | PgBouncerMonitor, tasks_before: int) -> None:
    """Abandoned work has finished and no task of ours is still running."""

    async def settled() -> bool:
        return not monitor.conn.abandoned and len(asyncio.all_tasks()) <= tasks_before

    await until(settled, "abandoned work finished", timeout_s=5)


class TestReplication:
    async def test_primary_names_its_replica_and_the_replica_its_lag(
        self, pg: PostgresMonitor, trouble_replica: Replica
    ) -> None:
        """A real streaming standby: the primary lists it by name with its lag; the standby,
        caught up, reports itself as a replica with zero replay lag (not "time since the last
        transaction"); neither is a problem."""
        lines = (await pg.report()).lines
        assert any(
            re.fullmatch(rf"replica {trouble_replica.name} streaming: lag (\d+s|\?)(, .* behind)?", line)
            for line in lines
        ), lines
        assert "no replicas" not in lines
        standby = PostgresMonitor(trouble_replica.dsn("monitor"), TIMEOUT_S, Thresholds(replication_lag_s=5))
        try:
            for _ in range(100):  # bounded: replay catches up within moments on loopback
                standby_lines = (await standby.report()).lines
                if standby_lines[-1] == "replay lag 0s":
                    break
                await asyncio.sleep(0.05)
            assert standby_lines[0].startswith("postgres appdb (replica): ")
            assert standby_lines[-1] == "replay lag 0s"
            assert await standby.problems() == []
        finally:
            await standby.aclose()
