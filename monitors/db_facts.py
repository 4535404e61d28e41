"""What `db` and `status` say about PostgreSQL, from rows of the fixed queries in `postgres.py`.

Pure functions, no I/O: `pg_lines` words the `db` answer (a healthy database in two
short lines; trouble - who blocks whom, idle-in-transaction, replicas - on lines of
their own), `pg_problems` picks what crosses a threshold for `status`. Query text is
shown one line long, with string and number literals masked (they may hold data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from monitors.base import Problem
from monitors.config import Thresholds
from monitors.log_format import trim

Row = dict[str, Any]

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?(?![\w.])")


def age(seconds: float) -> str:
    """`42s`, `4m12s`, `2h05m`, `3d04h`."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def query_text(sql: str, limit: int = 60) -> str:
    """Statement text for SMS: one line, string and number literals masked, truncated."""
    return trim(_NUMBER.sub("?", _STRING.sub("'?'", sql)), limit)


def size_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{value:g} {unit}"
        value = round(value / 1024, 1)
    return f"{value:g} TB"


def who(row: Row, prefix: str = "") -> str:
    """`pid 4242 app/psql`: the session, its user and application, to find and act on."""
    return f"pid {row[prefix + 'pid']} {row[prefix + 'user'] or '?'}/{row[prefix + 'app'] or '?'}"


@dataclass(frozen=True, slots=True)
class PgFacts:
    """Rows of one poll: overview (one row) and the lists behind it."""

    info: Row
    states: list[Row]
    longest: list[Row]
    blocked: list[Row]  # one row per (waiter, blocker) pair, longest wait first
    idle_txn: list[Row]  # the longest idle-in-transaction session, if any
    replicas: list[Row]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def connections(self) -> int:
        return sum(int(row["n"]) for row in self.states)


def _head(f: PgFacts) -> str:
    by_state = ", ".join(f"{row['n']} {row['state']}" for row in f.states)
    role = " (replica)" if f.info["replica"] else ""
    return (
        f"postgres {f.info['db']}{role}: {f.connections}/{f.info['max_conn']} conns"
        + (f" ({by_state})" if by_state else "")
        + f", {size_bytes(int(f.info['size']))}"
    )


def blocked_line(row: Row) -> str:
    """`lock: pid 7 app/psql waits 12s on pid 5 app/psql (idle in transaction 40s): UPDATE t SET v = ?`."""
    state = f"{row['b_state']} {age(row['b_age_s'])}" if row["b_age_s"] is not None else row["b_state"]
    return (
        f"lock: {who(row)} waits {age(row['wait_s'])} on {who(row, 'b_')} ({state}):"
        f" {query_text(row['b_query'] or '', 50)}"
    )


def replica_lines(f: PgFacts) -> list[str]:
    if f.info["replica"]:
        lag = f.info["replay_lag_s"]
        return ["replay lag " + (age(lag) if lag is not None else "unknown")]
    if not f.replicas:
        return ["no replicas"]
    out = []
    for rep in f.replicas:
        lag = f"lag {age(rep['lag_s'])}" if rep["lag_s"] is not None else "lag ?"
        behind = f", {size_bytes(rep['lag_bytes'])} behind" if rep["lag_bytes"] else ""
        out.append(f"replica {rep['name']} {rep['state']}: {lag}{behind}")
    return out


def pg_lines(f: PgFacts) -> list[str]:
    """The `db` answer for PostgreSQL; a quiet database is the head line and its replicas."""
    out = [_head(f)]
    out += [blocked_line(row) for row in f.blocked[:3]]
    if len(f.blocked) > 3:
        out.append(f"+{len(f.blocked) - 3} more lock waits")
    for row in f.idle_txn:
        out.append(f"idle in txn: {who(row)} idle {age(row['idle_s'])} (txn {age(row['xact_s'])})")
    for row in f.longest:
        if row["age_s"] >= 1:  # a query under a second is not news
            out.append(f"longest query {age(row['age_s'])} ({who(row)}): {query_text(row['query'])}")
    out += replica_lines(f)
    return out


def pg_problems(f: PgFacts, limits: Thresholds, monitor: str = "postgres") -> list[Problem]:
    """Facts over a threshold, most severe first."""
    problems = []
    used = 100 * f.connections / max(1, int(f.info["max_conn"]))
    if used >= limits.conn_warn_pct:
        problems.append(
            Problem(
                "crit" if used >= 95 else "warn",
                monitor,
                f"{monitor}: {f.connections}/{f.info['max_conn']} conns ({used:.0f}%)",
            )
        )
    for row in f.blocked:
        if row["wait_s"] >= limits.lock_wait_s:
            problems.append(
                Problem(
                    "warn",
                    monitor,
                    f"{monitor}: pid {row['pid']} waits {age(row['wait_s'])} on a lock held by {who(row, 'b_')}",
                )
            )
    for row in f.idle_txn:
        if row["idle_s"] >= limits.idle_in_txn_s:
            problems.append(Problem("warn", monitor, f"{monitor}: {who(row)} idle in txn {age(row['idle_s'])}"))
    if f.info["replica"]:
        lag = f.info["replay_lag_s"]
        if lag is not None and lag >= limits.replication_lag_s:
            problems.append(Problem("warn", monitor, f"{monitor}: replica replay lag {age(lag)}"))
    for rep in f.replicas:
        if rep["state"] != "streaming":
            problems.append(Problem("warn", monitor, f"{monitor}: replica {rep['name']} {rep['state']}"))
        elif rep["lag_s"] is not None and rep["lag_s"] >= limits.replication_lag_s:
            problems.append(Problem("warn", monitor, f"{monitor}: replica {rep['name']} lag {age(rep['lag_s'])}"))
    return sorted(problems, key=lambda p: p.severity != "crit")
