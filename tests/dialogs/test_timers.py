"""dialogs/timers.py: many timers on one loop timer, and `asyncio.timeout`'s semantics on top of them."""

from __future__ import annotations

import asyncio

import pytest

from dialogs.timers import Deadlines, Timers

FAST = 0.001  # sweep resolution for tests: nothing below waits on the clock, only on what fires


class TestTimers:
    async def test_a_due_key_fires_once_and_a_disarmed_one_never(self) -> None:
        """Keys fire when due, each once; a disarmed key and one not yet due stay silent."""
        fired: list[str] = []
        done = asyncio.Event()
        timers: Timers[str] = Timers(lambda key: (fired.append(key), done.set()), FAST)
        timers.arm("due", 0)
        timers.arm("disarmed", 0)
        timers.arm("later", 3600)
        assert timers.disarm("disarmed")
        await asyncio.wait_for(done.wait(), 5)
        assert fired == ["due"]
        assert len(timers) == 1 and not timers.disarm("due") and timers.disarm("later")
        timers.clear()

    async def test_firing_may_arm_again(self) -> None:
        """A callback that arms a key (a lease renewing itself) is swept like any other."""
        fired: list[int] = []
        done = asyncio.Event()

        def fire(n: int) -> None:
            fired.append(n)
            if n < 3:
                timers.arm(n + 1, 0)
            else:
                done.set()

        timers: Timers[int] = Timers(fire, FAST)
        timers.arm(1, 0)
        await asyncio.wait_for(done.wait(), 5)
        assert fired == [1, 2, 3] and len(timers) == 0


class TestDeadlines:
    async def test_a_block_past_its_deadline_raises_timeout_error(self) -> None:
        """As asyncio.timeout: the task is cancelled, the block raises TimeoutError, the task is whole again."""
        deadlines = Deadlines(0, FAST)
        with pytest.raises(TimeoutError):
            async with deadlines():
                await asyncio.Event().wait()
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0)  # no cancellation left pending for the next await

    async def test_a_block_done_in_time_leaves_nothing_armed(self) -> None:
        deadlines = Deadlines(3600, FAST)
        async with deadlines():
            await asyncio.sleep(0)
        assert len(deadlines._timers) == 0

    async def test_a_cancellation_from_elsewhere_passes_through(self) -> None:
        """Cancelling the task inside a block is a CancelledError, not a timeout, and disarms it."""
        deadlines = Deadlines(3600, FAST)
        entered = asyncio.Event()

        async def block() -> None:
            async with deadlines():
                entered.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(block())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(deadlines._timers) == 0

    async def test_many_blocks_each_get_their_own_verdict(self) -> None:
        """Blocks sharing the sweep: the slow ones time out, the quick ones finish."""
        deadlines = Deadlines(0.05, FAST)
        release = asyncio.Event()

        async def quick() -> str:
            async with deadlines():
                await asyncio.sleep(0)
            return "done"

        async def slow() -> str:
            try:
                async with deadlines():
                    await release.wait()
            except TimeoutError:
                return "timed out"
            return "done"

        results = await asyncio.gather(*(quick() if i % 2 else slow() for i in range(10)))
        assert results == ["timed out", "done"] * 5
