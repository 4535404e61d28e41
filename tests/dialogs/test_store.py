"""One contract for every SessionStore: memory and real Redis behave the same."""

from __future__ import annotations

import asyncio

import pytest

from dialogs.query import Query
from dialogs.redis_store import RedisSessionStore
from dialogs.session import Session
from dialogs.store import MemorySessionStore, SessionStore, StoreUnavailable

SENDER = "+14155550100"


class TestStoreContract:
    async def test_first_message_gets_lock_and_no_session(self, store: SessionStore) -> None:
        """A new sender has no session, gets the lock and a count of one."""
        begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
        assert begin.duplicate is None
        assert begin.lock is not None
        assert begin.session is None
        assert begin.count == 1

    async def test_session_round_trip(self, store: SessionStore) -> None:
        """What finish saves, the next begin loads."""
        begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
        session = Session(state="logs:window", draft=Query("logs", service="web"), pages=["p2"])
        await store.finish(SENDER, "SM1", begin.lock, session, "reply one")
        again = await store.begin(SENDER, "SM2", rate_limit=5, lock_wait_s=0.1)
        assert again.session == session
        assert await store.load(SENDER) == session

    async def test_duplicate_message_sid_returns_stored_reply(self, store: SessionStore) -> None:
        """A MessageSid handled before returns its reply and takes no lock."""
        begin = await store.begin(SENDER, "SMdup", rate_limit=5, lock_wait_s=0.1)
        await store.finish(SENDER, "SMdup", begin.lock, Session(), "the answer")
        dup = await store.begin(SENDER, "SMdup", rate_limit=5, lock_wait_s=0.1)
        assert dup.duplicate == "the answer"
        assert dup.lock is None

    async def test_lock_excludes_second_message_until_finished(self, store: SessionStore) -> None:
        """While one message of a sender holds the lock, another waits and then gets it."""
        first = await store.begin(SENDER, "SMa", rate_limit=5, lock_wait_s=0.1)
        blocked = await store.begin(SENDER, "SMb", rate_limit=5, lock_wait_s=0.1)
        assert first.lock is not None and blocked.lock is None

        waiter = asyncio.create_task(store.begin(SENDER, "SMc", rate_limit=5, lock_wait_s=5))
        await asyncio.sleep(0)
        await store.finish(SENDER, "SMa", first.lock, Session(state="x"), "a")
        got = await waiter
        assert got.lock is not None
        assert got.session is not None and got.session.state == "x"

    async def test_replay_arriving_mid_answer_gets_the_stored_reply(self, store: SessionStore) -> None:
        """A MessageSid delivered again while its first delivery holds the lock waits, then gets
        that delivery's reply: it never takes the lock and runs a second time."""
        first = await store.begin(SENDER, "SMmid", rate_limit=5, lock_wait_s=0.1)
        replay = asyncio.create_task(store.begin(SENDER, "SMmid", rate_limit=5, lock_wait_s=5))
        await asyncio.sleep(0.05)  # the replay is now waiting for the lock
        assert not replay.done()
        await store.finish(SENDER, "SMmid", first.lock, Session(state="after"), "the one answer")
        got = await replay
        assert got.duplicate == "the one answer"
        assert got.lock is None
        follower = await store.begin(SENDER, "SMnext", rate_limit=5, lock_wait_s=0.1)
        assert follower.lock is not None, "the replay must not have taken (and kept) the lock"

    async def test_other_senders_do_not_share_lock_or_session(self, store: SessionStore) -> None:
        """Two senders never block each other nor see each other's session."""
        a = await store.begin(SENDER, "SMa", rate_limit=5, lock_wait_s=0.1)
        b = await store.begin("+14155550101", "SMb", rate_limit=5, lock_wait_s=0.1)
        assert a.lock is not None and b.lock is not None
        await store.finish(SENDER, "SMa", a.lock, Session(state="mine"), "a")
        assert await store.load("+14155550101") is None

    async def test_rate_limit_counts_per_sender(self, store: SessionStore) -> None:
        """The count grows per message; over the limit no lock is taken."""
        for i in range(3):
            begin = await store.begin(SENDER, f"SMr{i}", rate_limit=3, lock_wait_s=0.1)
            await store.finish(SENDER, f"SMr{i}", begin.lock, Session(), "ok")
        over = await store.begin(SENDER, "SMr3", rate_limit=3, lock_wait_s=0.1)
        assert over.count == 4
        assert over.lock is None
        other = await store.begin("+14155550101", "SMo", rate_limit=3, lock_wait_s=0.1)
        assert other.count == 1

    async def test_finish_with_stale_lock_does_not_overwrite(self, store: SessionStore) -> None:
        """A holder whose lock is gone must not overwrite the session."""
        begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
        await store.finish(SENDER, "SM1", begin.lock, Session(state="first"), "r1")
        await store.finish(SENDER, "SM2", "not-the-token", Session(state="stale"), "r2")
        loaded = await store.load(SENDER)
        assert loaded is not None and loaded.state == "first"

    async def test_none_session_deletes(self, store: SessionStore) -> None:
        begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
        await store.finish(SENDER, "SM1", begin.lock, Session(state="x"), "r")
        begin = await store.begin(SENDER, "SM2", rate_limit=5, lock_wait_s=0.1)
        await store.finish(SENDER, "SM2", begin.lock, None, "r")
        assert await store.load(SENDER) is None

    async def test_opt_out_flag(self, store: SessionStore) -> None:
        assert not await store.is_opted_out(SENDER)
        await store.set_opted_out(SENDER, True)
        assert await store.is_opted_out(SENDER)
        await store.set_opted_out(SENDER, False)
        assert not await store.is_opted_out(SENDER)

    async def test_ping(self, store: SessionStore) -> None:
        """A reachable store answers ping; an unreachable Redis raises StoreUnavailable (/ready's 503)."""
        assert await store.ping() is None
        if isinstance(store, RedisSessionStore):
            dead = RedisSessionStore.from_url("redis://127.0.0.1:1/0", 1800)
            try:
                with pytest.raises(StoreUnavailable):
                    await dead.ping()
            finally:
                await dead.aclose()


class TestSession:
    def test_corrupt_or_foreign_json_is_a_fresh_start(self) -> None:
        assert Session.loads(b"{not json") is None
        assert Session.loads("[1,2]") is None
        loaded = Session.loads('{"state":"idle","from_the_future":1}')
        assert loaded == Session()

    def test_clear_keeps_last_command(self) -> None:
        s = Session(state="logs:window", draft=Query("logs"), last_command="logs", pages=["x"])
        s.clear()
        assert s == Session(last_command="logs")


@pytest.mark.parametrize("ttl", [10, 60])
async def test_memory_store_expires_by_clock(ttl: int) -> None:
    """Keys live session TTL plus the grace period, judged by the injected clock."""
    now = [1000.0]
    store = MemorySessionStore(ttl, clock=lambda: now[0])
    begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
    await store.finish(SENDER, "SM1", begin.lock, Session(state="x"), "r")
    now[0] += store.key_ttl_s - 1
    assert await store.load(SENDER) is not None
    now[0] += 2
    assert await store.load(SENDER) is None


async def test_memory_store_sweeps_expired_keys_without_rescanning_every_write() -> None:
    """Expired replies are dropped when the map has grown; the next sweep waits for it to double."""
    now = [1000.0]
    store = MemorySessionStore(10, clock=lambda: now[0])
    for i in range(10_001):  # crosses the first threshold: a sweep with nothing expired yet
        await store.finish(SENDER, f"SMa{i}", None, None, "r")
    assert store._sweep_at == 2 * len(store._data)
    now[0] += 2 * 24 * 3600  # every reply stored so far has expired
    for i in range(store._sweep_at - len(store._data) + 1):
        await store.finish(SENDER, f"SMb{i}", None, None, "r")
    assert not any(key.startswith("r:SMa") for key in store._data)
