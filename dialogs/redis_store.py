"""The Redis session store: shared by every replica, two round trips per message.

Keys, under the configured prefix and a ``{<sender>}`` hash tag: ``s`` session JSON,
``r:<MessageSid>`` stored reply, ``l`` lock token, ``rl:<minute>`` rate counter, ``o``
opt-out flag. Every script touches the keys of one sender only, all in one hash slot,
so the same scripts run on a single Redis and on Redis Cluster (REDIS_CLUSTER=1).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError, RedisError

from dialogs.session import Session
from dialogs.store import LOCK_TTL_S, REPLY_TTL_S, Begin, SessionStore, StoreUnavailable

T = TypeVar("T")
CALL_TIMEOUT_S = 2.0  # a Redis call slower than this is a Redis in trouble: answer without it

# KEYS: reply, rate, lock, session   ARGV: token, lock_ms, rate_limit
_BEGIN = """
local r = redis.call('GET', KEYS[1])
if r then return {1, r} end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], 120) end
if n > tonumber(ARGV[3]) then return {0, n} end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, n, 1, redis.call('GET', KEYS[4])}
end
return {0, n}
"""

# KEYS: lock, session, reply   ARGV: token, lock_ms   (a reply stored meanwhile wins: {2, reply})
_RELOCK = """
local r = redis.call('GET', KEYS[3])
if r then return {2, r} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('GET', KEYS[2])}
end
return {0}
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


class _Script:
    """A Lua script called by EVALSHA directly: redis-py's Script wrapper costs more per call."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


class RedisSessionStore(SessionStore):
    def __init__(self, client: redis.Redis | RedisCluster, session_ttl_s: int, prefix: str = "operator:",
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(session_ttl_s, clock)
        self.client = client
        self.prefix = prefix
        self._begin_script = _Script(_BEGIN)
        self._relock_script = _Script(_RELOCK)
        self._finish_script = _Script(_FINISH)
        self._release_script = _Script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, session_ttl_s: int, prefix: str = "operator:",
                 clock: Callable[[], float] = time.time, *, cluster: bool = False) -> RedisSessionStore:
        """A pooled client; `cluster` for a Redis Cluster URL (any one node; the rest are discovered).

        No socket_timeout: redis-py implements it with a task per command sent. Each store
        call is bounded by one `asyncio.timeout` instead (see `_call`), and redis-py drops a
        connection whose read was cancelled, so no stale reply is ever read.
        """
        client: redis.Redis | RedisCluster
        if cluster:
            client = RedisCluster.from_url(url, socket_connect_timeout=CALL_TIMEOUT_S)
        else:
            client = redis.Redis.from_url(url, socket_connect_timeout=CALL_TIMEOUT_S, health_check_interval=30,
                                          max_connections=200)
        return cls(client, session_ttl_s, prefix, clock)

    def _key(self, sender: str, name: str) -> str:
        return f"{self.prefix}{{{sender}}}:{name}"

    async def _call(self, aw: Awaitable[T]) -> T:
        """One Redis call under the store's timeout; every failure becomes StoreUnavailable."""
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                return await aw
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def _run(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        async def run() -> Any:
            try:
                return await self.client.evalsha(script.sha, len(keys), *keys, *args)
            except NoScriptError:  # a restarted or new Redis: load it once, EVALSHA from then on
                return await self.client.eval(script.text, len(keys), *keys, *args)

        return await self._call(run())

    async def _begin(self, sender: str, sid: str, token: str, window: int, rate_limit: int) -> Begin:
        key = self._key
        res = await self._run(
            self._begin_script,
            [key(sender, "r:" + sid), key(sender, f"rl:{window}"), key(sender, "l"), key(sender, "s")],
            [token, int(LOCK_TTL_S * 1000), rate_limit],
        )
        if res[0] == 1:
            return Begin(duplicate=res[1].decode())
        if len(res) > 2:
            raw = res[3] if len(res) > 3 else None
            return Begin(count=int(res[1]), lock=token, session=Session.loads(raw))
        return Begin(count=int(res[1]))

    async def _relock(self, sender: str, sid: str, token: str) -> Begin | None:
        res = await self._run(self._relock_script,
                              [self._key(sender, "l"), self._key(sender, "s"), self._key(sender, "r:" + sid)],
                              [token, int(LOCK_TTL_S * 1000)])
        if res[0] == 2:
            return Begin(duplicate=res[1].decode())
        if res[0] != 1:
            return None
        return Begin(lock=token, session=Session.loads(res[1] if len(res) > 1 else None))

    async def _release(self, sender: str, token: str) -> None:
        await self._run(self._release_script, [self._key(sender, "l")], [token])

    async def finish(self, sender: str, message_sid: str, lock: str | None, session: Session | None,
                     reply: str) -> None:
        key = self._key
        await self._run(
            self._finish_script,
            [key(sender, "s"), key(sender, "r:" + message_sid), key(sender, "l")],
            [lock or "", "" if session is None else session.dumps(), self.key_ttl_s, reply,
             REPLY_TTL_S if message_sid else 0],
        )

    async def load(self, sender: str) -> Session | None:
        return Session.loads(await self._call(self.client.get(self._key(sender, "s"))))

    async def set_opted_out(self, sender: str, opted_out: bool) -> None:
        key = self._key(sender, "o")
        await self._call(self.client.set(key, "1") if opted_out else self.client.delete(key))

    async def is_opted_out(self, sender: str) -> bool:
        return bool(await self._call(self.client.exists(self._key(sender, "o"))))

    async def ping(self) -> None:
        await self._call(self.client.ping())

    async def aclose(self) -> None:
        await super().aclose()
        await self.client.aclose()
