"""Two replicas sharing one real Redis: one sender's messages never interleave, senders never block."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from quart import Quart

from bot.app import create_app
from dialogs.redis_store import RedisSessionStore
from dialogs.session import Session
from tests.apps import SmsApp
from tests.conftest import REDIS_URL, make_settings
from tests.phone import NUMBERS, Phone
from tests.servers.common import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(sms_app: SmsApp, redis_prefix: str) -> AsyncIterator[tuple[Quart, Quart, RedisSessionStore]]:
    """Two app instances, each with its own Redis client, sharing one key space."""
    # A metrics source so `metrics` opens a question; nothing listens there and asking queries nothing.
    values: dict[str, object] = {
        "lock_wait_s": 5.0,
        "rate_limit_per_min": 1000,
        "prometheus_url": f"http://127.0.0.1:{free_port()}",
    }
    stores = [RedisSessionStore.from_url(REDIS_URL, 1800, redis_prefix) for _ in range(3)]
    async with sms_app(store=stores[0], **values) as a, sms_app(store=stores[1], **values) as b:
        yield a, b, stores[2]
    await stores[2].aclose()


async def seed_pages(store: RedisSessionStore, sender: str, pages: list[str]) -> None:
    begin = await store.begin(sender, "SMseed", rate_limit=1000, lock_wait_s=1)
    await store.finish(sender, "SMseed", begin.lock, Session(pages=pages, updated_at=9e12), "seed")


async def test_concurrent_more_across_replicas_hands_out_each_page_once(
    replicas: tuple[Quart, Quart, RedisSessionStore],
) -> None:
    """Ten `more` at once over two replicas: every kept page exactly once, none lost or repeated."""
    a, b, store = replicas
    pages = [f"page {i}" for i in range(2, 12)]
    await seed_pages(store, NUMBERS[0], pages)
    phones = [Phone(a.test_client()), Phone(b.test_client())]
    replies = await asyncio.gather(*(phones[i % 2].text("more") for i in range(10)))
    assert sorted(replies, key=lambda r: int(r.split()[1])) == pages
    assert await phones[0].text("more") == "Nothing more. Send help for commands."


async def test_other_senders_are_not_blocked_by_a_held_lock(replicas: tuple[Quart, Quart, RedisSessionStore]) -> None:
    """While one sender's lock is held, another sender is answered at once."""
    a, _b, store = replicas
    held = await store.begin(NUMBERS[0], "SMheld", rate_limit=1000, lock_wait_s=0.1)
    assert held.lock is not None
    assert "status" in await Phone(a.test_client(), NUMBERS[1]).text("help")
    await store.finish(NUMBERS[0], "SMheld", held.lock, Session(), "done")


async def test_a_lock_that_is_never_released_gives_a_busy_answer(redis_prefix: str) -> None:
    """Same sender, lock held too long: a clear 'still working' after the bounded wait."""
    store = RedisSessionStore.from_url(REDIS_URL, 1800, redis_prefix)
    app = create_app(make_settings(lock_wait_s=0.2), store=store)
    async with app.test_app():
        held = await store.begin(NUMBERS[0], "SMheld", rate_limit=100, lock_wait_s=0.1)
        assert held.lock is not None
        assert "Still working" in await Phone(app.test_client()).text("help")


async def test_sessions_never_cross(replicas: tuple[Quart, Quart, RedisSessionStore]) -> None:
    """Many senders start dialogs at once on both replicas; each keeps its own state."""
    a, b, store = replicas
    phones = [Phone((a if i % 2 else b).test_client(), n) for i, n in enumerate(NUMBERS)]
    await asyncio.gather(*(p.text("metrics" if i % 2 else "reset") for i, p in enumerate(phones)))
    for i, number in enumerate(NUMBERS):
        session = await store.load(number)
        assert session is not None
        assert session.state == ("metrics:metric" if i % 2 else "idle")
