"""Alertmanager (API v2): status for health, and the alerts a human should act on now.

"Act on now" means active: not silenced and not inhibited. Alertmanager filters that
itself, so a silence set anywhere (UI, amtool, a later `silence` command) hides the
alert from `alerts` at once.
"""

from __future__ import annotations

from typing import Self

import httpx

from monitors.base import ALERTS, Alert, AlertSource, HttpMonitor
from monitors.config import MonitorSettings
from monitors.prometheus import expect_dict, expect_list, prometheus_alert, str_labels

# Query flags are strings: httpx would send Python's True as "True", which Alertmanager rejects.
_ACTIVE_ONLY = {"active": "true", "silenced": "false", "inhibited": "false"}


class AlertmanagerMonitor(HttpMonitor, AlertSource):
    """Active alerts from one Alertmanager."""

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
        return await self.call(self._alerts())

    async def _alerts(self) -> list[Alert]:
        alerts = []
        for item in expect_list(await self.get_json("/api/v2/alerts", params=_ACTIVE_ONLY)):
            entry = expect_dict(item)
            state = expect_dict(entry.get("status", {})).get("state", "active")
            if state != "active":  # belt and braces: the filter above should already drop these
                continue
            alerts.append(prometheus_alert(str_labels(entry.get("labels")),
                                           str_labels(entry.get("annotations", {})),
                                           entry.get("startsAt"), self.name))
        return alerts
