"""A local Datadog API (v1) built from the documented shapes in reference/api_examples/.

Like the real one it answers 403 {"errors": ["Forbidden"]} without the right keys:
`/api/v1/validate` checks only DD-API-KEY, data endpoints check DD-APPLICATION-KEY too.
`/api/v1/query` insists on integer POSIX-second `from` < `to` and a `query`, as documented,
and answers 400 {"errors": [...]} otherwise; `/api/v1/monitor` returns a bare JSON array
whose per-group `state` is filled in only when `group_states` is passed.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

API_KEY = "dd-api-key-for-tests"
APP_KEY = "dd-app-key-for-tests"
FORBIDDEN = Reply(403, {"errors": ["Forbidden"]})


def series(scope: str, values: list[float | None], metric: str = "system.cpu.user") -> dict[str, Any]:
    """One series as /api/v1/query returns it: pointlist of [epoch ms (float), value or null]."""
    now_ms = time.time() * 1000
    points = [[now_ms - (len(values) - i) * 60_000.0, v] for i, v in enumerate(values)]
    tag_set = [] if scope == "*" else scope.split(",")
    return {
        "metric": metric,
        "display_name": metric,
        "scope": scope,
        "tag_set": tag_set,
        "expression": f"{metric}{{{scope}}}",
        "pointlist": points,
        "length": len(points),
        "interval": 60,
        "aggr": "avg",
        "attributes": {},
        "query_index": 0,
        "start": points[0][0] if points else now_ms,
        "end": now_ms,
        "unit": [{"family": "percentage", "name": "percent", "short_name": "%"}, None],
    }


def monitor(
    mid: int,
    name: str,
    overall: str,
    groups: dict[str, str] | None = None,
    tags: list[str] | None = None,
    message: str = "",
) -> dict[str, Any]:
    """One Monitor object of /api/v1/monitor (fields as in datadog_v1_monitor_list.json)."""
    return {
        "id": mid,
        "name": name,
        "type": "metric alert",
        "query": "avg(last_5m):avg:system.cpu.user{*} > 90",
        "message": message,
        "tags": tags or [],
        "options": {"thresholds": {"critical": 90.0}, "silenced": {}},
        "overall_state": overall,
        "overall_state_modified": "2019-09-19T10:05:00+00:00",
        "multi": bool(groups),
        "priority": 2,
        "created": "2019-09-19T10:00:00.000000+00:00",
        "modified": "2019-09-19T10:00:00.000000+00:00",
        "deleted": None,
        "restricted_roles": None,
        "creator": {"email": "ops@example.com", "handle": "ops@example.com", "name": "Ops"},
        "matching_downtimes": [],
        "_groups": {
            g: {
                "name": g,
                "status": s,
                "last_triggered_ts": 1568887500,
                "last_notified_ts": 1568887500,
                "last_resolved_ts": 0,
                "last_nodata_ts": 0,
            }
            for g, s in (groups or {}).items()
        },
    }


class FakeDatadog(FakeServer):
    """Serves validate, query and monitor list; `query_series` and `monitors` are editable by tests."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        """Back to the documented examples: lets one server (slow to stop) serve a whole module."""
        self.fault = None
        self.requests.clear()
        self.query_series: dict[str, list[dict[str, Any]]] = {}
        self.monitors: list[dict[str, Any]] = [
            monitor(
                1625,
                "My monitor",
                "Alert",
                {"host:host0": "Alert"},
                ["env:prod", "team:ops"],
                "Bytes received is high @pagerduty",
            ),
            monitor(1626, "Disk almost full", "OK", tags=["env:prod"]),
            monitor(1627, "Latency high", "Warn", tags=["service:checkout"], message="p99 above 2s"),
        ]
        self.route("GET", "/api/v1/validate")(self._validate)
        self.route("GET", "/api/v1/query")(self._query)
        self.route("GET", "/api/v1/monitor")(self._monitor)

    @staticmethod
    def _keys_ok(req: Request, app_key: bool = True) -> bool:
        if req.headers.get("dd-api-key") != API_KEY:
            return False
        return not app_key or req.headers.get("dd-application-key") == APP_KEY

    def _validate(self, req: Request) -> Reply:
        return Reply(200, {"valid": True}) if self._keys_ok(req, app_key=False) else FORBIDDEN

    def _query(self, req: Request) -> Reply:
        if not self._keys_ok(req):
            return FORBIDDEN
        try:
            start, end = int(req.query["from"][0]), int(req.query["to"][0])
            query = req.query["query"][0]
        except (KeyError, ValueError):
            return Reply(400, {"errors": ["Parameters 'from', 'to' (POSIX seconds) and 'query' are required"]})
        if start >= end:
            return Reply(400, {"errors": ["'from' must be before 'to'"]})
        if query not in self.query_series:
            return Reply(400, {"errors": [f"Error parsing query: unknown metric in {query!r}"]})
        return Reply(
            200,
            {
                "status": "ok",
                "res_type": "time_series",
                "resp_version": 1,
                "query": query,
                "from_date": start * 1000,
                "to_date": end * 1000,
                "series": self.query_series[query],
                "message": "",
                "times": [],
                "values": [],
                "group_by": [],
            },
        )

    def _monitor(self, req: Request) -> Reply:
        if not self._keys_ok(req):
            return FORBIDDEN
        with_groups = "group_states" in req.query
        body = []
        for item in copy.deepcopy(self.monitors):
            groups = item.pop("_groups")
            if with_groups and groups:
                item["state"] = {"groups": groups}
            body.append(item)
        return Reply(200, body)  # a bare JSON array, not {"monitors": [...]}
