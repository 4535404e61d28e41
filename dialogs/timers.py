"""Many short timers on one loop timer: the call timeouts and lock leases every message arms.

`asyncio.timeout` and `loop.call_later` arm a `TimerHandle` each: pushed on the loop's heap and
popped again later (fired or cancelled), several times per message, which is a measurable part
of what a message costs. Nearly all of ours are cancelled long before they are due, and none needs
to fire to the millisecond. `Timers` keeps them in a dict (arming and disarming are a dict insert
and a dict pop) and one loop timer, running only while something is armed, sweeps it every
`resolution_s`: a timer fires up to `resolution_s` late, never early.

`Deadlines` is `asyncio.timeout(delay_s)` on `Timers`, with its semantics: when the time is up the
task is cancelled and the `async with` raises `TimeoutError`; a cancellation from elsewhere passes
through as `CancelledError`.

Both belong to one event loop at a time (the one of the process; a test's next loop takes over).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
RESOLUTION_S = 0.1


class Timers(Generic[K]):
    """`fire(key)` once `delay_s` has passed since `arm(key, delay_s)`, unless `disarm(key)` came first."""

    def __init__(self, fire: Callable[[K], None], resolution_s: float = RESOLUTION_S) -> None:
        self.fire = fire
        self.resolution_s = resolution_s
        self._due: dict[K, float] = {}  # key -> loop time it fires at
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweep: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._due)

    def arm(self, key: K, delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests): what was armed on the old one died with it
            self._due.clear()
            self._loop, self._sweep = loop, None
        self._due[key] = loop.time() + delay_s
        if self._sweep is None:
            self._sweep = loop.call_later(self.resolution_s, self._run)

    def disarm(self, key: K) -> bool:
        """True when `key` was armed and had not fired."""
        return self._due.pop(key, None) is not None

    def clear(self) -> None:
        self._due.clear()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _run(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        due = [key for key, at in self._due.items() if at <= now]
        for key in due:
            del self._due[key]
        self._sweep = self._loop.call_later(self.resolution_s, self._run) if self._due else None
        for key in due:
            self.fire(key)


class Deadlines:
    """`async with deadlines():` bounds the block to `delay_s`, as `asyncio.timeout(delay_s)` does."""

    def __init__(self, delay_s: float, resolution_s: float = RESOLUTION_S) -> None:
        self.delay_s = delay_s
        self._timers: Timers[_Deadline] = Timers(_Deadline.expire, resolution_s)

    def __call__(self) -> _Deadline:
        return _Deadline(self._timers, self.delay_s)

    def clear(self) -> None:
        """Stop the sweep (at shutdown); blocks still running are no longer bounded."""
        self._timers.clear()


class _Deadline:
    __slots__ = ("_cancelling", "_delay_s", "_task", "_timers", "expired")

    def __init__(self, timers: Timers[_Deadline], delay_s: float) -> None:
        self._timers = timers
        self._delay_s = delay_s
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        self._task.cancel()

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline is kept only inside a task")
        self._task = task
        self._cancelling = task.cancelling()  # cancellations already pending are not ours
        self._timers.arm(self, self._delay_s)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.expired:
            self._timers.disarm(self)
            return
        # Ours was the cancellation: take it back, and say why, unless another one is pending too.
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
