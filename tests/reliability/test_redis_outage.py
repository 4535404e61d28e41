"""Redis goes away mid-conversation, and comes back: degrade, never crash, recover without a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart import Quart

from bot.app_state import SERVICES
from bot.services import Services
from dialogs.redis_store import RedisSessionStore
from monitors.aliases import DEFAULT_ALIASES
from monitors.loki import LokiMonitor
from monitors.registry import Monitors
from tests.apps import SmsApp
from tests.bot.conftest import metric_value
from tests.conftest import make_settings
from tests.fakes.loki import Entry, LokiFake
from tests.fakes.twilio import ACCOUNT_SID, FROM_NUMBER, TwilioFake
from tests.phone import NUMBERS, TOKEN, Phone, reply_text
from tests.servers import redis as redis_servers
from tests.servers.common import free_port
from tests.servers.redis import RedisServer

redis_server = redis_servers.redis_server  # the fixture (function-scoped: each test its own server)

pytestmark = pytest.mark.integration

UNAVAILABLE = "Session store unavailable, try again shortly"


@pytest.fixture
def loki() -> Iterator[LokiFake]:
    entries = [Entry({"service": "api"}, time.time_ns() - 60 * 10**9, "ERROR payment timeout")]
    with LokiFake(entries) as fake:
        yield fake


@pytest.fixture
async def app(sms_app: SmsApp, redis_server: RedisServer, loki: LokiFake) -> AsyncIterator[Quart]:
    """The real app on the private Redis (through REDIS_URL, as deployed) with Loki behind it."""
    values: dict[str, object] = {
        "redis_url": redis_server.url,
        "loki_url": loki.url,
        "log_services": "api,web",
        "monitor_timeout_s": 2,
    }
    monitor = LokiMonitor.from_settings(make_settings(**values))
    assert monitor is not None
    async with sms_app(monitors=Monitors([monitor], DEFAULT_ALIASES, ["api", "web"]), **values) as application:
        yield application


async def assert_no_5xx(app: Quart, phone: Phone, body: str) -> str:
    response = await phone.send(body)
    assert response.status_code == 200, (body, response.status_code)
    return reply_text(await response.get_data(as_text=True))


class TestRedisOutage:
    async def test_outage_degrades_then_recovers_without_restart(self, app: Quart, redis_server: RedisServer) -> None:
        """Stop Redis mid-dialog: help/status answer, dialog steps say so, /ready 503; restart: all back."""
        client = app.test_client()
        phone = Phone(client, NUMBERS[0])
        assert (await client.get("/ready")).status_code == 200
        assert (await phone.text("logs")).startswith("Logs for which service?")

        redis_server.stop()
        assert (await client.get("/ready")).status_code == 503
        assert (await client.get("/health")).status_code == 200
        assert "status" in await assert_no_5xx(app, phone, "help")
        assert "1/1 sources ok (loki)" in await assert_no_5xx(app, phone, "status")
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

    async def test_redis_down_at_start_up_then_up(self, tmp_path: Path, loki: LokiFake, sms_app: SmsApp) -> None:
        """The service starts while Redis is down (503 ready, stateless answers) and joins when it comes up."""
        server = RedisServer(tmp_path)
        store = RedisSessionStore.from_url(server.url, 1800, "operator:")
        # A metrics source so `metrics` opens a question once the store is back (nothing is queried).
        try:
            async with sms_app(
                store=store, redis_url=server.url, prometheus_url=f"http://127.0.0.1:{free_port()}"
            ) as app:
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


@pytest.fixture
async def impatient_app(sms_app: SmsApp, redis_server: RedisServer, loki: LokiFake) -> AsyncIterator[Quart]:
    """As `app`, but a busy sender is told so after 0.2 s instead of 5 s."""
    async with sms_app(
        redis_url=redis_server.url, loki_url=loki.url, log_services="api,web", monitor_timeout_s=2, lock_wait_s=0.2
    ) as application:
        yield application


async def test_a_hung_redis_is_bounded_by_the_store_timeout(impatient_app: Quart, redis_server: RedisServer) -> None:
    """Redis frozen (SIGSTOP), not dead: calls time out, stateless commands still answer, and
    when it thaws the service carries on with the same connections pool."""
    phone = Phone(impatient_app.test_client(), NUMBERS[0])
    await phone.expect("logs", r"^Logs for which service\?")
    assert redis_server.proc is not None
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        assert "status" in await phone.text("help")
        assert UNAVAILABLE in await phone.text("api")
        assert (await impatient_app.test_client().get("/ready")).status_code == 503
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    # The timed-out `api` still ran when Redis woke and took the sender's lock; the store keeps
    # releasing such orphaned locks, so the sender is back well before the 30 s lock TTL.
    for _ in range(20):
        reply = await phone.text("logs api 1h")
        if reply.startswith("api, last 1h: 1 error"):
            break
        assert reply.startswith("Still working"), reply
        await asyncio.sleep(0.5)
    assert reply.startswith("api, last 1h: 1 error"), reply


LIMIT = 3


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:
        yield fake


@pytest.fixture
async def pushing_app(sms_app: SmsApp, redis_server: RedisServer, twilio: TwilioFake) -> AsyncIterator[Quart]:
    """The real app on the private Redis, able to push SMS through (fake) Twilio REST."""
    async with sms_app(
        redis_url=redis_server.url,
        rate_limit_per_min=LIMIT,
        twilio_account_sid=ACCOUNT_SID,
        twilio_from_number=FROM_NUMBER,
        twilio_api_url=twilio.url,
    ) as application:
        yield application


def services_of(app: Quart) -> Services:
    services: Services = app.extensions[SERVICES]
    return services


class TestPromisesHoldWhileRedisIsDown:
    async def test_the_rate_limit_moves_into_the_process(self, pushing_app: Quart, redis_server: RedisServer) -> None:
        """Redis down: LIMIT answers, one notice, silence; commands ran LIMIT times, not once per message."""
        redis_server.stop()
        phone = Phone(pushing_app.test_client(), NUMBERS[0])
        replies = [await phone.text("help") for _ in range(LIMIT + 3)]
        assert all("status" in r for r in replies[:LIMIT]), replies
        assert replies[LIMIT].startswith("Slow down")
        assert replies[LIMIT + 1 :] == ["", ""]
        assert await metric_value(pushing_app, "operator_commands_total", command="help") == LIMIT

    async def test_a_replayed_sid_runs_once(self, pushing_app: Quart, redis_server: RedisServer) -> None:
        """Redis down: Twilio's retry (same MessageSid) gets the first reply; `status` runs once.
        Another sender with that SID is not a duplicate."""
        redis_server.stop()
        phone = Phone(pushing_app.test_client(), NUMBERS[0])
        first = await phone.text("status", sid="SMdown0000000000000000000000000001")
        again = await phone.text("status", sid="SMdown0000000000000000000000000001")
        assert again == first != ""
        assert await metric_value(pushing_app, "operator_commands_total", command="status") == 1
        other = Phone(pushing_app.test_client(), NUMBERS[1])
        assert "status" in await other.text("help", sid="SMdown0000000000000000000000000001")

    async def test_a_stop_is_kept_then_written_and_nothing_is_pushed_meanwhile(
        self, pushing_app: Quart, redis_server: RedisServer, twilio: TwilioFake
    ) -> None:
        """STOP while Redis is down: no push reaches Twilio; when Redis is back the opt-out is in it."""
        services = services_of(pushing_app)
        assert services.outbound is not None
        redis_server.stop()
        assert await Phone(pushing_app.test_client(), NUMBERS[0]).text("STOP") == ""
        result = await services.outbound.send(NUMBERS[0], "disk 95% on db1")
        assert not result.ok and result.error == "recipient opted out"
        assert twilio.sent == []

        redis_server.start()
        for _ in range(120):  # the writer retries with backoff (at most 10 s apart); bounded
            if not services.pipeline.degraded.pending_opt_outs:
                break
            await asyncio.sleep(0.25)
        assert await services.store.is_opted_out(NUMBERS[0])
        assert not (await services.outbound.send(NUMBERS[0], "disk 96% on db1")).ok
        assert twilio.sent == []
        assert (await services.outbound.send(NUMBERS[1], "disk 96% on db1")).ok  # others still get pushes
