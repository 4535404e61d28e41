"""A fake Kong Admin API from shared/reference/api_examples/kong_*.json.

`GET /status`, `GET /upstreams` (`{"data": [...], "next": null}`) and
`GET /upstreams/{name}/health` for each upstream in `upstreams` (name -> list of
(target, health)); unknown upstreams 404 `{"message": "Not found"}` as Kong does.
With `token` set, requests without a matching `Kong-Admin-Token` get 401.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

NODE_ID = "cbb297c0-14a9-46bc-ad91-1d0ef9b42df9"


class KongFake(FakeServer):
    def __init__(
        self,
        upstreams: dict[str, list[tuple[str, str]]] | None = None,
        *,
        db_reachable: bool = True,
        token: str | None = None,
    ) -> None:
        super().__init__()
        self.upstreams = dict(upstreams or {})
        self.db_reachable = db_reachable
        self.token = token
        self.routes[("GET", "/status")] = self._guard(self._status)
        self.routes[("GET", "/upstreams")] = self._guard(self._list)
        for name in self.upstreams:
            self.add_health_route(name)

    def add_health_route(self, name: str) -> None:
        self.routes[("GET", f"/upstreams/{name}/health")] = self._guard(lambda req: self._health(name))

    def _guard(self, handler: Any) -> Any:
        def guarded(req: Request) -> Reply:
            if self.token and req.headers.get("kong-admin-token") != self.token:
                return Reply(401, {"message": "Invalid RBAC credentials"})
            reply: Reply = handler(req)
            return reply

        return guarded

    def _status(self, req: Request) -> Reply:
        return Reply(
            200,
            {
                "database": {"reachable": self.db_reachable},
                "memory": {
                    "workers_lua_vms": [{"http_allocated_gc": "0.02 MiB", "pid": 18477}],
                    "lua_shared_dicts": {"kong": {"allocated_slabs": "0.04 MiB", "capacity": "5.00 MiB"}},
                },
                "server": {
                    "total_requests": 3,
                    "connections_active": 1,
                    "connections_accepted": 1,
                    "connections_handled": 1,
                    "connections_reading": 0,
                    "connections_writing": 1,
                    "connections_waiting": 0,
                },
                "configuration_hash": "779742c3d7afee2e38f977044d2ed96b",
            },
        )

    def _list(self, req: Request) -> Reply:
        data = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                "name": name,
                "algorithm": "round-robin",
                "slots": 10000,
                "tags": None,
            }
            for name in self.upstreams
        ]
        return Reply(200, {"data": data, "next": None})

    def _health(self, name: str) -> Reply:
        if name not in self.upstreams:
            return Reply(404, {"message": "Not found"})
        data = []
        for target, health in self.upstreams[name]:
            host, port = target.rsplit(":", 1)
            data.append(
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, target)),
                    "health": health,
                    "target": target,
                    "weight": 100,
                    "created_at": 1485524883980,
                    "tags": None,
                    "upstream": {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name))},
                    "data": {
                        "dns": "ttl=0, virtual SRV",
                        "host": host,
                        "port": int(port),
                        "nodeWeight": 100,
                        "addresses": [{"weight": 100, "ip": host, "port": int(port), "health": health}],
                        "weight": {
                            "unavailable": 0 if health == "HEALTHY" else 100,
                            "available": 100 if health == "HEALTHY" else 0,
                            "total": 100,
                        },
                    },
                }
            )
        return Reply(200, {"total": len(data), "node_id": NODE_ID, "data": data})
