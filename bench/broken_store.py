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
from dialogs.store import KeyBuilder

# As dialogs/redis_store._BEGIN (same KEYS and ARGV), without the stored-reply lookup, without
# the rate, and without NX on the lock.
_BEGIN_BROKEN = """
if ARGV[1] == '' then return {} end
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
local session = redis.call('GET', KEYS[5])
if session then return {'lock', 1, 'session', session} end
return {'lock', 1}
"""


class BrokenRedisStore(RedisSessionStore):
    """RedisSessionStore with its lock and its duplicate check removed (see the module docstring)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._begin_script = redis_store._Script(_BEGIN_BROKEN)


class _SharedKeys(KeyBuilder):
    def build(self, sender: str, part: str) -> str:
        return super().build("shared", part)


class SharedKeysStore(RedisSessionStore):
    """RedisSessionStore whose keys forget the sender: one session for everybody."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.keys = _SharedKeys(self.prefix)


BREAKS = {"lock": BrokenRedisStore, "keys": SharedKeysStore}


def patch(kind: str) -> None:
    """`build_store` builds the broken store from here on."""
    services.RedisSessionStore = BREAKS[kind]  # type: ignore[misc]


if __name__ == "__main__":
    patch(os.environ.get("BENCH_BROKEN", "lock"))
    raise SystemExit(main(sys.argv[1:]))
