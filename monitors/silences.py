"""Alertmanager silences (API v2): create, expire, list. Used by the on-call loop's replies.

One pooled `httpx.AsyncClient` against ALERTMANAGER_URL (the same setting the alert
monitor reads), every call bounded by MONITOR_TIMEOUT_S. Cost: one HTTP request per call.

Contract (facts from Alertmanager's api/v2 and silence/silence.go, see reference/oncall.md §2):
- `create` POSTs /api/v2/silences with exact matchers (isRegex false, isEqual true) and
  returns the id Alertmanager answers (always store that id: an update may return a new one);
- `expire` DELETEs /api/v2/silence/{id}; 200 → True, 404 → False ("already gone": unknown or
  garbage-collected; expiring an expired silence is 200). Alertmanager 0.25 answers an unknown
  id with 500 "silence not found": also False;
- `active` GETs /api/v2/silences and keeps the active ones, soonest end first.

Errors: every failure (refused, timeout, HTTP 4xx/5xx, malformed body) is raised as
`MonitorError` with a short reason; Alertmanager's 400 text is kept (it says what was wrong).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self, TypeVar

import httpx

from monitors.alerting import parse_time
from monitors.base import MonitorError, describe_failure
from monitors.config import MonitorSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: dict[str, str]  # exact matchers only; regex ones are shown as name=~value
    ends_at: datetime | None
    created_by: str = ""
    comment: str = ""
    state: str = "active"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SilenceClient:
    """Create, expire and list silences on one Alertmanager."""

    def __init__(self, base_url: str, client: httpx.AsyncClient, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.alertmanager_url is None:
            return None
        timeout = settings.monitor_timeout_s
        return cls(settings.alertmanager_url.get_secret_value(), httpx.AsyncClient(timeout=timeout), timeout)

    async def _call(self, aw: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await aw
        except asyncio.CancelledError:
            raise
        except httpx.HTTPStatusError as exc:
            text = exc.response.text.strip()[:80]
            if exc.response.status_code == 400 and text:
                raise MonitorError(f"rejected: {text}") from exc
            raise MonitorError(describe_failure(exc, self.timeout_s)) from exc
        except Exception as exc:
            raise MonitorError(describe_failure(exc, self.timeout_s)) from exc

    async def create(
        self, labels: Mapping[str, str], duration: timedelta, created_by: str, comment: str, now: datetime | None = None
    ) -> str:
        """A silence matching exactly these labels from now for `duration`; returns its id."""
        start = now or datetime.now(UTC)
        body = {
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in sorted(labels.items())],
            "startsAt": iso(start),
            "endsAt": iso(start + duration),
            "createdBy": created_by,
            "comment": comment,
        }

        async def post() -> str:
            response = await self.client.post(self.base_url + "/api/v2/silences", json=body)
            response.raise_for_status()
            silence_id = response.json()["silenceID"]
            if not isinstance(silence_id, str) or not silence_id:
                raise ValueError("no silenceID")
            return silence_id

        return await self._call(post())

    async def expire(self, silence_id: str) -> bool:
        """Expire a silence: True when Alertmanager expired it, False when it was already gone (404)."""

        async def delete() -> bool:
            response = await self.client.delete(f"{self.base_url}/api/v2/silence/{silence_id}")
            # 404 on newer releases; 0.25 answers 500 with the JSON string "silence not found".
            if response.status_code == 404 or (response.status_code == 500 and "not found" in response.text):
                return False
            response.raise_for_status()
            return True

        return await self._call(delete())

    async def get(self, silence_id: str) -> Silence | None:
        async def fetch() -> Silence | None:
            response = await self.client.get(f"{self.base_url}/api/v2/silence/{silence_id}")
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return _silence(response.json())

        return await self._call(fetch())

    async def active(self) -> list[Silence]:
        """Active silences, the one ending soonest first."""

        async def fetch() -> list[Silence]:
            response = await self.client.get(self.base_url + "/api/v2/silences")
            response.raise_for_status()
            items = response.json()
            if not isinstance(items, list):
                raise TypeError("silences: not a list")
            found = [_silence(item) for item in items]
            live = [s for s in found if s.state == "active"]
            return sorted(live, key=lambda s: s.ends_at or datetime.max.replace(tzinfo=UTC))

        return await self._call(fetch())

    async def aclose(self) -> None:
        await self.client.aclose()


def _silence(item: Any) -> Silence:
    matchers: dict[str, str] = {}
    for m in item.get("matchers", []):
        op = ("=" if m.get("isEqual", True) else "!") + ("~" if m.get("isRegex") else "")
        name = str(m["name"])
        matchers[name] = str(m["value"]) if op == "=" else f"{op}{m['value']}"
    return Silence(
        id=str(item["id"]),
        matchers=matchers,
        ends_at=parse_time(item.get("endsAt")),
        created_by=str(item.get("createdBy", "")),
        comment=str(item.get("comment", "")),
        state=str(item.get("status", {}).get("state", "")),
    )
