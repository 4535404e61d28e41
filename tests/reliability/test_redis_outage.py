"""Redis goes away mid-conversation, and comes back: degrade, never crash, recover without a restart."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart import Quart

from bot.app import create_app
from dialogs.redis_store import RedisSessionStore
from monitors.aliases import DEFAULT_ALIASES
from monitors.loki import LokiMonitor
from monitors.registry import Monitors
from tests.conftest import make_settings
from tests.fakes.loki import Entry, LokiFake
from tests.phone import NUMBERS, Phone, reply_text
from tests.servers import redis as redis_servers
from tests.servers.redis import RedisServer

redis_server = redis_servers.redis_server  # the fixture, until tests/conftest.py lists the plugin

pytestmark = pytest.mark.integration

UNAVAILABLE = "Session store unavailable, try again shortly"


@pytest.fixture
def loki() -> Iterator[LokiFake]:
    entries = [Entry({"service": "api"}, time.time_ns() - 60 * 10**9, "ERROR payment timeout")]
    with LokiFake(entries) as fake:
        yield fake


@pytest.fixture
async def app(redis_server: RedisServer, loki: LokiFake) -> AsyncIterator[Quart]:
    """The real app on the private Redis (through REDIS_URL, as deployed) with Loki behind it."""
    settings = make_settings(redis_url=redis_server.url, loki_url=loki.url, log_services="api,web",
                             monitor_timeout_s=2)
    monitor = LokiMonitor.from_settings(settings)
    assert monitor is not None
    application = create_app(settings, monitors=Monitors([monitor], DEFAULT_ALIASES, ["api", "web"]))
    async with application.test_app():
        yield application


async def assert_no_5xx(app: Quart, phone: Phone, body: str) -> str:
    response = await phone.send(body)
    assert response.status_code == 200, (body, response.status_code)
    return reply_text(await response.get_data(as_text=True))


class TestRedisOutage:
    async def test_outage_degrades_then_recovers_without_restart(self, app: Quart,
                                                                  redis_server: RedisServer) -> None:
        """Stop Redis mid-dialog: help/status answer, dialog steps say so, /ready 503; restart: all back."""
        client = app.test_client()
        phone = Phone(client, NUMBERS[0])
        assert (await client.get("/ready")).status_code == 200
        assert (await phone.text("logs")).startswith("Logs for which service?")

        redis_server.stop()
        assert (await client.get("/ready")).status_code == 503
        assert (await client.get("/health")).status_code == 200
        assert "status" in await assert_no_5xx(app, phone, "help")
        assert "loki ok" in await assert_no_5xx(app, phone, "status")
        for step in ("api", "1h", "logs api", "metrics", "more", "reset"):
            reply = await assert_no_5xx(app, phone, step)
            assert reply.startswith(UNAVAILABLE), (step, reply)
        assert "Traceback" not in reply

        redis_server.start()  # same port, empty: as after a failover without the data
        assert (await client.get("/ready")).status_code == 200
        assert (await phone.text("logs")).startswith("Logs for which service?")
        assert (await phone.text("api")).startswith("api: which window?")
        reply = await phone.text("1h")
        assert "payment timeout" in reply, reply

    async def test_redis_down_at_start_up_then_up(self, tmp_path: Path, loki: LokiFake) -> None:
        """The service starts while Redis is down (503 ready, stateless answers) and joins when it comes up."""
        server = RedisServer(tmp_path)
        store = RedisSessionStore.from_url(server.url, 1800, "operator:")
        app = create_app(make_settings(redis_url=server.url), store=store)
        try:
            async with app.test_app():
                client = app.test_client()
                phone = Phone(client, NUMBERS[1])
                assert (await client.get("/ready")).status_code == 503
                assert "status" in await phone.text("help")
                assert (await phone.text("metrics")).startswith(UNAVAILABLE)
                server.start()
                assert (await client.get("/ready")).status_code == 200
                assert (await phone.text("metrics")).startswith("Which metric?")
        finally:
            server.__exit__()
