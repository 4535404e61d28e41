"""Kong: node status and upstream target health for `gateway` (KONG_ADMIN_URL).

Admin API reads only: `GET /status` (connections, requests, whether Kong reaches its
database) and, per upstream from `GET /upstreams`, `GET /upstreams/{name}/health`.
Target health is HEALTHY, UNHEALTHY, DNS_ERROR or HEALTHCHECKS_OFF; "checks off" means
Kong knows nothing, so it is reported as such rather than as healthy.
KONG_ADMIN_TOKEN, when set, is sent as the `Kong-Admin-Token` header (Enterprise RBAC).
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import quote

import httpx

from monitors.base import (
    GATEWAY,
    Degraded,
    HttpMonitor,
    Problem,
    ProblemSource,
    QueryFailed,
    Report,
    ReportSource,
    gather_all,
)
from monitors.config import MonitorSettings

MAX_UPSTREAMS = 20  # an SMS cannot carry more; the count line says how many there are


def status_line(status: dict[str, Any]) -> str:
    """`kong: 12 conns active, 3481 requests, db reachable`."""
    server = status["server"]
    db = "db reachable" if status["database"]["reachable"] else "DB UNREACHABLE"
    return f"kong: {server['connections_active']} conns active, {server['total_requests']} requests, {db}"


def upstream_line(name: str, health: dict[str, Any]) -> str:
    """`payments: 1/2 healthy, UNHEALTHY: 10.0.0.2:8000`."""
    targets = [(t["target"], t["health"]) for t in health["data"]]
    healthy = sum(1 for _, h in targets if h == "HEALTHY")
    if targets and all(h == "HEALTHCHECKS_OFF" for _, h in targets):
        return f"{name}: {len(targets)} targets, health checks off"
    text = f"{name}: {healthy}/{len(targets)} healthy"
    bad = [f"{target} ({h})" for target, h in targets if h not in ("HEALTHY", "HEALTHCHECKS_OFF")]
    return text + (", not healthy: " + ", ".join(bad) if bad else "")


class KongMonitor(HttpMonitor, ReportSource, ProblemSource):
    """`gateway` from Kong's Admin API through one pooled client."""

    name = "kong"
    capabilities = frozenset({GATEWAY})

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.kong_admin_url is None:
            return None
        headers = {}
        if settings.kong_admin_token is not None:
            headers["Kong-Admin-Token"] = settings.kong_admin_token.get_secret_value()
        client = httpx.AsyncClient(timeout=settings.monitor_timeout_s, headers=headers)
        return cls(settings.kong_admin_url.get_secret_value(), client, settings.monitor_timeout_s)

    async def _get(self, path: str, **params: str) -> dict[str, Any]:
        body = await self.get_json(path, params=params)
        if not isinstance(body, dict):
            raise TypeError("expected an object")
        return body

    async def probe(self) -> str | Degraded:
        status = await self._get("/status")
        # Kong keeps proxying from its cache, but config changes and new consumers fail.
        return "" if status["database"]["reachable"] else Degraded("database unreachable")

    async def report(self) -> Report:
        return await self.call(self._report())

    async def _gather(self) -> tuple[dict[str, Any], list[str], bool, list[dict[str, Any]]]:
        """/status, the upstream names (first MAX_UPSTREAMS), whether more exist, and their health."""
        status, upstreams = await gather_all(self._get("/status"), self._get("/upstreams", size="100"))
        names = [str(u["name"]) for u in upstreams["data"]]
        shown = names[:MAX_UPSTREAMS]
        # Names come from Kong itself, quoted anyway: they become a path segment.
        healths = await gather_all(*(self._health(name) for name in shown))
        more = bool(upstreams.get("next")) or len(names) > len(shown)
        return status, shown, more, healths

    async def _report(self) -> Report:
        status, names, more, healths = await self._gather()
        lines = [status_line(status)]
        lines.append(f"{len(names)} upstreams{' (more exist)' if more else ''}" if names else "no upstreams")
        lines += [upstream_line(name, health) for name, health in zip(names, healths, strict=True)]
        return Report(self.name, lines)

    async def problems(self) -> list[Problem]:
        return await self.call(self._problems())

    async def _problems(self) -> list[Problem]:
        status, names, _, healths = await self._gather()
        out = []
        for name, health in zip(names, healths, strict=True):
            targets = [(t["target"], t["health"]) for t in health["data"]]
            bad = [target for target, h in targets if h not in ("HEALTHY", "HEALTHCHECKS_OFF")]
            if bad:
                healthy = sum(1 for _, h in targets if h == "HEALTHY")
                severity = "crit" if healthy == 0 else "warn"
                out.append(
                    Problem(
                        severity,
                        self.name,
                        f"{self.name} {name}: {healthy}/{len(targets)} healthy"
                        f" ({', '.join(bad[:2])}{' ...' if len(bad) > 2 else ''}"
                        " not healthy)",
                    )
                )
        if not status["database"]["reachable"]:
            out.append(Problem("warn", self.name, f"{self.name}: database unreachable (config changes fail)"))
        return sorted(out, key=lambda p: p.severity != "crit")

    async def _health(self, name: str) -> dict[str, Any]:
        try:
            return await self._get(f"/upstreams/{quote(name, safe='')}/health")
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:  # hybrid-mode control plane: no per-node health
                raise QueryFailed("upstream health not available on this node") from exc
            raise
