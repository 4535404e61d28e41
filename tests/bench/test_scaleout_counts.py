"""bench/scaleout.py's counters can fail: a broken store makes them non-zero, the real one keeps them 0.

A few senders only (the benchmark itself runs 200 in bench/run_all.py): two real `operator serve`
processes on one private redis-server, each run with the real store and with two deliberately
broken ones from bench/broken_store.py.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from bench import scaleout
from tests.servers.common import unavailable

SENDERS, CONCURRENCY = 12, 4


def two_processes(broken: str | None = None) -> dict[str, Any]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    result: dict[str, Any] = scaleout.run(SENDERS, CONCURRENCY, broken=broken, single=False)["results"]["two"]  # type: ignore[index]
    assert result["messages"] == SENDERS * scaleout.MESSAGES_PER_SENDER
    return result


@pytest.mark.integration
class TestScaleoutCounters:
    def test_the_real_store_loses_crosses_and_duplicates_nothing(self) -> None:
        """Concurrent, interleaved messages with replayed SIDs over two replicas: all four counters 0."""
        result = two_processes()
        assert (result["lost"], result["crossed"], result["duplicated"], result["overlapped"]) == (0, 0, 0, 0), result
        assert result["logs_queries"] == SENDERS * scaleout.DISTINCT_PER_SENDER

    def test_without_the_lock_and_replay_check_it_counts_duplicates_and_overlaps(self) -> None:
        """The store with a plain SET for the lock and no reply lookup: replays run again, messages overlap."""
        result = two_processes("lock")
        assert result["duplicated"] >= SENDERS, result  # every sender replays two SIDs
        assert result["overlapped"] > 0, result

    def test_keys_without_the_sender_count_as_crossed(self) -> None:
        """One session shared by everybody: `again` answers another sender's question."""
        result = two_processes("keys")
        assert result["crossed"] > 0, result
