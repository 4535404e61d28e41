"""Alertmanager (API v2): status for health, and the alerts a human should act on now.

"Act on now" means active: not silenced and not inhibited. One `GET /api/v2/alerts`
returns every alert with its `status.state` ("active" or "suppressed", with the
`silencedBy`/`inhibitedBy` ids); we keep the active ones and count the others, so a
silence set anywhere (UI, amtool, a later `silence` command) hides the alert from
`alerts` at once, yet the answer still says "1 silenced".
"""

from __future__ import annotations

from typing import Self

import httpx

from monitors.alerting import MutedCounts
from monitors.base import ALERTS, Alert, AlertSource, HttpMonitor, expect_dict, expect_list, str_labels
from monitors.config import MonitorSettings
from monitors.prometheus import prometheus_alert

# Query flags are strings: httpx would send Python's True as "True", which Alertmanager rejects.
_ALL_FIRING = {"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "false"}


class AlertmanagerMonitor(HttpMonitor, AlertSource, MutedCounts):
    """Active alerts from one Alertmanager, with silenced/inhibited counts."""

    name = "alertmanager"
    capabilities = frozenset({ALERTS})

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.alertmanager_url is None:
            return None
        timeout = settings.monitor_timeout_s
        return cls(settings.alertmanager_url.get_secret_value(), httpx.AsyncClient(timeout=timeout), timeout)

    async def probe(self) -> str:
        """The status endpoint answers (and says its version: 'v0.25.0')."""
        status = expect_dict(await self.get_json("/api/v2/status"))
        version = expect_dict(status.get("versionInfo", {})).get("version")
        return f"v{str(version).split('+')[0]}" if version else ""

    async def alerts(self) -> list[Alert]:
        return (await self.alerts_and_muted())[0]

    async def alerts_and_muted(self) -> tuple[list[Alert], int, int]:
        """(active alerts, silenced count, inhibited count) from one request."""
        return await self.call(self._alerts())

    async def _alerts(self) -> tuple[list[Alert], int, int]:
        alerts: list[Alert] = []
        silenced = inhibited = 0
        for item in expect_list(await self.get_json("/api/v2/alerts", params=_ALL_FIRING)):
            entry = expect_dict(item)
            status = expect_dict(entry.get("status", {}))
            if status.get("state", "active") != "active":
                # A silenced alert may be inhibited too: count it once, as silenced (a human chose it).
                if status.get("silencedBy"):
                    silenced += 1
                elif status.get("inhibitedBy"):
                    inhibited += 1
                continue
            alerts.append(
                prometheus_alert(
                    str_labels(entry.get("labels")),
                    str_labels(entry.get("annotations", {})),
                    entry.get("startsAt"),
                    self.name,
                    entry.get("generatorURL", ""),
                )
            )
        return alerts, silenced, inhibited
