"""The Redis store on a real three-node Redis Cluster: the same contract, one hash slot per sender."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from dialogs.redis_store import RedisSessionStore
from tests.apps import SmsApp
from tests.dialogs import test_store
from tests.phone import NUMBERS, Phone
from tests.servers.common import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis_cluster_url: str) -> AsyncIterator[RedisSessionStore]:
    cluster_store = RedisSessionStore.from_url(redis_cluster_url, 1800, f"optest:{uuid.uuid4().hex[:8]}:", cluster=True)
    yield cluster_store
    await cluster_store.aclose()


class TestClusterContract(test_store.TestStoreContract):
    """Every contract test of the single-node store, on the cluster."""


async def test_senders_spread_over_the_cluster_and_conversations_work(
    store: RedisSessionStore, sms_app: SmsApp
) -> None:
    """Many senders land on different nodes; each one's dialog state survives between messages."""
    # A metrics source so `metrics` opens a question; asking queries nothing, so nothing listens there.
    async with sms_app(store=store, prometheus_url=f"http://127.0.0.1:{free_port()}") as app:
        for number in NUMBERS:
            phone = Phone(app.test_client(), number)
            await phone.expect("metrics", r"^Which metric\?")
            await phone.expect("reset", r"^OK, cleared\.$")
    slots = {store.client.keyslot(store.keys.session(n)) for n in NUMBERS}  # type: ignore[union-attr]
    assert len(slots) > 1
