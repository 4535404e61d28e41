"""One contract for every SessionStore: memory and real Redis behave the same."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
import redis.asyncio.connection as redis_connection
from redis.exceptions import DataError

from dialogs import redis_store as redis_store_module
from dialogs.query import Query
from dialogs.redis_store import RedisSessionStore
from dialogs.session import Session
from dialogs.store import KeyBuilder, MemorySessionStore, SessionStore, StoreUnavailable
from tests.apps import FakeClock

SENDER = "+14155550100"
OTHER = "+14155550101"


@pytest.fixture(params=["memory", "redis"])
def clocked(request: pytest.FixtureRequest, clock: FakeClock) -> SessionStore:
    """Each store on a settable wall clock (the rate is judged by it)."""
    if request.param == "memory":
        return MemorySessionStore(1800, clock)
    store: RedisSessionStore = request.getfixturevalue("redis_store")
    store.clock = clock
    return store


class TestStoreContract:
    async def test_first_message_gets_lock_and_no_session(self, store: SessionStore) -> None:
        """A new sender has no session, gets the lock and is not limited."""
        begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
        assert begin.duplicate is None
        assert begin.lock is not None
        assert begin.session is None
        assert not begin.limited

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

    async def test_a_sid_is_a_duplicate_only_for_its_own_sender(self, store: SessionStore) -> None:
        """Sender B sending A's MessageSid gets nothing of A's: replies are keyed by sender and SID."""
        begin = await store.begin(SENDER, "SMshared", rate_limit=5, lock_wait_s=0.1)
        await store.finish(SENDER, "SMshared", begin.lock, Session(), "A's status")
        other = await store.begin(OTHER, "SMshared", rate_limit=5, lock_wait_s=0.1)
        assert other.duplicate is None
        assert other.lock is not None

    async def test_without_lock_a_message_is_counted_and_its_reply_kept(self, store: SessionStore) -> None:
        """`lock=False` (keywords, blanks): counted, no lock taken, the reply kept for a retry."""
        held = await store.begin(SENDER, "SMheld", rate_limit=2, lock_wait_s=0.1)
        free = await store.begin(SENDER, "SMkw", rate_limit=2, lock_wait_s=5, lock=False)
        assert free.lock is None and not free.limited  # returned at once, though the lock is held
        await store.finish(SENDER, "SMkw", None, None, "")
        assert (await store.begin(SENDER, "SMkw", rate_limit=2, lock_wait_s=0.1)).duplicate == ""
        assert (await store.begin(SENDER, "SM3", rate_limit=2, lock_wait_s=0.1, lock=False)).limited
        await store.finish(SENDER, "SMheld", held.lock, Session(), "r")

    async def test_a_lock_nobody_renews_is_free_after_its_lease(self, store: SessionStore) -> None:
        """A holder that died (stopped renewing) frees its sender within the lease."""
        store.lock_lease_s = 1.0
        held = await store.begin(SENDER, "SMdead", rate_limit=5, lock_wait_s=0.1)
        assert held.lock is not None
        store._let_go(SENDER, held.lock)  # what a SIGKILL does to the renewal task
        again = await store.begin(SENDER, "SMdead", rate_limit=5, lock_wait_s=3 * store.lock_lease_s)
        assert again.lock is not None and again.lock != held.lock

    async def test_a_renewed_lock_outlives_its_lease(self, store: SessionStore) -> None:
        """While its holder works, the lock is renewed: another message waiting 2.5 leases stays out."""
        store.lock_lease_s = 2.0
        held = await store.begin(SENDER, "SMslow", rate_limit=5, lock_wait_s=0.1)
        blocked = await store.begin(SENDER, "SMnext", rate_limit=5, lock_wait_s=2.5 * store.lock_lease_s)
        assert held.lock is not None and blocked.lock is None
        await store.finish(SENDER, "SMslow", held.lock, Session(), "r")
        assert (await store.begin(SENDER, "SMnext2", rate_limit=5, lock_wait_s=0.1)).lock is not None

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

    async def test_rate_limit_per_sender(self, store: SessionStore) -> None:
        """`rate_limit` messages at once; the next is limited, with a notice once; no lock taken."""
        for i in range(3):
            begin = await store.begin(SENDER, f"SMr{i}", rate_limit=3, lock_wait_s=0.1)
            assert not begin.limited
            await store.finish(SENDER, f"SMr{i}", begin.lock, Session(), "ok")
        over = await store.begin(SENDER, "SMr3", rate_limit=3, lock_wait_s=0.1)
        assert over.limited and over.notice and over.lock is None
        again = await store.begin(SENDER, "SMr4", rate_limit=3, lock_wait_s=0.1)
        assert again.limited and not again.notice
        other = await store.begin(OTHER, "SMo", rate_limit=3, lock_wait_s=0.1)
        assert not other.limited and other.lock is not None

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


class TestRateContract:
    """GCRA, the same arithmetic in Lua and Python, judged by the store's clock."""

    async def test_no_burst_across_a_minute_boundary(self, clocked: SessionStore, clock: FakeClock) -> None:
        """A full burst just before a minute ends buys nothing just after it (a fixed window gave 2x)."""
        clock.now = 1_800_000_000.0 - 0.5  # 1_800_000_000 is a multiple of 60
        burst = [await clocked.begin(SENDER, f"SMa{i}", rate_limit=5, lock_wait_s=0, lock=False) for i in range(5)]
        clock.now += 1.0
        after = [await clocked.begin(SENDER, f"SMb{i}", rate_limit=5, lock_wait_s=0, lock=False) for i in range(5)]
        assert [b.limited for b in burst] == [False] * 5
        assert [b.limited for b in after] == [True] * 5
        assert [b.notice for b in after] == [True, False, False, False, False]

    async def test_places_come_back_one_interval_at_a_time(self, clocked: SessionStore, clock: FakeClock) -> None:
        """After a burst of 6 a minute, one more message is admitted every 10 s, not 6 at the minute."""
        for i in range(6):
            assert not (await clocked.begin(SENDER, f"SMa{i}", rate_limit=6, lock_wait_s=0, lock=False)).limited
        clock.now += 9.9
        assert (await clocked.begin(SENDER, "SMb0", rate_limit=6, lock_wait_s=0, lock=False)).limited
        clock.now += 0.2
        assert not (await clocked.begin(SENDER, "SMb1", rate_limit=6, lock_wait_s=0, lock=False)).limited
        assert (await clocked.begin(SENDER, "SMb2", rate_limit=6, lock_wait_s=0, lock=False)).limited
        clock.now += 60
        admitted = [
            not (await clocked.begin(SENDER, f"SMc{i}", rate_limit=6, lock_wait_s=0, lock=False)).limited
            for i in range(7)
        ]
        assert admitted == [True] * 6 + [False]

    async def test_the_notice_comes_again_in_the_next_limited_spell(
        self, clocked: SessionStore, clock: FakeClock
    ) -> None:
        for i in range(2):
            await clocked.begin(SENDER, f"SMa{i}", rate_limit=2, lock_wait_s=0, lock=False)
        assert (await clocked.begin(SENDER, "SMb", rate_limit=2, lock_wait_s=0, lock=False)).notice
        clock.now += 30  # one place back
        assert not (await clocked.begin(SENDER, "SMc", rate_limit=2, lock_wait_s=0, lock=False)).limited
        spell = await clocked.begin(SENDER, "SMd", rate_limit=2, lock_wait_s=0, lock=False)
        assert spell.limited and spell.notice


def test_one_key_builder_for_every_store() -> None:
    """Memory and Redis build the same keys: a sender's keys share one hash tag; replies carry both."""
    keys = KeyBuilder("operator:")
    assert keys.session(SENDER) == "operator:{+14155550100}:s"
    assert keys.reply(SENDER, "SM1") == "operator:{+14155550100}:r:SM1"
    assert keys.reply(SENDER, "SM1") != keys.reply(OTHER, "SM1")
    assert MemorySessionStore(10).keys == KeyBuilder()


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
async def test_memory_store_expires_by_clock(ttl: int, clock: FakeClock) -> None:
    """Keys live session TTL plus the grace period, judged by the injected clock."""
    store = MemorySessionStore(ttl, clock=clock)
    begin = await store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
    await store.finish(SENDER, "SM1", begin.lock, Session(state="x"), "r")
    clock.advance(store.key_ttl_s - 1)
    assert await store.load(SENDER) is not None
    clock.advance(2)
    assert await store.load(SENDER) is None


async def test_memory_store_sweeps_expired_keys_without_rescanning_every_write(clock: FakeClock) -> None:
    """Expired replies are dropped when the map has grown; the next sweep waits for it to double."""
    store = MemorySessionStore(10, clock=clock)
    for i in range(10_001):  # crosses the first threshold: a sweep with nothing expired yet
        await store.finish(SENDER, f"SMa{i}", None, None, "r")
    assert store._sweep_at == 2 * len(store._data)
    clock.advance(2 * 24 * 3600)  # every reply stored so far has expired
    for i in range(store._sweep_at - len(store._data) + 1):
        await store.finish(SENDER, f"SMb{i}", None, None, "r")
    assert not any(":r:SMa" in key for key in store._data)


class TestRedisClient:
    """The session store's own redis-py client."""

    @pytest.mark.parametrize(
        "args",
        [
            ("EVALSHA", "a" * 40, 2, "operator:{+14155550100}:s", "operator:{+14155550100}:l", "tok:1", 5000, ""),
            ("EVAL", "return {ARGV[1]}", 0, '{"state":"idle","pages":["é ✓"]}', 86400),
            ("SET", "k", "é ✓ 👍", "EX", 86400),
            ("CLIENT SETINFO", "LIB-NAME", "redis-py"),  # a two-word command name is two arguments
            (b"SCRIPT LOAD", b"return 1"),
        ],
    )
    async def test_commands_are_packed_in_c_as_redis_py_packs_them(self, args: tuple[object, ...]) -> None:
        """hiredis packs every command byte for byte as redis-py's own (Python) packer does, in one buffer."""
        store = RedisSessionStore.from_url("redis://127.0.0.1:1/0", 1800)
        try:
            connection = store.client.connection_pool.make_connection()  # type: ignore[union-attr]
            packed = connection.pack_command(*args)
        finally:
            await store.aclose()
        assert isinstance(connection, redis_connection.Connection)
        assert packed == [b"".join(redis_connection.Connection().pack_command(*args))]

    @pytest.mark.parametrize("args", [("EVALSHA", "a" * 40, 0, None), ("SET", "k", True)])
    async def test_a_value_redis_cannot_take_is_a_data_error(self, args: tuple[object, ...]) -> None:
        """As with redis-py's own packer: None or a bool is refused with DataError, on the script path too."""
        store = RedisSessionStore.from_url("redis://127.0.0.1:1/0", 1800)
        try:
            connection = store.client.connection_pool.make_connection()  # type: ignore[union-attr]
            with pytest.raises(DataError):
                connection.pack_command(*args)
        finally:
            await store.aclose()
        with pytest.raises(DataError):
            redis_connection.Connection().pack_command(*args)

    @pytest.mark.parametrize(
        ("url", "kind"),
        [
            ("rediss://127.0.0.1:1/0", redis_connection.SSLConnection),
            ("unix:///tmp/no-such-redis.sock", redis_connection.UnixDomainSocketConnection),
        ],
    )
    async def test_the_url_still_picks_the_kind_of_connection(self, url: str, kind: type) -> None:
        """TLS and Unix-socket URLs keep their connection classes under the C packing."""
        store = RedisSessionStore.from_url(url, 1800)
        try:
            assert isinstance(store.client.connection_pool.make_connection(), kind)  # type: ignore[union-attr]
        finally:
            await store.aclose()


class TestLanes:
    """The connections a single-Redis store keeps for its scripts: reused only once their reply is read."""

    async def test_one_lane_serves_message_after_message(self, redis_store: RedisSessionStore) -> None:
        """Messages one after another reuse one kept connection; closing the store closes it."""
        for i in range(3):
            begin = await redis_store.begin(SENDER, f"SM{i}", rate_limit=5, lock_wait_s=0.1)
            await redis_store.finish(SENDER, f"SM{i}", begin.lock, Session(), "r")
        assert (len(redis_store._lanes), redis_store._lanes_open) == (1, 1)
        lane = redis_store._lanes[0]
        await redis_store.aclose()
        assert (redis_store._lanes, redis_store._lanes_open) == ([], 0)
        assert not lane.is_connected

    async def test_a_call_cancelled_mid_reply_closes_its_lane(self, redis_store: RedisSessionStore) -> None:
        """A call cancelled while waiting for its reply (what a timeout does) never leaves that reply to
        be read by the next call on the same connection: the connection is closed, not kept."""
        warm = await redis_store.begin(OTHER, "SMwarm", rate_limit=5, lock_wait_s=0.1)
        await redis_store.finish(OTHER, "SMwarm", warm.lock, None, "r")
        (lane,) = redis_store._lanes
        call = asyncio.create_task(redis_store.begin(SENDER, "SMcut", rate_limit=5, lock_wait_s=0.1))
        await asyncio.sleep(0)  # the script is sent on the kept lane; its reply is awaited
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert (redis_store._lanes, redis_store._lanes_open) == ([], 0)
        assert not lane.is_connected
        got = await redis_store.begin(OTHER, "SMnext", rate_limit=5, lock_wait_s=0.1)
        assert got.lock is not None and got.session is None

    async def test_a_lane_the_server_dropped_hands_the_call_to_the_pool(
        self, redis_store: RedisSessionStore, redis_client: aioredis.Redis
    ) -> None:
        """A kept connection Redis has closed (a restart, `timeout`, CLIENT KILL) costs no answer: the
        call goes through redis-py's pool instead, and the dead connection is dropped."""
        first = await redis_store.begin(SENDER, "SM1", rate_limit=5, lock_wait_s=0.1)
        await redis_store.finish(SENDER, "SM1", first.lock, Session(state="kept"), "r")
        (lane,) = redis_store._lanes
        host, port = lane._writer.get_extra_info("sockname")[:2]  # type: ignore[attr-defined]
        assert await redis_client.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")
        again = await redis_store.begin(SENDER, "SM2", rate_limit=5, lock_wait_s=0.1)
        assert again.lock is not None and again.session == Session(state="kept")
        assert lane not in redis_store._lanes and redis_store._lanes_open == len(redis_store._lanes)

    async def test_past_the_lanes_calls_share_the_clients_pool(
        self, redis_store: RedisSessionStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """More calls at once than there are lanes: the rest go through redis-py's pool, all answered."""
        monkeypatch.setattr(redis_store_module, "MAX_LANES", 2)
        senders = [f"+1415555{i:04d}" for i in range(8)]
        begun = await asyncio.gather(*(redis_store.begin(s, f"SM{s}", rate_limit=5, lock_wait_s=0.1) for s in senders))
        assert all(b.lock is not None for b in begun)
        assert redis_store._lanes_open == 2
        await asyncio.gather(
            *(redis_store.finish(s, f"SM{s}", b.lock, Session(), "r") for s, b in zip(senders, begun, strict=True))
        )
        for s in senders:
            assert (await redis_store.begin(s, f"SM{s}", rate_limit=5, lock_wait_s=0.1)).duplicate == "r"
