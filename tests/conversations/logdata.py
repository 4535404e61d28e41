"""The log lines the conversation tests' fake Loki holds (relative to when the tests start)."""

from __future__ import annotations

import time

from tests.fakes.loki import Entry

NOW_NS = time.time_ns()
MIN_NS = 60 * 1_000_000_000


def entries() -> list[Entry]:
    """web: 3 errors in the last 15 min, 5 more within the hour, 20 more within 6h; api: one."""
    out = [Entry({"service": "web"}, NOW_NS - (i + 1) * MIN_NS, "ERROR payment timeout") for i in range(3)]
    out += [Entry({"service": "web"}, NOW_NS - (20 + i) * MIN_NS, f"ERROR db pool exhausted #{i}") for i in range(5)]
    out += [
        Entry(
            {"service": "web"},
            NOW_NS - (90 + 10 * i) * MIN_NS,
            f"ERROR upstream reset on shard {i} while calling the inventory service with a long message",
        )
        for i in range(20)
    ]
    out += [Entry({"service": "web"}, NOW_NS - 2 * MIN_NS, "INFO all good")]
    out += [Entry({"service": "api"}, NOW_NS - 5 * MIN_NS, "ERROR bad gateway")]
    return out
