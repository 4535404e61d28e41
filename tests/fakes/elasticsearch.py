"""A fake Elasticsearch following shared/reference/api_examples/elasticsearch_*.json.

`POST /<index>/_search` evaluates the bool filter our adapter sends (range with
`now-<N>s`, term, terms) over stored documents; anything else gets ES's 400 error JSON
(`parsing_exception`). `GET /_cluster/health` reports `health` (green/yellow/red).
With `api_key` set, requests without `Authorization: ApiKey <key>` get ES's 401.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request


def es_error(status: int, kind: str, reason: str) -> Reply:
    cause = {"type": kind, "reason": reason}
    return Reply(status, {"error": {"root_cause": [cause], **cause}, "status": status})


def lookup(doc: dict[str, Any], dotted: str) -> Any:
    if dotted in doc:
        return doc[dotted]
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def stamp(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(doc["@timestamp"]).replace("Z", "+00:00"))


class ElasticsearchFake(FakeServer):
    def __init__(self, docs: list[dict[str, Any]] | None = None, index: str = "logs-*",
                 health: str = "green", api_key: str | None = None) -> None:
        super().__init__()
        self.docs = list(docs or [])
        self.health = health
        self.api_key = api_key
        self.routes[("GET", "/_cluster/health")] = self._guard(self._health)
        self.routes[("POST", f"/{index}/_search")] = self._guard(self._search)

    def _guard(self, handler: Any) -> Any:
        def guarded(req: Request) -> Reply:
            if self.api_key and req.headers.get("authorization") != f"ApiKey {self.api_key}":
                return es_error(401, "security_exception", "unable to authenticate with provided credentials")
            reply: Reply = handler(req)
            return reply
        return guarded

    def _health(self, req: Request) -> Reply:
        return Reply(200, {"cluster_name": "testcluster", "status": self.health, "timed_out": False,
                           "number_of_nodes": 1, "unassigned_shards": 1 if self.health != "green" else 0})

    def _matches(self, doc: dict[str, Any], clause: dict[str, Any], now: datetime) -> bool:
        (kind, spec), = clause.items()
        (field, cond), = spec.items()
        value = lookup(doc, field)
        if kind == "term":
            return bool(value == cond)
        if kind == "terms":
            return value in cond
        if kind == "range":
            match = re.fullmatch(r"now-(\d+)s", cond["gte"])
            if match is None or cond.get("lte", "now") != "now":
                raise ValueError(f"failed to parse date field [{cond}]")
            return now - timedelta(seconds=int(match[1])) <= stamp(doc) <= now
        raise ValueError(f"unknown query [{kind}]")

    def _search(self, req: Request) -> Reply:
        body = req.json()
        try:
            filters = body["query"]["bool"]["filter"]
            now = datetime.now(UTC)
            found = [d for d in self.docs if all(self._matches(d, c, now) for c in filters)]
        except (KeyError, TypeError, ValueError) as exc:
            return es_error(400, "parsing_exception", f"[bool] malformed query: {exc}")
        found.sort(key=stamp, reverse=True)
        total = len(found) if body.get("track_total_hits") else min(len(found), 10000)
        hits = [{"_index": "logs-2023.11.14", "_id": str(i), "_score": None, "_source": doc,
                 "sort": [int(stamp(doc).timestamp() * 1000)]}
                for i, doc in enumerate(found[: body.get("size", 10)])]
        return Reply(200, {"took": 1, "timed_out": False,
                           "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                           "hits": {"total": {"value": total, "relation": "eq"}, "max_score": None,
                                    "hits": hits}})
