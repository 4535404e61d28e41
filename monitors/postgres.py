"""PostgreSQL: what `db` says about the database (DATABASE_URL).

Read-only, fixed queries over `pg_stat_activity`, `pg_stat_replication` and
`pg_database_size`; no user words ever reach them. A role with the built-in
`pg_monitor` role is enough (it grants pg_read_all_stats, so other users' query text
and replication details are visible), e.g.:

    CREATE ROLE operator LOGIN PASSWORD '...' IN ROLE pg_monitor;

The monitor keeps one connection (`PgConnection`, shared with the pgBouncer adapter),
opened on first use, reused for every poll and reopened after any failure; the
monitor's own session is excluded from every count. Driver error text is never shown:
`pg_reason` maps it to fixed phrases, so a DSN password cannot leak into a reply.
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any, LiteralString, Self

import psycopg
from psycopg import conninfo
from psycopg.rows import dict_row

from monitors.base import DB, Monitor, MonitorError, Report, ReportSource
from monitors.config import MonitorSettings
from monitors.log_format import trim

Row = dict[str, Any]


def pg_reason(exc: psycopg.Error) -> str:
    """A fixed, secret-free phrase for a driver error (its own text may quote the DSN)."""
    text, state = str(exc).lower(), exc.sqlstate
    if state in ("28P01", "28000") or "authentication failed" in text or "no password supplied" in text:
        return "auth rejected"
    if "connection refused" in text:
        return "connection refused"
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return "database not found"
    if state == "42501":
        return "permission denied (grant pg_monitor)"
    if state == "57014":
        return "query canceled (statement timeout)"
    if any(bad in text for bad in ("invalid dsn", "invalid connection option", "invalid uri",
                                   "connection info string")):
        return "bad DSN"
    if "expected authentication request" in text or "invalid response" in text:
        return "bad response (not PostgreSQL)"
    if "timeout expired" in text:
        return "timeout connecting"
    if isinstance(exc, psycopg.OperationalError):
        return "connection failed"
    return f"database error ({state or type(exc).__name__})"


class PgConnection:
    """One lazily opened psycopg connection, reused across polls, reopened after any failure.

    A lock serialises use: `status` may poll while a `db` question runs. Autocommit, so
    the monitor never sits "idle in transaction" itself. Extra keyword arguments go to
    `AsyncConnection.connect` (pgBouncer's admin console needs `prepare_threshold=None`).
    """

    def __init__(self, dsn: str, timeout_s: float, *, prepare_threshold: int | None = 5,
                 **params: str | int) -> None:
        # Holds the password: never logged, never part of a reason. libpq parameters
        # (application_name, options, connect_timeout) are merged into the DSN.
        self._conninfo = conninfo.make_conninfo(dsn, connect_timeout=max(2, math.ceil(timeout_s)), **params)
        self._prepare_threshold = prepare_threshold
        self._conn: psycopg.AsyncConnection[Row] | None = None
        self._lock = asyncio.Lock()

    async def fetch(self, *queries: LiteralString) -> list[list[Row]]:
        """Rows of each query, in order, on one connection."""
        async with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True, row_factory=dict_row,
                        prepare_threshold=self._prepare_threshold)
                results = []
                for query in queries:
                    cursor = await self._conn.execute(query)
                    results.append(await cursor.fetchall())
                return results
            except psycopg.Error as exc:
                reason = pg_reason(exc)
            except BaseException:
                # Timeout (cancellation) mid-conversation: the connection's state is unknown.
                await self._drop()
                raise
            # Raised outside the handler so the driver error (whose text may quote the DSN)
            # is not even attached as __context__. The next poll reconnects.
            await self._drop()
            raise MonitorError(reason)

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def close(self) -> None:
        async with self._lock:
            await self._drop()


_OVERVIEW: LiteralString = """
SELECT current_database() AS db,
       current_setting('max_connections')::int AS max_conn,
       pg_size_pretty(pg_database_size(current_database())) AS size,
       pg_is_in_recovery() AS replica,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_lag_s,
       (SELECT count(*) FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid())::int AS lock_waiters"""
_STATES: LiteralString = """
SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
 GROUP BY 1 ORDER BY 2 DESC, 1"""
_LONGEST: LiteralString = """
SELECT extract(epoch FROM now() - query_start)::float8 AS age_s, left(query, 400) AS query
  FROM pg_stat_activity
 WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
 ORDER BY query_start LIMIT 1"""
_OLDEST_XACT: LiteralString = """
SELECT extract(epoch FROM now() - xact_start)::float8 AS age_s, state FROM pg_stat_activity
 WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid()
 ORDER BY xact_start LIMIT 1"""
_REPLICAS: LiteralString = """
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'replica') AS name, state,
       extract(epoch FROM replay_lag)::float8 AS lag_s,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS lag_bytes
  FROM pg_stat_replication ORDER BY 1"""

_LITERAL = re.compile(r"'(?:[^']|'')*'")


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
    """Statement text for SMS: one line, string literals masked (they may hold data), truncated."""
    return trim(_LITERAL.sub("'?'", sql), limit)


def size_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{value:g} {unit}"
        value = round(value / 1024, 1)
    return f"{value:g} TB"


class PostgresMonitor(Monitor, ReportSource):
    """`db` facts from PostgreSQL through one kept connection."""

    name = "postgres"
    capabilities = frozenset({DB})

    def __init__(self, dsn: str, timeout_s: float) -> None:
        super().__init__(timeout_s)
        # statement_timeout: the server stops our query too when the monitor gives up on it.
        self.conn = PgConnection(dsn, timeout_s, application_name="operator-monitor",
                                 options=f"-c statement_timeout={int(timeout_s * 1000)}")

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.database_url is None:
            return None
        return cls(settings.database_url.get_secret_value(), settings.monitor_timeout_s)

    async def probe(self) -> str:
        (rows,) = await self.conn.fetch("SELECT current_setting('server_version') AS v")
        return f"v{rows[0]['v'].split()[0]}"

    async def report(self) -> Report:
        return await self.call(self._report())

    async def _report(self) -> Report:
        # Worded inside `call`, so an unexpected row is a shape error, not a crash.
        overview, states, longest, oldest, replicas = await self.conn.fetch(
            _OVERVIEW, _STATES, _LONGEST, _OLDEST_XACT, _REPLICAS)
        return Report(self.name, self.lines(overview[0], states, longest, oldest, replicas))

    @staticmethod
    def lines(info: Row, states: list[Row], longest: list[Row], oldest: list[Row],
              replicas: list[Row]) -> list[str]:
        total = sum(row["n"] for row in states)
        by_state = ", ".join(f"{row['n']} {row['state']}" for row in states)
        out = [f"postgres {info['db']}: {total}/{info['max_conn']} conns" + (f" ({by_state})" if by_state else "")]
        if longest:
            out.append(f"longest query {age(longest[0]['age_s'])}: {query_text(longest[0]['query'])}")
        else:
            out.append("no running queries")
        if oldest:
            out.append(f"oldest txn {age(oldest[0]['age_s'])} ({oldest[0]['state']})")
        if info["lock_waiters"]:
            out.append(f"{info['lock_waiters']} waiting on locks")
        if info["replica"]:
            lag = info["replay_lag_s"]
            out.append("replica, replay lag " + (age(lag) if lag is not None else "unknown"))
        for rep in replicas:
            lag = f"lag {age(rep['lag_s'])}" if rep["lag_s"] is not None else "lag ?"
            behind = f", {size_bytes(rep['lag_bytes'])} behind" if rep["lag_bytes"] is not None else ""
            out.append(f"replica {rep['name']} {rep['state']}: {lag}{behind}")
        out.append(f"size {info['size']}")
        return out

    async def aclose(self) -> None:
        await self.conn.close()
