"""What one process holds while the store is down: bounded, and keyed by sender and MessageSid."""

from __future__ import annotations

from bot.degraded import Degraded
from dialogs.store import MemorySessionStore
from tests.apps import FakeClock
from tests.phone import NUMBERS


class TestDegraded:
    def test_replies_are_keyed_by_sender_and_sid(self) -> None:
        """Another sender replaying a SID gets nothing of the first sender's."""
        degraded = Degraded(MemorySessionStore(60), clock=lambda: 1000.0)
        degraded.remember(NUMBERS[0], "SM1", "A's answer")
        assert degraded.begin(NUMBERS[0], "SM1", 10).duplicate == "A's answer"
        assert degraded.begin(NUMBERS[1], "SM1", 10).duplicate is None

    def test_memory_is_bounded(self) -> None:
        """A flood of SIDs and senders keeps at most `size` entries each; the newest stay."""
        degraded = Degraded(MemorySessionStore(60), clock=lambda: 1000.0, size=100)
        for i in range(10_000):
            degraded.remember(f"+1415666{i:04d}", f"SM{i}", "r")
            degraded.begin(f"+1415666{i:04d}", f"SMx{i}", 10)
        assert len(degraded._replies._items) == 100
        assert len(degraded._arrivals._items) == 100
        assert degraded.begin("+14156669999", "SM9999", 10).duplicate == "r"
        assert degraded.begin("+14156660000", "SM0", 10).duplicate is None

    def test_the_limit_is_the_store_s(self) -> None:
        """Same GCRA as the stores: N at once, then one notice, then silence; back after 60/N s."""
        clock = FakeClock(1000.0)
        degraded = Degraded(MemorySessionStore(60), clock=clock)
        verdicts = [degraded.begin(NUMBERS[0], f"SM{i}", 3) for i in range(5)]
        assert [(v.limited, v.notice) for v in verdicts] == [(False, False)] * 3 + [(True, True), (True, False)]
        clock.advance(20)
        assert not degraded.begin(NUMBERS[0], "SM9", 3).limited
