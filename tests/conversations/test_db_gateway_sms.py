"""`db` and `gateway` by SMS against real PostgreSQL, pgBouncer and HAProxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from quart import Quart

from bot.app import create_app
from dialogs.store import MemorySessionStore
from tests.conftest import make_settings
from tests.phone import NUMBERS, Phone
from tests.servers.haproxy import HAProxyServer
from tests.servers.pg import PgBouncerServer, PgServer

pytestmark = pytest.mark.integration


async def sms_app(**settings: object) -> Quart:
    return create_app(make_settings(monitor_timeout_s=3, sms_page_segments=4, **settings),
                      store=MemorySessionStore(1800))


@pytest.fixture
async def db_phone(pg_server: PgServer, pgbouncer_server: PgBouncerServer) -> AsyncIterator[Phone]:
    app = await sms_app(database_url=pg_server.dsn("monitor", db="appdb"), pgbouncer_url=pgbouncer_server.admin_dsn)
    async with app.test_app():
        yield Phone(app.test_client(), NUMBERS[0])


async def test_db_reports_a_long_query_from_postgres_and_pools_from_pgbouncer(
        db_phone: Phone, pg_server: PgServer) -> None:
    """A running pg_sleep shows up as the longest query; pgBouncer's pool is listed; status is 2/2 ok."""
    sleeper = await psycopg.AsyncConnection.connect(pg_server.dsn("app", db="appdb"), autocommit=True)
    task = asyncio.create_task(sleeper.execute("SELECT pg_sleep(20)"))
    try:
        for _ in range(100):
            if "pg_sleep" in (reply := await db_phone.text("databse")):
                break
            await asyncio.sleep(0.05)
        assert "postgres:" in reply
        assert "pg_sleep" in reply
        assert "pgbouncer:" in reply
        assert "appdb" in reply
    finally:
        await sleeper.cancel_safe()
        await asyncio.gather(task, return_exceptions=True)
        await sleeper.close()
    await db_phone.expect("status", r"^2/2 ok")


async def test_gateway_names_the_down_server(haproxy_server: HAProxyServer) -> None:
    """HAProxy with one dead backend server: `gateway` names it; after `disable server` the other too."""
    app = await sms_app(haproxy_stats_url=haproxy_server.stats_url)
    async with app.test_app():
        phone = Phone(app.test_client(), NUMBERS[0])
        await phone.expect("gatway", r"haproxy:.*dead1 \(DOWN\)")
        haproxy_server.admin("disable server be_app/up1")
        await phone.expect("gateway", r"be_app DOWN: 0/2 up.*up1 \(MAINT\)")


async def test_one_backend_down_does_not_hide_the_others(pg_server: PgServer) -> None:
    """pgBouncer unreachable: db still reports PostgreSQL and names the culprit."""
    app = await sms_app(database_url=pg_server.dsn("monitor", db="appdb"),
                        pgbouncer_url="postgresql://pgbadmin:x@127.0.0.1:1/pgbouncer")
    async with app.test_app():
        phone = Phone(app.test_client(), NUMBERS[0])
        reply = await phone.expect("db", r"postgres:.*conns")
        assert "pgbouncer DOWN: connection refused" in reply
        status = await phone.expect("status", r"^1/2 ok, 1 DOWN\npgbouncer DOWN: connection refused")
        assert "x@" not in status and "pgbadmin:x" not in reply
