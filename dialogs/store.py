"""Session storage behind one interface: Redis for real deployments, memory for one process.

A message costs two store round trips: `begin` (reply seen before? rate limit, per-sender
lock, session load — one Lua script in Redis) and `finish` (session and reply saved, lock
released — one more). While an answer is worked on, the lock's short lease is renewed in
the background (one small call every `lock_lease_s / 3`), so a crashed holder frees its
sender within `lock_lease_s`. Both implementations pass the same contract tests
(tests/dialogs/test_store.py) and build their keys with the same `KeyBuilder`.

Rate limit: GCRA, per sender. `rate_limit` messages a minute, at most `rate_limit` at once;
each message earns its place back after `60 s / rate_limit`. No window boundary to burst across.
The first limited message of a spell is flagged `notice` (one polite reply, then silence).

Errors:
    StoreUnavailable    the store cannot be reached; stateless commands still answer.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from dialogs.session import Session
from dialogs.timers import Timers

REPLY_TTL_S = 24 * 3600  # Twilio retries within seconds; a day is generous
EXPIRED_GRACE_S = 24 * 3600  # an expired session is kept this long to say "that conversation expired"
LOCK_LEASE_S = 5.0  # default lease; renewed every third of it while the answer is worked on
MAX_HOLD_S = 120.0  # renewal stops after this long whatever happens (no answer takes it)
RELEASE_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # retries of an orphaned lock's release, ~30 s in all
LOCK_POLL_S = 0.02
RATE_PERIOD_MS = 60_000


class StoreUnavailable(Exception):
    """The session store cannot be reached."""


@dataclass(frozen=True, slots=True)
class KeyBuilder:
    """Every key of one sender: ``<prefix>{<sender>}:<part>``. The hash tag keeps a sender's keys
    in one Redis Cluster slot, so each script touches one slot. The memory store uses the same keys."""

    prefix: str = "operator:"

    def build(self, sender: str, part: str) -> str:
        return f"{self.prefix}{{{sender}}}:{part}"

    def session(self, sender: str) -> str:
        return self.build(sender, "s")

    def reply(self, sender: str, message_sid: str) -> str:
        return self.build(sender, "r:" + message_sid)  # by sender AND sid: another sender's sid finds nothing

    def lock(self, sender: str) -> str:
        return self.build(sender, "l")

    def rate(self, sender: str) -> str:
        return self.build(sender, "rt")  # GCRA: the theoretical arrival time, ms

    def notice(self, sender: str) -> str:
        return self.build(sender, "rn")  # set while the "slow down" notice has been sent

    def opt_out(self, sender: str) -> str:
        return self.build(sender, "o")


@dataclass(frozen=True, slots=True)
class Rate:
    """GCRA parameters for `limit` messages a minute, in integer ms (Lua and Python agree exactly)."""

    interval_ms: int
    burst_ms: int

    @classmethod
    def per_minute(cls, limit: int) -> Rate:
        interval = math.ceil(RATE_PERIOD_MS / max(1, limit))
        return cls(interval, interval * max(1, limit))

    def admit(self, tat_ms: int | None, now_ms: int) -> tuple[int | None, int]:
        """(new theoretical arrival time, 0) when admitted, else (None, ms until one would be)."""
        new_tat = max(tat_ms or now_ms, now_ms) + self.interval_ms
        if new_tat - now_ms > self.burst_ms:
            return None, new_tat - now_ms - self.burst_ms
        return new_tat, 0


@dataclass(frozen=True, slots=True)
class Begin:
    """What the store knows about an incoming message before it is handled."""

    duplicate: str | None = None  # the stored reply when this sender sent this MessageSid before
    limited: bool = False  # over the sender's rate: nothing runs
    notice: bool = False  # the first limited message of this spell: say so, once
    lock: str | None = None  # lock token; None when limited, not asked for, or held by another message
    session: Session | None = None


class SessionStore(ABC):
    def __init__(
        self,
        session_ttl_s: int,
        clock: Callable[[], float] = time.time,
        *,
        lock_lease_s: float = LOCK_LEASE_S,
        keys: KeyBuilder | None = None,
    ) -> None:
        self.session_ttl_s = session_ttl_s
        self.clock = clock
        self.lock_lease_s = lock_lease_s
        self.keys = keys or KeyBuilder()
        # Lock tokens: unique across processes by the random prefix, cheap per message by the counter.
        self._token_prefix = secrets.token_hex(6) + ":"
        self._tokens = itertools.count()
        self._releases: set[asyncio.Future[None]] = set()
        self._leases: dict[tuple[str, str], asyncio.Task[None]] = {}  # held past a third of the lease: renewing
        self._lease_timers: Timers[tuple[str, str]] = Timers(self._start_renewing)  # the rest
        self._rates: dict[int, Rate] = {}  # by limit: one per setting, not one per message

    @property
    def key_ttl_s(self) -> int:
        return self.session_ttl_s + EXPIRED_GRACE_S

    @property
    def lease_ms(self) -> int:
        return int(self.lock_lease_s * 1000)

    async def begin(
        self, sender: str, message_sid: str, *, rate_limit: int, lock_wait_s: float, lock: bool = True
    ) -> Begin:
        """Check for a duplicate, count the message, take the sender's lock and load the session.

        Waits up to `lock_wait_s` for a lock held by another message of the same sender.
        `lock=False` (keywords, blank messages) only checks the duplicate and counts the message.
        The lock, once taken, is renewed until `finish` or `release_later`.
        """
        token = f"{self._token_prefix}{next(self._tokens)}"
        rate = self._rates.get(rate_limit) or self._rates.setdefault(rate_limit, Rate.per_minute(rate_limit))
        try:
            first = await self._begin(sender, message_sid, token if lock else "", int(self.clock() * 1000), rate)
            if first.lock is not None:
                self._keep(sender, token)
            if first.duplicate is not None or first.limited or first.lock is not None or not lock:
                return first
            deadline = time.monotonic() + lock_wait_s
            while time.monotonic() < deadline:
                await asyncio.sleep(LOCK_POLL_S)
                # The holder may have been this very MessageSid (a replay arriving mid-answer):
                # then its stored reply is the answer, and nothing runs twice.
                got = await self._relock(sender, message_sid, token)
                if got is not None:
                    if got.lock is not None:
                        self._keep(sender, token)
                    return got
            return first
        except StoreUnavailable:
            if lock:  # the timed-out call may still take the lock when the store wakes
                self.release_later(sender, token)
            raise

    async def finish(
        self, sender: str, message_sid: str, lock: str | None, session: Session | None, reply: str
    ) -> None:
        """Save the session (None deletes it) and the reply, then release the lock if still ours.

        The session is written only while we hold the lock, so a holder that overran
        its lock cannot overwrite a newer conversation.
        """
        if lock is not None:
            self._let_go(sender, lock)
        await self._finish(sender, message_sid, lock, session, reply)

    def _keep(self, sender: str, token: str) -> None:
        """Renew the lock's lease every third of it until let go (or MAX_HOLD_S). Most answers take
        less than a third of the lease: a timer (a dict entry, dialogs/timers.py) is all they cost."""
        self._lease_timers.arm((sender, token), self.lock_lease_s / 3)

    def _start_renewing(self, key: tuple[str, str]) -> None:
        self._leases[key] = asyncio.ensure_future(self._renew_until_let_go(*key))

    def _let_go(self, sender: str, token: str) -> None:
        if not self._lease_timers.disarm((sender, token)):
            renewing = self._leases.pop((sender, token), None)
            if renewing is not None:
                renewing.cancel()

    async def _renew_until_let_go(self, sender: str, token: str) -> None:
        give_up_at = time.monotonic() + MAX_HOLD_S
        try:
            while time.monotonic() < give_up_at:
                try:
                    if not await self._renew(sender, token):
                        return  # lost it (the store was away longer than the lease): nothing to keep
                except StoreUnavailable:
                    pass
                await asyncio.sleep(self.lock_lease_s / 3)
        finally:
            if self._leases.get((sender, token)) is asyncio.current_task():
                del self._leases[(sender, token)]

    def release_later(self, sender: str, token: str) -> None:
        """A call that timed out may still run when the store wakes up and take the lock with
        nobody left to release it: keep trying to release it (if still ours) for a while."""
        self._let_go(sender, token)
        task = asyncio.ensure_future(self._release_when_back(sender, token))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release_when_back(self, sender: str, token: str) -> None:
        answered = 0
        for delay in RELEASE_BACKOFF_S:
            await asyncio.sleep(delay)
            try:
                await self._release(sender, token)
            except StoreUnavailable:
                continue
            answered += 1
            if answered == 2:  # the second answer comes after anything sent before the stall
                return

    @abstractmethod
    async def _release(self, sender: str, token: str) -> None:
        """Delete the sender's lock if it holds `token`."""

    @abstractmethod
    async def _renew(self, sender: str, token: str) -> bool:
        """Extend the lock's lease if it holds `token`; False when it does not."""

    @abstractmethod
    async def _begin(self, sender: str, sid: str, token: str, now_ms: int, rate: Rate) -> Begin:
        """One atomic step: duplicate?, rate, then (when `token`) the lock and the session."""

    @abstractmethod
    async def _relock(self, sender: str, sid: str, token: str) -> Begin | None:
        """Retry the lock: None while another holds it; Begin(duplicate=reply) if `sid` was answered
        meanwhile; else Begin(lock=token, session=...)."""

    @abstractmethod
    async def _finish(
        self, sender: str, message_sid: str, lock: str | None, session: Session | None, reply: str
    ) -> None: ...

    @abstractmethod
    async def load(self, sender: str) -> Session | None: ...

    @abstractmethod
    async def set_opted_out(self, sender: str, opted_out: bool) -> None: ...

    @abstractmethod
    async def is_opted_out(self, sender: str) -> bool: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot be reached."""

    async def aclose(self) -> None:
        """Stop renewing and retrying releases (the leases free the locks); subclasses close their clients."""
        self._lease_timers.clear()
        for pending in [*self._releases, *self._leases.values()]:
            pending.cancel()


class MemorySessionStore(SessionStore):
    """One process only (said at start-up); same semantics as Redis, expiry by the injected clock."""

    def __init__(
        self,
        session_ttl_s: int,
        clock: Callable[[], float] = time.time,
        *,
        lock_lease_s: float = LOCK_LEASE_S,
        keys: KeyBuilder | None = None,
    ) -> None:
        super().__init__(session_ttl_s, clock, lock_lease_s=lock_lease_s, keys=keys)
        self._data: dict[str, tuple[float, object]] = {}  # key -> (expires_at, value)
        self._sweep_at = 10_000

    def _get(self, key: str) -> object | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._data[key]
            return None
        return entry[1]

    def _set(self, key: str, value: object, ttl_s: float) -> None:
        self._data[key] = (self.clock() + ttl_s, value)
        if len(self._data) > self._sweep_at:  # drop expired keys now and then; amortised O(1)
            now = self.clock()
            self._data = {k: v for k, v in self._data.items() if v[0] > now}
            self._sweep_at = max(10_000, 2 * len(self._data))

    def _take_lock(self, sender: str, token: str) -> bool:
        if self._get(self.keys.lock(sender)) is not None:
            return False
        self._set(self.keys.lock(sender), token, self.lock_lease_s)
        return True

    def _session(self, sender: str) -> Session | None:
        raw = self._get(self.keys.session(sender))
        return Session.loads(raw) if isinstance(raw, str) else None

    async def _begin(self, sender: str, sid: str, token: str, now_ms: int, rate: Rate) -> Begin:
        stored = self._get(self.keys.reply(sender, sid))
        if isinstance(stored, str):
            return Begin(duplicate=stored)
        tat = self._get(self.keys.rate(sender))
        new_tat, wait_ms = rate.admit(tat if isinstance(tat, int) else None, now_ms)
        if new_tat is None:
            notice = self._get(self.keys.notice(sender)) is None
            if notice:
                self._set(self.keys.notice(sender), True, wait_ms / 1000)
            return Begin(limited=True, notice=notice)
        self._set(self.keys.rate(sender), new_tat, (new_tat - now_ms) / 1000)
        if not token or not self._take_lock(sender, token):
            return Begin()
        return Begin(lock=token, session=self._session(sender))

    async def _release(self, sender: str, token: str) -> None:
        if self._get(self.keys.lock(sender)) == token:
            del self._data[self.keys.lock(sender)]

    async def _renew(self, sender: str, token: str) -> bool:
        if self._get(self.keys.lock(sender)) != token:
            return False
        self._set(self.keys.lock(sender), token, self.lock_lease_s)
        return True

    async def _relock(self, sender: str, sid: str, token: str) -> Begin | None:
        stored = self._get(self.keys.reply(sender, sid))
        if isinstance(stored, str):
            return Begin(duplicate=stored)
        if not self._take_lock(sender, token):
            return None
        return Begin(lock=token, session=self._session(sender))

    async def _finish(
        self, sender: str, message_sid: str, lock: str | None, session: Session | None, reply: str
    ) -> None:
        if lock is not None and self._get(self.keys.lock(sender)) == lock:
            if session is None:
                self._data.pop(self.keys.session(sender), None)
            else:
                self._set(self.keys.session(sender), session.dumps(), self.key_ttl_s)
            del self._data[self.keys.lock(sender)]
        if message_sid:
            self._set(self.keys.reply(sender, message_sid), reply, REPLY_TTL_S)

    async def load(self, sender: str) -> Session | None:
        return self._session(sender)

    async def set_opted_out(self, sender: str, opted_out: bool) -> None:
        if opted_out:
            self._data[self.keys.opt_out(sender)] = (float("inf"), True)
        else:
            self._data.pop(self.keys.opt_out(sender), None)

    async def is_opted_out(self, sender: str) -> bool:
        return self._get(self.keys.opt_out(sender)) is not None

    async def ping(self) -> None:
        return None
