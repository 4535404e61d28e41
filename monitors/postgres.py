"""PostgreSQL: what `db` and `status` say about the database (DATABASE_URL).

Read-only, fixed queries over `pg_stat_activity` (with `pg_blocking_pids()` for who
blocks whom), `pg_stat_replication` and `pg_database_size`; no user words ever reach
them. A role with the built-in `pg_monitor` role is enough (it grants
pg_read_all_stats, so other users' query text and replication details are visible):

    CREATE ROLE operator LOGIN PASSWORD '...' IN ROLE pg_monitor;

Cost: one poll is six small catalog queries on one kept connection (`PgConnection`,
shared with the pgBouncer adapter), opened on first use, reused, reopened after any
failure and abandoned - never waited on - at the deadline. The monitor's own session
is excluded from every count. Wording lives in `db_facts`.
"""

from __future__ import annotations

from typing import LiteralString, Self

from monitors.base import DB, Monitor, Problem, ProblemSource, Report, ReportSource
from monitors.config import MonitorSettings, Thresholds
from monitors.db_facts import PgFacts, pg_lines, pg_problems
from monitors.pgconn import PgConnection

_OVERVIEW: LiteralString = """
SELECT current_database() AS db,
       current_setting('max_connections')::int AS max_conn,
       pg_database_size(current_database()) AS size,
       pg_is_in_recovery() AS replica,
       -- A standby that has replayed all it received is not behind, however old the last
       -- transaction is (an idle primary would otherwise read as ever-growing lag).
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS replay_lag_s"""
_STATES: LiteralString = """
SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
 GROUP BY 1 ORDER BY 2 DESC, 1"""
_LONGEST: LiteralString = """
SELECT pid, usename AS user, application_name AS app,
       extract(epoch FROM now() - query_start)::float8 AS age_s, left(query, 400) AS query
  FROM pg_stat_activity
 WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
   AND wait_event_type IS DISTINCT FROM 'Lock'
 ORDER BY query_start LIMIT 1"""
_BLOCKED: LiteralString = """
SELECT w.pid, w.usename AS user, w.application_name AS app,
       extract(epoch FROM now() - w.query_start)::float8 AS wait_s,
       b.pid AS b_pid, b.usename AS b_user, b.application_name AS b_app,
       coalesce(b.state, b.backend_type) AS b_state,
       extract(epoch FROM now() - coalesce(b.xact_start, b.query_start))::float8 AS b_age_s,
       left(b.query, 400) AS b_query
  FROM pg_stat_activity w
 CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
  JOIN pg_stat_activity b ON b.pid = blocker.pid
 WHERE w.wait_event_type = 'Lock' AND w.pid <> pg_backend_pid()
 ORDER BY wait_s DESC, w.pid, b.pid LIMIT 10"""
_IDLE_TXN: LiteralString = """
SELECT pid, usename AS user, application_name AS app,
       extract(epoch FROM now() - state_change)::float8 AS idle_s,
       extract(epoch FROM now() - xact_start)::float8 AS xact_s
  FROM pg_stat_activity
 WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()
 ORDER BY state_change LIMIT 1"""
_REPLICAS: LiteralString = """
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'replica') AS name, state,
       extract(epoch FROM replay_lag)::float8 AS lag_s,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS lag_bytes
  FROM pg_stat_replication ORDER BY 1"""


class PostgresMonitor(Monitor, ReportSource, ProblemSource):
    """`db` facts and `status` problems from PostgreSQL through one kept connection."""

    name = "postgres"
    capabilities = frozenset({DB})

    def __init__(self, dsn: str, timeout_s: float, limits: Thresholds | None = None) -> None:
        super().__init__(timeout_s)
        self.limits = limits or Thresholds()
        # statement_timeout: the server stops our query too when the monitor gives up on it.
        self.conn = PgConnection(
            dsn, timeout_s, application_name="operator-monitor", options=f"-c statement_timeout={int(timeout_s * 1000)}"
        )

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.database_url is None:
            return None
        return cls(
            settings.database_url.get_secret_value(), settings.monitor_timeout_s, Thresholds.from_settings(settings)
        )

    async def probe(self) -> str:
        (rows,) = await self.conn.fetch("SELECT current_setting('server_version') AS v")
        return f"v{rows[0]['v'].split()[0]}"

    async def _facts(self) -> PgFacts:
        overview, states, longest, blocked, idle, replicas = await self.conn.fetch(
            _OVERVIEW, _STATES, _LONGEST, _BLOCKED, _IDLE_TXN, _REPLICAS
        )
        return PgFacts(overview[0], states, longest, blocked, idle, replicas)

    # Worded inside `call`, so an unexpected row is a shape error, not a crash.
    async def report(self) -> Report:
        return await self.call(self._report())

    async def _report(self) -> Report:
        return Report(self.name, pg_lines(await self._facts()))

    async def problems(self) -> list[Problem]:
        return await self.call(self._problems())

    async def _problems(self) -> list[Problem]:
        return pg_problems(await self._facts(), self.limits, self.name)

    async def aclose(self) -> None:
        await self.conn.close()
