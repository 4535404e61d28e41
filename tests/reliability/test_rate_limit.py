"""Rate limiting per sender (RATE_LIMIT_PER_MIN): one notice, then silence until the window passes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from quart import Quart

from bot.app_state import SERVICES
from dialogs.redis_store import RedisSessionStore
from dialogs.store import MemorySessionStore, SessionStore
from tests.apps import FakeClock, SmsApp
from tests.bot.conftest import metric_value
from tests.phone import NUMBERS, Phone
from tests.servers import redis as redis_servers
from tests.servers.redis import RedisServer

redis_server = redis_servers.redis_server  # the fixture, until tests/conftest.py lists the plugin

LIMIT = 3
NOTICE = f"Slow down: {LIMIT} messages a minute at most. Try again shortly."


@pytest.fixture(params=["memory", "redis"])
async def replicas(request: pytest.FixtureRequest, sms_app: SmsApp, clock: FakeClock) -> AsyncIterator[list[Quart]]:
    """Memory: one app. Redis: two apps, each with its own client, sharing a private Redis.
    All on the shared `clock`, which starts at the beginning of a minute."""
    stores: list[SessionStore]
    if request.param == "memory":
        stores = [MemorySessionStore(1800, clock=clock)]
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        stores = [RedisSessionStore.from_url(server.url, 1800, clock=clock) for _ in range(2)]
    async with AsyncExitStack() as running:
        yield [
            await running.enter_async_context(sms_app(store=s, clock=clock, rate_limit_per_min=LIMIT)) for s in stores
        ]


async def send_round_robin(apps: list[Quart], number: str, count: int) -> list[str]:
    phones = [Phone(a.test_client(), number) for a in apps]
    return [await phones[i % len(phones)].text("help") for i in range(count)]


class TestRateLimit:
    async def test_over_the_limit_one_notice_then_silence_until_the_window_passes(
        self, replicas: list[Quart], clock: FakeClock
    ) -> None:
        """LIMIT answers, one short notice, then empty replies; a minute later answers again."""
        replies = await send_round_robin(replicas, NUMBERS[0], LIMIT + 4)
        assert all("status" in r for r in replies[:LIMIT]), replies
        assert replies[LIMIT] == NOTICE
        assert replies[LIMIT + 1 :] == [""] * 3
        limited = sum([await metric_value(a, "operator_messages_total", outcome="rate_limited") for a in replicas])
        assert limited == 4
        commands = sum([await metric_value(a, "operator_commands_total", command="help") for a in replicas])
        assert commands == LIMIT  # a limited message never reaches the conversation

        clock.now += 60
        assert "status" in (await send_round_robin(replicas, NUMBERS[0], 1))[0]

    async def test_other_senders_are_unaffected(self, replicas: list[Quart]) -> None:
        await send_round_robin(replicas, NUMBERS[0], LIMIT + 2)
        replies = await send_round_robin(replicas, NUMBERS[1], LIMIT)
        assert all("status" in r for r in replies), replies

    async def test_a_retried_webhook_is_not_counted_twice(self, replicas: list[Quart]) -> None:
        """Twilio's retry of one message is a duplicate, not another message towards the limit."""
        phone = Phone(replicas[-1].test_client(), NUMBERS[2])
        first = await phone.text("help", sid="SMrate00000000000000000000000001")
        for _ in range(LIMIT + 2):
            assert await phone.text("help", sid="SMrate00000000000000000000000001") == first
        assert "status" in await phone.text("help")


class TestNoGaps:
    async def test_a_burst_across_the_minute_boundary_gets_no_second_allowance(
        self, replicas: list[Quart], clock: FakeClock
    ) -> None:
        """LIMIT just before a minute ends, LIMIT more just after: the second burst is not answered
        (a fixed window answered 2 x LIMIT in a second)."""
        clock.now = 1_800_000_000.0 - 0.5  # a minute boundary is 0.5 s away
        before = await send_round_robin(replicas, NUMBERS[0], LIMIT)
        clock.now += 1.0
        after = await send_round_robin(replicas, NUMBERS[0], LIMIT)
        assert all("status" in r for r in before), before
        assert after == [NOTICE] + [""] * (LIMIT - 1)
        commands = sum([await metric_value(a, "operator_commands_total", command="help") for a in replicas])
        assert commands == LIMIT

    @pytest.mark.parametrize("spam", ["", "   ", "!!!", "START", "UNSTOP"])
    async def test_every_message_counts_blank_and_keywords_too(self, replicas: list[Quart], spam: str) -> None:
        """Blank bodies and carrier keywords use up the rate like any message."""
        phones = [Phone(a.test_client(), NUMBERS[1]) for a in replicas]
        for i in range(LIMIT):
            await phones[i % len(phones)].text(spam)
        assert await phones[0].text("help") == NOTICE

    async def test_a_stop_over_the_rate_is_still_recorded(self, replicas: list[Quart]) -> None:
        """Over the rate nothing is answered, but STOP is an opt-out all the same; START clears it."""
        phone = Phone(replicas[0].test_client(), NUMBERS[2])
        for _ in range(LIMIT + 1):
            await phone.text("help")
        assert await phone.text("STOP") == ""
        store = _store(replicas[-1])
        assert await store.is_opted_out(NUMBERS[2])
        assert await phone.text("START") == ""
        assert not await store.is_opted_out(NUMBERS[2])


def _store(app: Quart) -> SessionStore:
    store: SessionStore = app.extensions[SERVICES].store
    return store
