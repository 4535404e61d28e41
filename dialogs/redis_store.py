"""The Redis session store: shared by every replica, two round trips per message.

Keys come from `KeyBuilder` (dialogs/store.py), under the configured prefix and a
``{<sender>}`` hash tag: ``s`` session JSON, ``r:<MessageSid>`` stored reply, ``l`` lock
token (a lease of LOCK_LEASE_S, renewed while held), ``rt`` GCRA arrival time, ``rn`` until when the
"slow down" notice was given, ``o`` opt-out flag. Every script touches the keys of one sender only,
all in one hash slot, so the same scripts run on a single Redis and on Redis Cluster.

On a single Redis the two scripts of a message go over connections the store keeps for them
(`_on_lane`), not through redis-py's pool; anything else (and every call on a Cluster) does.

Scripts answer with flat name/value pairs (``{'lock', 1, 'session', json}``), decoded
into a dict by name (`_named`), never by position.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.utils import HIREDIS_AVAILABLE

if HIREDIS_AVAILABLE:
    import hiredis

from dialogs.session import Session
from dialogs.store import LOCK_LEASE_S, REPLY_TTL_S, Begin, KeyBuilder, Rate, SessionStore, StoreUnavailable
from dialogs.timers import Deadlines

T = TypeVar("T")
CALL_TIMEOUT_S = 2.0  # a Redis call slower than this is a Redis in trouble: answer without it
MAX_CONNECTIONS = 200  # to Redis from one process, all told
MAX_LANES = 150  # of those, kept by the store for its scripts; the client's pool has the rest

# KEYS: reply, rate, notice, lock, session   ARGV: token ('' takes no lock), lease_ms, now_ms, interval_ms, burst_ms
# GCRA exactly as Rate.admit: the memory store runs the same arithmetic in Python.
_BEGIN = """
local r = redis.call('GET', KEYS[1])
if r then return {'duplicate', r} end
local now = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[2]) or now)
if tat < now then tat = now end
local new_tat = tat + tonumber(ARGV[4])
if new_tat - now > tonumber(ARGV[5]) then
  local wait = new_tat - now - tonumber(ARGV[5])
  if tonumber(redis.call('GET', KEYS[3]) or 0) <= now then  -- the notice is due again once admitted again
    redis.call('SET', KEYS[3], string.format('%d', now + wait), 'PX', wait)
    return {'limited', 1, 'notice', 1}
  end
  return {'limited', 1}
end
redis.call('SET', KEYS[2], string.format('%d', new_tat), 'PX', new_tat - now)
if ARGV[1] ~= '' and redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local session = redis.call('GET', KEYS[5])
  if session then return {'lock', 1, 'session', session} end
  return {'lock', 1}
end
return {}
"""

# KEYS: lock, session, reply   ARGV: token, lease_ms   (a reply stored meanwhile wins: a replay arriving
# mid-answer gets its first delivery's reply and never runs twice)
_RELOCK = """
local r = redis.call('GET', KEYS[3])
if r then return {'duplicate', r} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local session = redis.call('GET', KEYS[2])
  if session then return {'lock', 1, 'session', session} end
  return {'lock', 1}
end
return {}
"""

# KEYS: lock   ARGV: token, lease_ms
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return {'renewed', redis.call('PEXPIRE', KEYS[1], ARGV[2])} end
return {}
"""

# KEYS: lock   ARGV: token
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

# KEYS: session, reply, lock   ARGV: token, session_json ('' deletes), ttl, reply, reply_ttl (0: keep none)
_FINISH = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) == ARGV[1] then
  if ARGV[2] == '' then redis.call('DEL', KEYS[1])
  else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
  redis.call('DEL', KEYS[3])
end
if ARGV[5] ~= '0' then redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5]) end
return 1
"""


def _named(reply: list[Any]) -> dict[str, Any]:
    """A script's flat ``name, value, ...`` reply as a dict by name."""
    return {name.decode(): value for name, value in zip(reply[::2], reply[1::2], strict=True)}


class _Script:
    """A Lua script called by EVALSHA directly: redis-py's Script wrapper costs more per call."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


class _HiredisPacking(AbstractConnection):
    """Commands packed by hiredis in C, as redis-py's synchronous client packs them (its own
    `HiredisRespSerializer`); its asyncio client packs in Python, ~8 us for one EVALSHA of ours.
    The scripts' calls (a one-word name, arguments we built) go to hiredis as they are: the
    serializer's pass over every argument (names of two words, bytearrays) is for other callers."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        if args[0] in _SCRIPT_CALLS:
            try:
                return [hiredis.pack_command(args)]
            except TypeError:
                pass  # the serializer raises the DataError redis-py callers expect
        packed: list[bytes] = self._packer.pack(*args)
        return packed


_SCRIPT_CALLS = frozenset({"EVALSHA", "EVAL"})


def _packed_by_hiredis(client: redis.Redis) -> redis.Redis:
    """`client` with its pool making hiredis-packing connections of whatever kind the URL chose
    (TCP, TLS, Unix socket); unchanged without a hiredis redis-py can use."""
    if HIREDIS_AVAILABLE:
        pool = client.connection_pool
        base = pool.connection_class
        pool.connection_class = type(f"Hiredis{base.__name__}", (_HiredisPacking, base), {})
    return client


class RedisSessionStore(SessionStore):
    def __init__(
        self,
        client: redis.Redis | RedisCluster,
        session_ttl_s: int,
        prefix: str = "operator:",
        clock: Callable[[], float] = time.time,
        *,
        lock_lease_s: float = LOCK_LEASE_S,
    ) -> None:
        super().__init__(session_ttl_s, clock, lock_lease_s=lock_lease_s, keys=KeyBuilder(prefix))
        self.client = client
        self.prefix = prefix
        # A single Redis: the scripts go over connections the store keeps ("lanes"), one call per
        # connection at a time, not through redis-py's pool, whose checkout, release, retry and metrics
        # hooks cost about as much as the round trip itself (~15 us a command, two per message). A
        # Cluster client routes each call by its keys: it keeps redis-py's path.
        self._lane_pool = client.connection_pool if isinstance(client, redis.Redis) else None
        self._lanes: list[AbstractConnection] = []  # idle, the latest kept last
        self._lanes_open = 0
        self._closing = False
        self._deadlines = Deadlines(CALL_TIMEOUT_S)  # asyncio.timeout's semantics, without a loop timer per call
        self._begin_script = _Script(_BEGIN)
        self._relock_script = _Script(_RELOCK)
        self._renew_script = _Script(_RENEW)
        self._finish_script = _Script(_FINISH)
        self._release_script = _Script(_RELEASE)

    @classmethod
    def from_url(
        cls,
        url: str,
        session_ttl_s: int,
        prefix: str = "operator:",
        clock: Callable[[], float] = time.time,
        *,
        cluster: bool = False,
        lock_lease_s: float = LOCK_LEASE_S,
    ) -> RedisSessionStore:
        """A pooled client; `cluster` for a Redis Cluster URL (any one node; the rest are discovered).

        No socket_timeout (redis-py 6+ defaults it to 5 s, so it is turned off explicitly):
        redis-py implements it with a task per command sent. Each store
        call is bounded by one deadline instead (`asyncio.timeout`'s semantics, dialogs/timers.py;
        see `_call`), and a connection whose read was cancelled is dropped (by redis-py, and by
        `_on_lane`), so no stale reply is ever read.
        """
        client: redis.Redis | RedisCluster
        if cluster:
            client = RedisCluster.from_url(url, socket_connect_timeout=CALL_TIMEOUT_S, socket_timeout=None)
        else:
            client = _packed_by_hiredis(
                redis.Redis.from_url(
                    url,
                    socket_connect_timeout=CALL_TIMEOUT_S,
                    socket_timeout=None,
                    health_check_interval=30,
                    max_connections=MAX_CONNECTIONS - MAX_LANES,
                )
            )
        return cls(client, session_ttl_s, prefix, clock, lock_lease_s=lock_lease_s)

    async def _call(self, aw: Awaitable[T]) -> T:
        """One Redis call under the store's timeout; every failure becomes StoreUnavailable."""
        try:
            async with self._deadlines():
                return await aw
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def _run(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        return await self._eval(script, len(keys), *keys, *args)

    async def _eval(self, script: _Script, *numkeys_keys_args: Any) -> Any:
        """EVALSHA under the store's timeout, as `_call` (written out: this runs twice per message,
        and each coroutine layer between a reply and its reader is paid on every resume)."""
        try:
            async with self._deadlines():
                pool = self._lane_pool
                if pool is None or (not self._lanes and self._lanes_open >= MAX_LANES):
                    return await self._pooled(script, numkeys_keys_args)
                return await self._on_lane(pool, script, numkeys_keys_args)
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def _pooled(self, script: _Script, args: tuple[Any, ...]) -> Any:
        """The script through redis-py's client: its pool, and its retries on a broken connection."""
        try:
            return await self.client.execute_command("EVALSHA", script.sha, *args)
        except NoScriptError:  # a restarted or new Redis: load it once, EVALSHA from then on
            return await self.client.execute_command("EVAL", script.text, *args)

    async def _on_lane(self, pool: redis.ConnectionPool, script: _Script, args: tuple[Any, ...]) -> Any:
        """The script over a kept connection (made on first use, health-checked by redis-py as the
        pool's are). A connection is kept again only once its reply has been read: one that failed or
        was cancelled mid-call (a timeout) is closed, and a broken one hands the call to `_pooled`,
        which retries it as redis-py retries any call."""
        if self._lanes:
            lane = self._lanes.pop()
        else:
            lane = pool.make_connection()  # type: ignore[no-untyped-call]
            self._lanes_open += 1
        try:
            try:
                await lane.send_command("EVALSHA", script.sha, *args)
                reply = await lane.read_response()
            except NoScriptError:
                await lane.send_command("EVAL", script.text, *args)
                reply = await lane.read_response()
        except BaseException as exc:
            self._lanes_open -= 1
            await lane.disconnect(nowait=True)
            if isinstance(exc, (RedisConnectionError, OSError)):
                return await self._pooled(script, args)
            raise
        if self._closing:
            self._lanes_open -= 1
            await lane.disconnect()
        else:
            self._lanes.append(lane)
        return reply

    async def _begin(self, sender: str, sid: str, token: str, now_ms: int, rate: Rate) -> Begin:
        keys = self.keys
        got = _named(
            await self._eval(
                self._begin_script,
                5,
                keys.reply(sender, sid),
                keys.rate(sender),
                keys.notice(sender),
                keys.lock(sender),
                keys.session(sender),
                token,
                self.lease_ms,
                now_ms,
                rate.interval_ms,
                rate.burst_ms,
            )
        )
        if "duplicate" in got:
            return Begin(duplicate=got["duplicate"].decode())
        if "limited" in got:
            return Begin(limited=True, notice="notice" in got)
        if "lock" in got:
            return Begin(lock=token, session=Session.loads(got.get("session")))
        return Begin()

    async def _relock(self, sender: str, sid: str, token: str) -> Begin | None:
        keys = self.keys
        got = _named(
            await self._run(
                self._relock_script,
                [keys.lock(sender), keys.session(sender), keys.reply(sender, sid)],
                [token, self.lease_ms],
            )
        )
        if "duplicate" in got:
            return Begin(duplicate=got["duplicate"].decode())
        if "lock" not in got:
            return None
        return Begin(lock=token, session=Session.loads(got.get("session")))

    async def _renew(self, sender: str, token: str) -> bool:
        got = _named(await self._run(self._renew_script, [self.keys.lock(sender)], [token, self.lease_ms]))
        return bool(got.get("renewed"))

    async def _release(self, sender: str, token: str) -> None:
        await self._run(self._release_script, [self.keys.lock(sender)], [token])

    async def _finish(
        self, sender: str, message_sid: str, lock: str | None, session: Session | None, reply: str
    ) -> None:
        keys = self.keys
        await self._eval(
            self._finish_script,
            3,
            keys.session(sender),
            keys.reply(sender, message_sid),
            keys.lock(sender),
            lock or "",
            "" if session is None else session.dumps(),
            self.key_ttl_s,
            reply,
            REPLY_TTL_S if message_sid else 0,
        )

    async def load(self, sender: str) -> Session | None:
        return Session.loads(await self._call(self.client.get(self.keys.session(sender))))

    async def set_opted_out(self, sender: str, opted_out: bool) -> None:
        key = self.keys.opt_out(sender)
        await self._call(self.client.set(key, "1") if opted_out else self.client.delete(key))

    async def is_opted_out(self, sender: str) -> bool:
        return bool(await self._call(self.client.exists(self.keys.opt_out(sender))))

    async def ping(self) -> None:
        await self._call(self.client.ping())

    async def aclose(self) -> None:
        await super().aclose()
        self._deadlines.clear()
        self._closing = True  # a lane still in a call is closed when it comes back
        idle, self._lanes = self._lanes, []
        self._lanes_open -= len(idle)
        for lane in idle:
            await lane.disconnect()
        await self.client.aclose()
