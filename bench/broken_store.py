"""`operator serve` with a deliberately broken Redis store: the control run of bench/scaleout.py.

The store's guarantees are removed on purpose, so the scale-out check can show that it sees
their absence (a check that cannot fail proves nothing). BENCH_BROKEN picks the break:

    lock (default)  the per-sender lock is taken with a plain SET (no NX), so one sender's
                    messages run concurrently, and the stored reply of a MessageSid is never
                    looked up, so a replayed SID runs again
    keys            every key is built without the sender: all senders share one session

Run: BENCH_BROKEN=lock python bench/broken_store.py serve --host 127.0.0.1 --port PORT (settings
from the env, as `operator serve`). hypercorn runs in this process (one worker), so the patch holds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import services
from bot.cli import main
from dialogs import redis_store
from dialogs.redis_store import RedisSessionStore

# As dialogs/redis_store._BEGIN, without the stored-reply lookup and without NX on the lock.
_BEGIN_BROKEN = """
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], 120) end
if n > tonumber(ARGV[3]) then return {0, n} end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
return {0, n, 1, redis.call('GET', KEYS[4])}
"""


class BrokenRedisStore(RedisSessionStore):
    """RedisSessionStore with its lock and its duplicate check removed (see the module docstring)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._begin_script = redis_store._Script(_BEGIN_BROKEN)


class SharedKeysStore(RedisSessionStore):
    """RedisSessionStore whose keys forget the sender: one session for everybody."""

    def _key(self, sender: str, name: str) -> str:
        return super()._key("shared", name)


BREAKS = {"lock": BrokenRedisStore, "keys": SharedKeysStore}


def patch(kind: str) -> None:
    """`build_store` builds the broken store from here on."""
    services.RedisSessionStore = BREAKS[kind]  # type: ignore[misc]


if __name__ == "__main__":
    patch(os.environ.get("BENCH_BROKEN", "lock"))
    raise SystemExit(main(sys.argv[1:]))
