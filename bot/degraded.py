"""What one process keeps while the session store is down, so its promises still hold.

- `begin`: the rate limit (same GCRA as the store) and the duplicate check (replies by
  sender and MessageSid) move into this process. Both are bounded (LRU), so a flood of
  senders or SIDs costs at most MAX_ENTRIES entries each.
- `opt_out`: a STOP (or START) that could not be written is kept here, written by a
  background task when the store answers again, and consulted by every sender in this
  process (`is_opted_out`) meanwhile, so nothing is sent to that number.

Another replica does not see this process's memory: during an outage each replica
limits on its own, which at worst lets replicas x RATE_LIMIT_PER_MIN through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from bot.security import mask
from dialogs.store import Begin, Rate, SessionStore, StoreUnavailable

log = logging.getLogger(__name__)

MAX_ENTRIES = 10_000
FLUSH_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)  # then every 10 s until written
K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)


class Degraded:
    def __init__(self, store: SessionStore, clock: Callable[[], float] = time.time, size: int = MAX_ENTRIES) -> None:
        self.store = store
        self.clock = clock
        self._arrivals: _Lru[str, int] = _Lru(size)  # sender -> GCRA arrival time (ms)
        self._noticed: _Lru[str, int] = _Lru(size)  # sender -> ms until which the notice was given
        self._replies: _Lru[tuple[str, str], str] = _Lru(size)  # (sender, sid) -> reply
        self.pending_opt_outs: dict[str, bool] = {}
        self._flusher: asyncio.Task[None] | None = None

    def begin(self, sender: str, message_sid: str, rate_limit: int) -> Begin:
        """The store's `begin` without the store: duplicate?, then the rate. Never a lock or session."""
        if message_sid:
            stored = self._replies.get((sender, message_sid))
            if stored is not None:
                return Begin(duplicate=stored)
        now_ms = int(self.clock() * 1000)
        new_tat, wait_ms = Rate.per_minute(rate_limit).admit(self._arrivals.get(sender), now_ms)
        if new_tat is None:
            notice = (self._noticed.get(sender) or 0) <= now_ms
            if notice:
                self._noticed.put(sender, now_ms + wait_ms)
            return Begin(limited=True, notice=notice)
        self._arrivals.put(sender, new_tat)
        return Begin()

    def remember(self, sender: str, message_sid: str, reply: str) -> None:
        if message_sid:
            self._replies.put((sender, message_sid), reply)

    def opt_out(self, sender: str, opted_out: bool) -> None:
        """Keep an opt-out (or opt-in) the store could not take; write it when the store is back."""
        self.pending_opt_outs[sender] = opted_out
        log.warning(
            "opt-%s of %s kept in this process until the store is back", "out" if opted_out else "in", mask(sender)
        )
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())

    def written(self, sender: str) -> None:
        """The store took a newer opt-out/opt-in of `sender`: nothing of ours is pending."""
        self.pending_opt_outs.pop(sender, None)

    def is_opted_out(self, number: str) -> bool | None:
        """True/False when this process holds an unwritten opt-out/opt-in for `number`, else None."""
        return self.pending_opt_outs.get(number)

    async def _flush(self) -> None:
        attempt = 0
        while self.pending_opt_outs:
            await asyncio.sleep(FLUSH_BACKOFF_S[min(attempt, len(FLUSH_BACKOFF_S) - 1)])
            attempt += 1
            for sender, opted_out in list(self.pending_opt_outs.items()):
                try:
                    await self.store.set_opted_out(sender, opted_out)
                except StoreUnavailable:
                    break
                if self.pending_opt_outs.get(sender) == opted_out:  # not changed while we wrote it
                    del self.pending_opt_outs[sender]
                log.info("opt-%s of %s written to the store", "out" if opted_out else "in", mask(sender))

    async def aclose(self) -> None:
        """One last try to write what is pending, then stop."""
        if self._flusher is not None:
            self._flusher.cancel()
        for sender, opted_out in list(self.pending_opt_outs.items()):
            try:
                await self.store.set_opted_out(sender, opted_out)
            except StoreUnavailable:
                log.error(
                    "opt-%s of %s lost at shutdown: store unavailable", "out" if opted_out else "in", mask(sender)
                )
                continue
            del self.pending_opt_outs[sender]
