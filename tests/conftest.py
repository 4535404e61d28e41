"""Shared fixtures: settings isolated from the environment, real Redis, the app factory, a fake clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.config import Settings
from dialogs.redis_store import RedisSessionStore
from dialogs.store import MemorySessionStore, SessionStore
from tests.apps import FakeClock, SmsApp, running_app
from tests.apps import make_settings as make_settings  # re-exported: tests import it from here
from tests.servers.common import unavailable

pytest_plugins = [
    "tests.servers.prometheus",
    "tests.servers.pg",
    "tests.servers.haproxy",
    "tests.servers.redis_cluster",
]

REDIS_URL = os.environ.get("OPERATOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from what each test passes, never from the machine's environment or .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(os.path.dirname(__file__))  # no .env here


@pytest.fixture
def sms_app() -> SmsApp:
    """`async with sms_app(store=..., monitors=..., clock=..., **settings) as app:` a serving app."""
    return running_app


@pytest.fixture
def clock() -> FakeClock:
    """A settable wall clock at EPOCH (a minute and hour boundary); pass it as `clock=`."""
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        unavailable(f"Redis at {REDIS_URL} is not reachable ({type(exc).__name__})")
    yield client
    await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"optest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = [k async for k in redis_client.scan_iter(match=prefix + "*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture
async def redis_store(redis_prefix: str) -> AsyncIterator[RedisSessionStore]:
    store = RedisSessionStore.from_url(REDIS_URL, 1800, redis_prefix)
    yield store
    await store.aclose()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> SessionStore:
    """Each store implementation, for contract tests."""
    name = "memory_store" if request.param == "memory" else "redis_store"
    value: SessionStore = request.getfixturevalue(name)
    return value


@pytest.fixture
def memory_store() -> MemorySessionStore:
    return MemorySessionStore(1800)
