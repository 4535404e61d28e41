"""Session storage behind one interface: Redis for real deployments, memory for one process.

A message costs two store round trips: `begin` (reply seen before? rate count,
per-sender lock, session load — one Lua script in Redis) and `finish` (session and
reply saved, lock released — one more). Both implementations pass the same
contract tests (tests/dialogs/test_store.py).

Errors:
    StoreUnavailable    the store cannot be reached; stateless commands still answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from dialogs.session import Session

REPLY_TTL_S = 24 * 3600  # Twilio retries within seconds; a day is generous
EXPIRED_GRACE_S = 24 * 3600  # an expired session is kept this long to say "that conversation expired"
LOCK_TTL_S = 30.0  # longer than any answer takes (monitors time out within 14 s); a crashed holder frees it
RELEASE_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # retries of an orphaned lock's release, ~30 s in all
LOCK_POLL_S = 0.02


class StoreUnavailable(Exception):
    """The session store cannot be reached."""


@dataclass(frozen=True, slots=True)
class Begin:
    """What the store knows about an incoming message before it is handled."""

    duplicate: str | None = None  # the stored reply when this MessageSid was handled before
    count: int = 0  # messages from this sender in the current rate window, this one included
    lock: str | None = None  # lock token; None when rate-limited or the lock could not be had
    session: Session | None = None


class SessionStore(ABC):
    def __init__(self, session_ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        self.session_ttl_s = session_ttl_s
        self.clock = clock
        # Lock tokens: unique across processes by the random prefix, cheap per message by the counter.
        self._token_prefix = secrets.token_hex(6) + ":"
        self._tokens = itertools.count()
        self._releases: set[asyncio.Future[None]] = set()

    @property
    def key_ttl_s(self) -> int:
        return self.session_ttl_s + EXPIRED_GRACE_S

    async def begin(self, sender: str, message_sid: str, *, rate_limit: int, lock_wait_s: float) -> Begin:
        """Check for a duplicate, count the message, take the sender's lock and load the session.

        Waits up to `lock_wait_s` for a lock held by another message of the same sender.
        """
        token = f"{self._token_prefix}{next(self._tokens)}"
        window = int(self.clock() // 60)
        try:
            first = await self._begin(sender, message_sid, token, window, rate_limit)
            if first.duplicate is not None or first.count > rate_limit or first.lock is not None:
                return first
            deadline = time.monotonic() + lock_wait_s
            while time.monotonic() < deadline:
                await asyncio.sleep(LOCK_POLL_S)
                # The holder may have been this very MessageSid (a replay arriving mid-answer):
                # then its stored reply is the answer, and nothing runs twice.
                got = await self._relock(sender, message_sid, token)
                if got is not None:
                    return dataclasses.replace(got, count=first.count)
            return first
        except StoreUnavailable:
            self.release_later(sender, token)
            raise

    def release_later(self, sender: str, token: str) -> None:
        """A call that timed out may still run when the store wakes up and take the lock with
        nobody left to release it: keep trying to release it (if still ours) for a while."""
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
    async def _begin(self, sender: str, sid: str, token: str, window: int, rate_limit: int) -> Begin: ...

    @abstractmethod
    async def _relock(self, sender: str, sid: str, token: str) -> Begin | None:
        """Retry the lock: None while another holds it; Begin(duplicate=reply) if `sid` was answered
        meanwhile; else Begin(lock=token, session=...)."""

    @abstractmethod
    async def finish(self, sender: str, message_sid: str, lock: str | None, session: Session | None,
                     reply: str) -> None:
        """Save the session (None deletes it) and the reply, then release the lock if still ours.

        The session is written only while we hold the lock, so a holder that overran
        its lock cannot overwrite a newer conversation.
        """

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
        """Stop retrying releases (the locks' TTL frees them); subclasses close their clients."""
        for task in list(self._releases):
            task.cancel()


class MemorySessionStore(SessionStore):
    """One process only (said at start-up); same semantics as Redis, expiry by the injected clock."""

    def __init__(self, session_ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        super().__init__(session_ttl_s, clock)
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
        if self._get("l:" + sender) is not None:
            return False
        self._set("l:" + sender, token, LOCK_TTL_S)
        return True

    def _session(self, sender: str) -> Session | None:
        raw = self._get("s:" + sender)
        return Session.loads(raw) if isinstance(raw, str) else None

    async def _begin(self, sender: str, sid: str, token: str, window: int, rate_limit: int) -> Begin:
        stored = self._get("r:" + sid)
        if isinstance(stored, str):
            return Begin(duplicate=stored)
        rate_key = f"rl:{sender}:{window}"
        count = int(self._get(rate_key) or 0) + 1  # type: ignore[call-overload]
        self._set(rate_key, count, 120)
        if count > rate_limit:
            return Begin(count=count)
        if not self._take_lock(sender, token):
            return Begin(count=count)
        return Begin(count=count, lock=token, session=self._session(sender))

    async def _release(self, sender: str, token: str) -> None:
        if self._get("l:" + sender) == token:
            del self._data["l:" + sender]

    async def _relock(self, sender: str, sid: str, token: str) -> Begin | None:
        stored = self._get("r:" + sid)
        if isinstance(stored, str):
            return Begin(duplicate=stored)
        if not self._take_lock(sender, token):
            return None
        return Begin(lock=token, session=self._session(sender))

    async def finish(self, sender: str, message_sid: str, lock: str | None, session: Session | None,
                     reply: str) -> None:
        if lock is not None and self._get("l:" + sender) == lock:
            if session is None:
                self._data.pop("s:" + sender, None)
            else:
                self._set("s:" + sender, session.dumps(), self.key_ttl_s)
            del self._data["l:" + sender]
        if message_sid:
            self._set("r:" + message_sid, reply, REPLY_TTL_S)

    async def load(self, sender: str) -> Session | None:
        return self._session(sender)

    async def set_opted_out(self, sender: str, opted_out: bool) -> None:
        if opted_out:
            self._data["o:" + sender] = (float("inf"), True)
        else:
            self._data.pop("o:" + sender, None)

    async def is_opted_out(self, sender: str) -> bool:
        return self._get("o:" + sender) is not None

    async def ping(self) -> None:
        return None
