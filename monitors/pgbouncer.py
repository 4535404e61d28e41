"""pgBouncer: pools and rates for `db`, from the admin console (PGBOUNCER_URL).

PGBOUNCER_URL is a DSN for the virtual `pgbouncer` database, as a user listed in
`admin_users` or `stats_users` (stats_users is enough: SHOW is all we run).

The admin console speaks only the simple query protocol. psycopg prepares a statement
after its fifth run on a connection (prepare_threshold=5), and the sixth poll would then
fail with "extended query protocol not supported by admin console"; outside autocommit
psycopg sends BEGIN, which the console rejects too. Hence `autocommit=True,
prepare_threshold=None` on the kept connection (tested with many polls on one connection).
asyncpg cannot read admin-console rows at all, so this is psycopg-only.

Cost: `SHOW POOLS` and `SHOW STATS` on the kept connection per poll (`PgConnection`:
hard deadline, abandoned rather than cancelled). A quiet pgBouncer is one line in `db`;
pools with clients waiting get a line each, and are the `status` problem.
"""

from __future__ import annotations

from typing import Any, Self

from monitors.base import DB, Monitor, Problem, ProblemSource, Report, ReportSource
from monitors.config import MonitorSettings, Thresholds
from monitors.pgconn import PgConnection, Row

ADMIN_DB = "pgbouncer"  # the console's own pseudo-database: not worth reporting


def number(value: Any) -> float:
    """SHOW STATS sends its bigint columns as text ("962"); SHOW POOLS as integers."""
    return float(value)


def wait_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def pool_line(row: Row) -> str:
    """`appdb/app: clients 3 active 2 waiting, servers 1 active 0 idle, maxwait 1.2s`."""
    wait = _pool_wait(row)
    line = (
        f"{row['database']}/{row['user']}: clients {row['cl_active']} active {row['cl_waiting']} waiting,"
        f" servers {row['sv_active']} active {row['sv_idle']} idle"
    )
    return line + (f", maxwait {wait_text(wait)}" if wait > 0 else "")


def _pool_wait(row: Row) -> float:
    return number(row["maxwait"]) + number(row.get("maxwait_us", 0)) / 1e6


def bouncer_lines(pools: list[Row], stats: list[Row]) -> list[str]:
    """`pgbouncer: 1 pool, none waiting, 12 q/s` (`, avg wait 11ms` when clients wait 1 ms or more
    on average), then a line per pool that has clients waiting now."""
    pools = [row for row in pools if row["database"] != ADMIN_DB]
    stats = [row for row in stats if row["database"] != ADMIN_DB]
    waiting = sum(int(row["cl_waiting"]) for row in pools)
    queries = sum(number(row["avg_query_count"]) for row in stats)
    avg_wait = max((number(row["avg_wait_time"]) / 1e6 for row in stats), default=0.0)
    head = (
        f"pgbouncer: {len(pools)} pool{'s' if len(pools) != 1 else ''}, "
        + (f"{waiting} waiting" if waiting else "none waiting")
        + f", {queries:g} q/s"
        + (f", avg wait {wait_text(avg_wait)}" if avg_wait >= 1e-3 else "")
    )
    busy = [row for row in pools if int(row["cl_waiting"]) > 0]
    return [head, *map(pool_line, busy)]


def bouncer_problems(pools: list[Row], limits: Thresholds, monitor: str = "pgbouncer") -> list[Problem]:
    """Pools with `limits.pgbouncer_waiting` or more clients queued: 'pgbouncer appdb/app: 2 clients waiting'."""
    out = []
    for row in pools:
        waiting = int(row["cl_waiting"])
        if row["database"] != ADMIN_DB and waiting >= limits.pgbouncer_waiting:
            wait = _pool_wait(row)
            longest = f", longest {wait_text(wait)}" if wait > 0 else ""
            out.append(
                Problem(
                    "warn",
                    monitor,
                    f"{monitor} {row['database']}/{row['user']}: {waiting}"
                    f" client{'s' if waiting != 1 else ''} waiting{longest}",
                )
            )
    return out


class PgBouncerMonitor(Monitor, ReportSource, ProblemSource):
    """`db` facts and `status` problems from pgBouncer's admin console through one kept connection."""

    name = "pgbouncer"
    capabilities = frozenset({DB})

    def __init__(self, dsn: str, timeout_s: float, limits: Thresholds | None = None) -> None:
        super().__init__(timeout_s)
        self.limits = limits or Thresholds()
        # No `options`/statement_timeout here: pgBouncer refuses unknown startup parameters.
        self.conn = PgConnection(dsn, timeout_s, prepare_threshold=None, application_name="operator-monitor")

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.pgbouncer_url is None:
            return None
        return cls(
            settings.pgbouncer_url.get_secret_value(), settings.monitor_timeout_s, Thresholds.from_settings(settings)
        )

    async def probe(self) -> str:
        (rows,) = await self.conn.fetch("SHOW VERSION")
        return str(rows[0]["version"])

    # Worded inside `call`, so a missing column is a shape error, not a crash.
    async def report(self) -> Report:
        return await self.call(self._report())

    async def _report(self) -> Report:
        pools, stats = await self.conn.fetch("SHOW POOLS", "SHOW STATS")
        return Report(self.name, bouncer_lines(pools, stats))

    async def problems(self) -> list[Problem]:
        return await self.call(self._problems())

    async def _problems(self) -> list[Problem]:
        (pools,) = await self.conn.fetch("SHOW POOLS")
        return bouncer_problems(pools, self.limits, self.name)

    async def aclose(self) -> None:
        await self.conn.close()
