"""Elasticsearch (or OpenSearch): error lines of one configured service (`logs api 1h`).

One `POST /<index>/_search` per question: a bool filter (range on the timestamp field
from `now-<window>`, a term on the service field, terms on the level field), newest
first, `size=limit`, and `track_total_hits: true` so `hits.total.value` is the exact
count rather than the 10 000 lower bound. The service is matched against `LOG_SERVICES`
first and then sent as a JSON term value, never spliced into query text.
Health: `GET /_cluster/health` - red is down ("cluster red"), yellow is ok with a note.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import quote

import httpx

from monitors.base import (
    LOGS,
    AuthRejected,
    BadResponse,
    Degraded,
    HttpMonitor,
    LogLine,
    LogResult,
    LogSource,
    MonitorError,
    QueryFailed,
)
from monitors.config import MonitorSettings
from monitors.log_format import trim


def field_value(source: dict[str, Any], dotted: str) -> Any:
    """`source["log.level"]` if the document has that literal key, else `source["log"]["level"]`."""
    if dotted in source:
        return source[dotted]
    value: Any = source
    for part in dotted.split("."):
        value = value[part]
    return value


def parse_timestamp(value: Any) -> datetime:
    """ISO-8601 text (`2023-11-14T22:13:20Z`) or epoch milliseconds, as an aware datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def es_error(response: httpx.Response) -> MonitorError:
    """ES answers errors as `{"error": {"type", "reason", ...}, "status"}`: keep the gist."""
    try:
        error = response.json()["error"]
        kind, reason = error["type"], error.get("reason", "")
    except (ValueError, KeyError, TypeError):
        return BadResponse(f"HTTP {response.status_code}")
    if kind == "index_not_found_exception":
        return QueryFailed("index not found")
    return QueryFailed(trim(f"HTTP {response.status_code} {kind}: {reason}", 100))


class ElasticsearchMonitor(HttpMonitor, LogSource):
    """Logs from Elasticsearch; field names come from settings (ECS defaults)."""

    name = "elasticsearch"
    capabilities = frozenset({LOGS})

    def __init__(
        self,
        base_url: str,
        client: httpx.AsyncClient,
        timeout_s: float,
        *,
        services: list[str],
        index: str = "logs-*",
        service_field: str = "service.name",
        level_field: str = "log.level",
        levels: list[str] | None = None,
        message_field: str = "message",
        timestamp_field: str = "@timestamp",
    ) -> None:
        super().__init__(base_url, client, timeout_s)
        self.services = list(services)
        self.index = index
        self.service_field = service_field
        self.level_field = level_field
        self.levels = list(levels or ["error", "fatal", "critical"])
        self.message_field = message_field
        self.timestamp_field = timestamp_field

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Self | None:
        if settings.elasticsearch_url is None:
            return None
        headers = {"Content-Type": "application/json"}
        if settings.elasticsearch_api_key is not None:
            headers["Authorization"] = "ApiKey " + settings.elasticsearch_api_key.get_secret_value()
        client = httpx.AsyncClient(timeout=settings.monitor_timeout_s, headers=headers)
        return cls(
            settings.elasticsearch_url.get_secret_value(),
            client,
            settings.monitor_timeout_s,
            services=settings.log_services,
            index=settings.elasticsearch_index,
            service_field=settings.elasticsearch_service_field,
            level_field=settings.elasticsearch_level_field,
            levels=settings.elasticsearch_error_levels,
            message_field=settings.elasticsearch_message_field,
            timestamp_field=settings.elasticsearch_timestamp_field,
        )

    async def probe(self) -> str | Degraded:
        response = await self.client.get(self.base_url + "/_cluster/health")
        if response.status_code in (401, 403):
            raise _auth(response)
        if response.status_code >= 400:
            raise es_error(response)
        status = response.json()["status"]
        if status == "red":
            raise BadResponse("cluster red")
        if status not in ("green", "yellow"):
            raise ValueError(status)
        # Yellow: every primary shard is allocated, some replicas are not - searches work.
        return Degraded("cluster yellow (replicas unassigned)") if status == "yellow" else ""

    def search_body(self, service: str, window: timedelta, limit: int) -> dict[str, Any]:
        """The `_search` request body; `service` travels only as a JSON term value."""
        seconds = max(1, int(window.total_seconds()))
        return {
            "size": limit,
            "track_total_hits": True,
            "sort": [{self.timestamp_field: {"order": "desc"}}],
            "_source": [self.timestamp_field, self.message_field],
            "query": {
                "bool": {
                    "filter": [
                        {"range": {self.timestamp_field: {"gte": f"now-{seconds}s", "lte": "now"}}},
                        {"term": {self.service_field: service}},
                        {"terms": {self.level_field: self.levels}},
                    ]
                }
            },
        }

    async def errors(self, service: str, window: timedelta, limit: int) -> LogResult:
        if service not in self.services:
            # Checked before any request: user words never reach a query unmatched.
            raise QueryFailed(f"unknown service; known: {', '.join(self.services) or 'none'}")
        body = self.search_body(service, window, limit)
        return await self.call(self._search(service, window, body))

    async def _search(self, service: str, window: timedelta, body: dict[str, Any]) -> LogResult:
        # The index pattern is configuration; quote it anyway (commas and * stay as ES wants).
        path = f"/{quote(self.index, safe='*,-_.')}/_search"
        response = await self.client.post(self.base_url + path, json=body)
        if response.status_code in (401, 403):
            raise _auth(response)
        if response.status_code >= 400:
            raise es_error(response)
        hits = response.json()["hits"]
        lines = []
        for hit in hits["hits"]:
            source = hit["_source"]
            try:
                stamp = field_value(source, self.timestamp_field)
            except (KeyError, TypeError):
                stamp = hit["sort"][0]  # sorted on the timestamp field: epoch ms
            lines.append(LogLine(parse_timestamp(stamp), str(field_value(source, self.message_field))))
        return LogResult(service, window, int(hits["total"]["value"]), lines)


def _auth(response: httpx.Response) -> MonitorError:
    return AuthRejected(f"auth rejected (HTTP {response.status_code})")
