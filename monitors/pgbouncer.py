"""pgBouncer: pools and rates for `db`, from the admin console (PGBOUNCER_URL).

PGBOUNCER_URL is a DSN for the virtual `pgbouncer` database, as a user listed in
`admin_users` or `stats_users` (stats_users is enough: SHOW is all we run).

The admin console speaks only the simple query protocol. psycopg prepares a statement
after its fifth run on a connection (prepare_threshold=5), and the sixth poll would then
fail with "extended query protocol not supported by admin console"; outside autocommit
psycopg sends BEGIN, which the console rejects too. Hence `autocommit=True,
prepare_threshold=None` on the kept connection (tested with many polls on one connection).
asyncpg cannot read admin-console rows at all, so this is psycopg-only.
"""

from __future__ import annotations

from typing import Any, Self

from monitors.base import DB, Monitor, Report, ReportSource
from monitors.config import MonitorSettings
from monitors.postgres import PgConnection, Row

ADMIN_DB = "pgbouncer"  # the console's own pseudo-database: not worth reporting


def number(value: Any) -> float:
    """SHOW STATS sends its bigint columns as text ("962"); SHOW POOLS as integers."""
    return float(value)


def wait_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def pool_line(row: Row) -> str:
    """`appdb/app: clients 3 active 2 waiting, servers 1 active 0 idle, maxwait 1.2s`."""
    wait = number(row["maxwait"]) + number(row.get("maxwait_us", 0)) / 1e6
    line = (f"{row['database']}/{row['user']}: clients {row['cl_active']} active {row['cl_waiting']} waiting,"
            f" servers {row['sv_active']} active {row['sv_idle']} idle")
    return line + (f", maxwait {wait_text(wait)}" if wait > 0 else "")


def stats_line(row: Row) -> str:
    """`appdb: 12 q/s, 10 tx/s, avg wait 0.9ms` (stats_period averages; times in microseconds)."""
    wait = number(row["avg_wait_time"]) / 1e6
    return (f"{row['database']}: {number(row['avg_query_count']):g} q/s,"
            f" {number(row['avg_xact_count']):g} tx/s, avg wait {wait_text(wait)}")


class PgBouncerMonitor(Monitor, ReportSource):
    """`db` facts from pgBouncer's admin console through one kept connection."""

    name = "pgbouncer"
    capabilities = frozenset({DB})

    def __init__(self, dsn: str, timeout_s: float) -> None:
        super().__init__(timeout_s)
        # No `options`/statement_timeout here: pgBouncer refuses unknown startup parameters.
        self.conn = PgConnection(dsn, timeout_s, prepare_threshold=None, application_name="operator-monitor")

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.pgbouncer_url is None:
            return None
        return cls(settings.pgbouncer_url.get_secret_value(), settings.monitor_timeout_s)

    async def probe(self) -> str:
        (rows,) = await self.conn.fetch("SHOW VERSION")
        return str(rows[0]["version"])

    async def report(self) -> Report:
        return await self.call(self._report())

    async def _report(self) -> Report:
        # Worded inside `call`, so a missing column is a shape error, not a crash.
        pools, stats = await self.conn.fetch("SHOW POOLS", "SHOW STATS")
        return Report(self.name, self.lines(pools, stats))

    @staticmethod
    def lines(pools: list[Row], stats: list[Row]) -> list[str]:
        pools = [row for row in pools if row["database"] != ADMIN_DB]
        stats = [row for row in stats if row["database"] != ADMIN_DB]
        waiting = sum(int(row["cl_waiting"]) for row in pools)
        head = f"pgbouncer: {len(pools)} pools, " + (f"{waiting} waiting" if waiting else "none waiting")
        return [head, *map(pool_line, pools), *map(stats_line, stats)]

    async def aclose(self) -> None:
        await self.conn.close()
