"""A fake Elasticsearch following shared/reference/api_examples/elasticsearch_*.json.

`POST /<index>/_search` evaluates the bool filter our adapter sends (range with
`now-<N>s`, term, terms) over stored documents; anything else gets ES's 400 error JSON
(`parsing_exception`). Like ES, it reads every field from the request: the range applies
to the field the range names, hits are ordered by the `sort` field (documents without it
last) and carry its epoch-ms value in `sort`, and `_source` (a list of fields) trims each
hit's source to those fields. A document without the named timestamp field never matches
the range. `GET /_cluster/health` reports `health` (green/yellow/red).
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


def stamp(doc: dict[str, Any], field: str) -> datetime | None:
    """The document's date in `field` (ISO text or epoch ms), None when it has none."""
    value = lookup(doc, field)
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def source_filter(doc: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """`_source: [fields]`: only those fields, nested as stored (a literal dotted key stays as is)."""
    out: dict[str, Any] = {}
    for field in fields:
        if field in doc:
            out[field] = doc[field]
            continue
        value = lookup(doc, field)
        if value is None:
            continue
        *parents, leaf = field.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def sort_field(body: dict[str, Any]) -> tuple[str, bool]:
    """(field, descending) of the request's first sort clause (`[{"f": {"order": "desc"}}]` or `["f"]`)."""
    (clause, *_) = body.get("sort") or [{"_score": {"order": "desc"}}]
    if isinstance(clause, str):
        return clause, False
    ((field, spec),) = clause.items()
    order = spec.get("order", "asc") if isinstance(spec, dict) else spec
    return field, order == "desc"


class ElasticsearchFake(FakeServer):
    def __init__(
        self,
        docs: list[dict[str, Any]] | None = None,
        index: str = "logs-*",
        health: str = "green",
        api_key: str | None = None,
    ) -> None:
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
        return Reply(
            200,
            {
                "cluster_name": "testcluster",
                "status": self.health,
                "timed_out": False,
                "number_of_nodes": 1,
                "unassigned_shards": 1 if self.health != "green" else 0,
            },
        )

    def _matches(self, doc: dict[str, Any], clause: dict[str, Any], now: datetime) -> bool:
        ((kind, spec),) = clause.items()
        ((field, cond),) = spec.items()
        value = lookup(doc, field)
        if kind == "term":
            return bool(value == cond)
        if kind == "terms":
            return value in cond
        if kind == "range":
            match = re.fullmatch(r"now-(\d+)s", cond["gte"])
            if match is None or cond.get("lte", "now") != "now":
                raise ValueError(f"failed to parse date field [{cond}]")
            when = stamp(doc, field)
            return when is not None and now - timedelta(seconds=int(match[1])) <= when <= now
        raise ValueError(f"unknown query [{kind}]")

    def _search(self, req: Request) -> Reply:
        body = req.json()
        try:
            filters = body["query"]["bool"]["filter"]
            now = datetime.now(UTC)
            found = [d for d in self.docs if all(self._matches(d, c, now) for c in filters)]
        except (KeyError, TypeError, ValueError) as exc:
            return es_error(400, "parsing_exception", f"[bool] malformed query: {exc}")
        field, descending = sort_field(body)
        dated = [(stamp(doc, field), doc) for doc in found]
        missing = [doc for when, doc in dated if when is None]  # ES sorts documents without the field last
        present = sorted(
            ((when, doc) for when, doc in dated if when is not None), key=lambda pair: pair[0], reverse=descending
        )
        ordered = [(when, doc) for when, doc in present] + [(None, doc) for doc in missing]
        total = len(found) if body.get("track_total_hits") else min(len(found), 10000)
        fields = body.get("_source")
        hits = [
            {
                "_index": "logs-2023.11.14",
                "_id": str(i),
                "_score": None,
                "_source": source_filter(doc, fields) if isinstance(fields, list) else doc,
                "sort": [int(when.timestamp() * 1000) if when is not None else -(2**63)],
            }
            for i, (when, doc) in enumerate(ordered[: body.get("size", 10)])
        ]
        return Reply(
            200,
            {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": total, "relation": "eq"}, "max_score": None, "hits": hits},
            },
        )
