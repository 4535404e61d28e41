"""`db`, `gateway` and `status` by SMS against real PostgreSQL, pgBouncer and HAProxy, in real trouble.

Every reply is checked to be GSM-7 and within the page budget (bot/sms.py counts segments).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from functools import partial

import psycopg
import pytest

from bot.sms import segment_info
from tests.apps import SmsApp, running_app
from tests.phone import NUMBERS, Phone
from tests.servers.haproxy import HAProxyServer
from tests.servers.pg import PgBouncerServer, PgServer
from tests.servers.trouble import TroubleDb, trouble_db  # noqa: F401 - module fixture

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.5
PAGE_SEGMENTS = 2


@pytest.fixture
def sms_app() -> SmsApp:
    """The shared factory with this module's short monitor timeout and page budget."""
    return partial(running_app, monitor_timeout_s=TIMEOUT_S, sms_page_segments=PAGE_SEGMENTS)


async def sms(phone: Phone, text: str) -> str:
    """The reply, checked to travel as GSM-7 within the page budget."""
    reply = await phone.text(text)
    info = segment_info(reply)
    assert info.encoding == "GSM-7" and info.segments <= PAGE_SEGMENTS, (reply, info)
    return reply


@pytest.fixture
async def db_phone(sms_app: SmsApp, pg_server: PgServer, pgbouncer_server: PgBouncerServer) -> AsyncIterator[Phone]:
    async with sms_app(
        database_url=pg_server.dsn("monitor", db="appdb"), pgbouncer_url=pgbouncer_server.admin_dsn
    ) as app:
        yield Phone(app.test_client(), NUMBERS[0])


@pytest.fixture
async def trouble_phone(sms_app: SmsApp, trouble_db: TroubleDb) -> AsyncIterator[Phone]:
    """db and status on this module's own servers; every fact counts as trouble from the first second."""
    async with sms_app(
        database_url=trouble_db.pg_dsn("monitor"),
        pgbouncer_url=trouble_db.admin_dsn,
        db_lock_wait_warn_s=0,
        db_idle_in_txn_warn_s=0,
    ) as app:
        yield Phone(app.test_client(), NUMBERS[0])


async def test_healthy_db_is_one_segment_without_doubled_headers(db_phone: Phone) -> None:
    """A quiet database: one header per monitor, "no replicas" said, one segment; status all clear."""
    reply = await sms(db_phone, "databse")
    lines = reply.splitlines()
    assert lines[0].startswith("postgres appdb: ") and "conns" in lines[0]
    assert "no replicas" in lines
    assert sum(line.startswith("pgbouncer") for line in lines) == 1
    assert "postgres:" not in reply and "pgbouncer:\n" not in reply
    assert segment_info(reply).segments == 1, reply
    assert await sms(db_phone, "status") == "All clear: 2/2 sources ok (postgres, pgbouncer)."


async def test_db_reports_a_long_query(db_phone: Phone, pg_server: PgServer) -> None:
    """A running pg_sleep shows up as the longest query, with its pid, literals masked."""
    sleeper = await psycopg.AsyncConnection.connect(pg_server.dsn("app", db="appdb"), autocommit=True)
    task = asyncio.create_task(sleeper.execute("SELECT pg_sleep(20)"))
    try:
        for _ in range(100):  # shown once it has run a second (bounded poll)
            if "pg_sleep" in (reply := await sms(db_phone, "db")):
                break
            await asyncio.sleep(0.05)
        assert re.search(
            rf"longest query \d+s \(pid {sleeper.info.backend_pid} app/\?\): SELECT pg_sleep\(\?\)", reply
        ), reply
    finally:
        await sleeper.cancel_safe()
        await asyncio.gather(task, return_exceptions=True)
        await sleeper.close()


async def test_lock_wait_names_the_blocking_pid(trouble_phone: Phone, trouble_db: TroubleDb) -> None:
    """Two real transactions: `status` and `db` name the blocking pid and its application."""
    admin = await psycopg.AsyncConnection.connect(trouble_db.pg_dsn(), autocommit=True)
    holder = await psycopg.AsyncConnection.connect(trouble_db.pg_dsn("app") + "?application_name=billing")
    waiter = await psycopg.AsyncConnection.connect(trouble_db.pg_dsn("app"), autocommit=True)
    blocked: asyncio.Task[object] | None = None
    try:
        await admin.execute("CREATE TABLE IF NOT EXISTS ledger (id int PRIMARY KEY, amount int)")
        await admin.execute("GRANT ALL ON ledger TO app")
        await admin.execute("INSERT INTO ledger VALUES (1, 0) ON CONFLICT DO NOTHING")
        await holder.execute("UPDATE ledger SET amount = 100 WHERE id = 1")
        blocked = asyncio.create_task(waiter.execute("UPDATE ledger SET amount = 5 WHERE id = 1"))
        pid = holder.info.backend_pid
        for _ in range(100):
            status = await sms(trouble_phone, "status")
            if "lock" in status:
                break
            await asyncio.sleep(0.05)
        db = await sms(trouble_phone, "db")
    finally:
        await holder.rollback()
        if blocked is not None:
            await asyncio.gather(blocked, return_exceptions=True)
        for conn in (admin, holder, waiter):
            await conn.close()
    assert re.search(
        rf"^WARN postgres: pid \d+ waits \d+s on a lock held by pid {pid} app/billing$", status, re.MULTILINE
    ), status
    assert re.search(rf"^WARN postgres: pid {pid} app/billing idle in txn \d+s$", status, re.MULTILINE), status
    assert status.splitlines()[-1] == "2/2 sources ok (postgres, pgbouncer)"
    lock = rf"^lock: pid \d+ app/\? waits \d+s on pid {pid} app/billing \(idle in transaction \d+s\): "
    masked = re.escape("UPDATE ledger SET amount = ? WHERE id = ?")  # the blocker's statement, literals masked
    assert re.search(lock + masked + "$", db, re.MULTILINE), db


async def test_pgbouncer_queue_is_a_problem(trouble_phone: Phone, trouble_db: TroubleDb) -> None:
    """pool_size 1 and a long query: the clients behind it are named in `status` and `db`."""
    long = await psycopg.AsyncConnection.connect(trouble_db.bouncer_dsn(), autocommit=True)
    running = asyncio.create_task(long.execute("SELECT pg_sleep(3)"))
    await asyncio.sleep(0.2)  # setup: the long query takes the only server connection first

    async def queued() -> None:
        async with await psycopg.AsyncConnection.connect(trouble_db.bouncer_dsn(), autocommit=True) as conn:
            await conn.execute("SELECT 1")

    queue = [asyncio.create_task(queued()) for _ in range(2)]
    try:
        for _ in range(100):
            status = await sms(trouble_phone, "status")
            if "2 clients waiting" in status:
                break
            await asyncio.sleep(0.05)
        db = await sms(trouble_phone, "db")
    finally:
        await asyncio.gather(running, *queue, return_exceptions=True)
        await long.close()
    assert re.search(r"^WARN pgbouncer appdb/app: 2 clients waiting", status, re.MULTILINE), status
    assert re.search(r"^pgbouncer: 1 pool, [12] waiting", db, re.MULTILINE), db


async def test_frozen_pgbouncer_answers_within_the_deadline(trouble_phone: Phone, trouble_db: TroubleDb) -> None:
    """pgBouncer SIGSTOPped: `db` and `status` answer within MONITOR_TIMEOUT_S + 0.5 s, name it, and
    PostgreSQL is still reported; resumed, the next `db` is normal."""
    await sms(trouble_phone, "db")  # kept connections exist
    with trouble_db.frozen("pgbouncer"):
        started = time.monotonic()
        db = await sms(trouble_phone, "db")
        db_s = time.monotonic() - started
        started = time.monotonic()
        status = await sms(trouble_phone, "status")
        status_s = time.monotonic() - started
    assert db_s < TIMEOUT_S + 0.5 and status_s < TIMEOUT_S + 0.5, (db_s, status_s)
    assert f"pgbouncer DOWN: timeout after {TIMEOUT_S:g}s" in db and db.startswith("postgres appdb: ")
    assert f"DOWN pgbouncer: timeout after {TIMEOUT_S:g}s" in status and status.endswith("1/2 sources ok (postgres)")
    assert "DOWN" not in await sms(trouble_phone, "db")


async def test_frozen_postgres_answers_within_the_deadline(trouble_phone: Phone, trouble_db: TroubleDb) -> None:
    """Every PostgreSQL process SIGSTOPped: `db` names postgres within the deadline; pgBouncer's
    console (its own process) still answers; resumed, the next `db` is normal."""
    await sms(trouble_phone, "db")
    with trouble_db.frozen("postgres"):
        started = time.monotonic()
        db = await sms(trouble_phone, "db")
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT_S + 0.5, elapsed
    assert db.startswith(f"postgres DOWN: timeout after {TIMEOUT_S:g}s\npgbouncer: "), db
    assert (await sms(trouble_phone, "db")).startswith("postgres appdb: ")


async def test_gateway_names_the_down_server_and_why(sms_app: SmsApp, haproxy_server: HAProxyServer) -> None:
    """HAProxy with one dead server: `gateway` names it with HAProxy's check; `status` lists the
    backend; after `disable server` the backend is down, a critical problem."""
    async with sms_app(haproxy_stats_url=haproxy_server.stats_url) as app:
        phone = Phone(app.test_client(), NUMBERS[0])
        gateway = await sms(phone, "gatway")
        assert re.search(r"be_app UP: 1/2 up, down: dead1 DOWN L4CON Connection refused for \d+s;", gateway), gateway
        status = await sms(phone, "status")
        assert status.startswith("WARN haproxy be_app: 1/2 up (dead1 DOWN L4CON"), status
        haproxy_server.admin("disable server be_app/up1")
        assert (await sms(phone, "status")).startswith("CRIT haproxy be_app: 0/2 up (up1 MAINT")
        assert "be_app DOWN: 0/2 up, down: up1 MAINT" in await sms(phone, "gateway")


async def test_one_backend_down_does_not_hide_the_others(sms_app: SmsApp, pg_server: PgServer) -> None:
    """pgBouncer unreachable: db still reports PostgreSQL and names the culprit, without its password."""
    async with sms_app(
        database_url=pg_server.dsn("monitor", db="appdb"), pgbouncer_url="postgresql://pgbadmin:x@127.0.0.1:1/pgbouncer"
    ) as app:
        phone = Phone(app.test_client(), NUMBERS[0])
        reply = await sms(phone, "db")
        assert reply.startswith("postgres appdb: ") and "pgbouncer DOWN: connection refused" in reply
        status = await sms(phone, "status")
        assert status == (
            "DOWN pgbouncer: connection refused\nno problems found in the others; 1/2 sources ok (postgres)"
        )
        assert "x@" not in status and "pgbadmin:x" not in reply
