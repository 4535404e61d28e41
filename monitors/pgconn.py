"""One kept psycopg connection with a hard deadline, shared by the PostgreSQL and pgBouncer adapters.

Contract: `fetch(*queries)` returns the rows of each query, or raises a `MonitorError`,
within `timeout_s` (plus a few milliseconds) - whatever the server does. That includes
waiting for the lock, connecting, the queries, and giving up.

Why not just cancel the awaiting task: when a psycopg coroutine is cancelled mid-query
it sends a cancel request to the server and waits for it (up to 5 s), then waits again
for the query to end (5 s more). Against a frozen (SIGSTOPped) pgBouncer or PostgreSQL
both waits run out, so a 3 s deadline became 13 s. So the I/O runs in a task of its own
that is never cancelled while a query is in flight; at the deadline we *abandon* the
connection: shut its socket down (the pending read then fails at once with "server
closed the connection", and psycopg sends no cancel) and forget it. The task then ends
on its own in a moment and closes its connection; `aclose()` waits for such tasks, so
nothing leaks. The server side of an abandoned query is ended by PostgreSQL's
statement_timeout (set by the PostgreSQL adapter) or by the server noticing the closed
socket. During connect no query runs, so a connecting task is simply cancelled.

Driver error text is never shown: `pg_error` maps it to fixed phrases, so a DSN
password cannot leak into a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
from typing import Any, LiteralString

import psycopg
from psycopg import conninfo
from psycopg.rows import dict_row

from monitors.base import (
    AuthRejected,
    BadResponse,
    MonitorError,
    QueryFailed,
    Refused,
    TimedOut,
    Unreachable,
)

Row = dict[str, Any]


def pg_error(exc: psycopg.Error) -> MonitorError:
    """A fixed, secret-free MonitorError for a driver error (its own text may quote the DSN)."""
    text, state = str(exc).lower(), exc.sqlstate
    if state in ("28P01", "28000") or "authentication failed" in text or "no password supplied" in text:
        return AuthRejected("auth rejected")
    if "connection refused" in text:
        return Refused("connection refused")
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return QueryFailed("database not found")
    if state == "42501":
        return AuthRejected("permission denied (grant pg_monitor)")
    if state == "57014":
        return TimedOut("query canceled (statement timeout)")
    if any(
        bad in text for bad in ("invalid dsn", "invalid connection option", "invalid uri", "connection info string")
    ):
        return MonitorError("bad DSN")
    if "expected authentication request" in text or "invalid response" in text:
        return BadResponse("bad response (not PostgreSQL)")
    if "timeout expired" in text:
        return TimedOut("timeout connecting")
    if isinstance(exc, psycopg.OperationalError):
        return Unreachable("connection failed")
    return MonitorError(f"database error ({state or type(exc).__name__})")


def pg_reason(exc: psycopg.Error) -> str:
    return pg_error(exc).reason


def _shut_down(conn: psycopg.AsyncConnection[Row]) -> None:
    """Make the connection's pending read fail now, without a cancel request to the server."""
    with contextlib.suppress(Exception):
        fd = conn.pgconn.socket
        # A duplicate descriptor of the same socket: shutdown() acts on the socket itself,
        # and closing our duplicate leaves psycopg's descriptor valid for its own close().
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)


class PgConnection:
    """One lazily opened psycopg connection, reused across polls, reopened after any failure.

    A lock serialises use: `status` may poll while a `db` question runs. Autocommit, so
    the monitor never sits "idle in transaction" itself. Extra keyword arguments go to
    `AsyncConnection.connect` (pgBouncer's admin console needs `prepare_threshold=None`).
    """

    def __init__(self, dsn: str, timeout_s: float, *, prepare_threshold: int | None = 5, **params: str | int) -> None:
        # Holds the password: never logged, never part of a reason. libpq parameters
        # (application_name, options, connect_timeout) are merged into the DSN.
        self._conninfo = conninfo.make_conninfo(dsn, connect_timeout=max(2, math.ceil(timeout_s)), **params)
        self._prepare_threshold = prepare_threshold
        self.timeout_s = timeout_s
        self._conn: psycopg.AsyncConnection[Row] | None = None
        self._lock = asyncio.Lock()
        self.abandoned: set[asyncio.Task[list[list[Row]]]] = set()  # still finishing after a deadline

    @property
    def connection(self) -> psycopg.AsyncConnection[Row] | None:
        """The kept connection (None until first use and after a failure)."""
        return self._conn

    async def fetch(self, *queries: LiteralString) -> list[list[Row]]:
        """Rows of each query, in order, on one connection, within `timeout_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                await self._lock.acquire()
        except TimeoutError:
            raise TimedOut(f"timeout after {self.timeout_s:g}s (busy)") from None
        try:
            work = asyncio.create_task(self._run(queries))
            try:
                async with asyncio.timeout_at(deadline):
                    return await asyncio.shield(work)
            except TimeoutError:
                self._abandon(work)
                raise TimedOut(f"timeout after {self.timeout_s:g}s") from None
            except asyncio.CancelledError:  # our caller gave up (its own deadline)
                self._abandon(work)
                raise
        finally:
            self._lock.release()

    async def _run(self, queries: tuple[LiteralString, ...]) -> list[list[Row]]:
        conn = self._conn
        try:
            if conn is None or conn.closed:
                conn = None
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, row_factory=dict_row, prepare_threshold=self._prepare_threshold
                )
                self._conn = conn
            results = []
            for query in queries:
                cursor = await conn.execute(query)
                results.append(await cursor.fetchall())
            return results
        except psycopg.Error as exc:
            error = pg_error(exc)
        # Raised outside the handler so the driver error (whose text may quote the DSN)
        # is not even attached as __context__. The next poll reconnects.
        if self._conn is conn:
            self._conn = None
        if conn is not None:
            await conn.close()
        raise error

    def _abandon(self, work: asyncio.Task[list[list[Row]]]) -> None:
        """Past the deadline: let `work` fail fast on its own and forget its connection."""
        if work.done():  # finished just as the deadline passed: its connection is as good as ever
            if not work.cancelled():
                work.exception()  # retrieved, so asyncio does not warn about it
            return
        conn, self._conn = self._conn, None
        if conn is None:
            work.cancel()  # still connecting: no query to cancel, nothing is sent to the server
        else:
            _shut_down(conn)
        self.abandoned.add(work)
        work.add_done_callback(self._finished)

    def _finished(self, work: asyncio.Task[list[list[Row]]]) -> None:
        self.abandoned.discard(work)
        if not work.cancelled():
            work.exception()  # its failure was already reported as the timeout

    async def close(self) -> None:
        """Close the kept connection and wait (bounded) for abandoned work to end."""
        if self.abandoned:
            await asyncio.wait(set(self.abandoned), timeout=self.timeout_s)
            for work in list(self.abandoned):
                work.cancel()
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()
