"""`db` wording and `status` thresholds from PostgreSQL rows shaped as the queries return them."""

from __future__ import annotations

from typing import Any

import pytest

from monitors.config import Thresholds
from monitors.db_facts import PgFacts, pg_lines, pg_problems

INFO = {"db": "appdb", "max_conn": 100, "size": 8 * 1024 * 1024, "replica": False, "replay_lag_s": None}


def facts(n: int = 3, replicas: list[dict[str, Any]] | None = None, **info: Any) -> PgFacts:
    return PgFacts({**INFO, **info}, [{"state": "idle", "n": n}], [], [], [], replicas or [])


class TestLines:
    def test_quiet_primary_without_replicas(self) -> None:
        assert pg_lines(facts()) == ["postgres appdb: 3/100 conns (3 idle), 8 MB", "no replicas"]

    def test_replicas_with_lag(self) -> None:
        replicas = [
            {"name": "standby1", "state": "streaming", "lag_s": 0.2, "lag_bytes": 0},
            {"name": "standby2", "state": "catchup", "lag_s": 75.0, "lag_bytes": 5 * 1024 * 1024},
        ]
        assert pg_lines(facts(replicas=replicas))[1:] == [
            "replica standby1 streaming: lag 0s",
            "replica standby2 catchup: lag 1m15s, 5 MB behind",
        ]

    def test_a_replica_says_its_own_replay_lag(self) -> None:
        lines = pg_lines(facts(replica=True, replay_lag_s=42.0))
        assert lines == ["postgres appdb (replica): 3/100 conns (3 idle), 8 MB", "replay lag 42s"]


class TestProblems:
    @pytest.mark.parametrize(
        ("used", "expected"),
        [(79, []), (80, [("warn", "postgres: 80/100 conns (80%)")]), (96, [("crit", "postgres: 96/100 conns (96%)")])],
    )
    def test_connections_near_max(self, used: int, expected: list[tuple[str, str]]) -> None:
        """DB_CONN_WARN_PCT (80) is a warning; 95% and over is critical."""
        assert [(p.severity, p.text) for p in pg_problems(facts(used), Thresholds())] == expected

    def test_replica_lag_and_state(self) -> None:
        """Lag over DB_REPLICATION_LAG_WARN_S, or a replica not streaming, is a warning."""
        replicas = [
            {"name": "r1", "state": "streaming", "lag_s": 31.0, "lag_bytes": 0},
            {"name": "r2", "state": "streaming", "lag_s": 29.0, "lag_bytes": 0},
            {"name": "r3", "state": "startup", "lag_s": None, "lag_bytes": None},
        ]
        assert [p.text for p in pg_problems(facts(replicas=replicas), Thresholds(replication_lag_s=30))] == [
            "postgres: replica r1 lag 31s",
            "postgres: replica r3 startup",
        ]

    def test_standby_replay_lag(self) -> None:
        assert [p.text for p in pg_problems(facts(replica=True, replay_lag_s=120.0), Thresholds())] == [
            "postgres: replica replay lag 2m00s"
        ]
