"""A fake Loki that answers the shapes in shared/reference/api_examples/loki_*.json.

It understands just the LogQL our adapter writes - `{label="value"}` optionally followed by
`|= "text"` or `|~ "regex"`, and `sum(count_over_time(<that> [Ns]))` - and answers anything
else as Loki does: HTTP 400 with a plain-text parse error.

With `tenant` set it runs multi-tenant (auth_enabled: true) and, like Loki, answers
401 "no org id" to a query without that X-Scope-OrgID header; a query naming another
tenant sees none of the stored entries (they belong to `tenant`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes.server import FakeServer, Reply, Request

_STRING = r'"(?:[^"\\]|\\.)*"'
_SELECTOR = re.compile(
    rf"\{{(?P<label>[A-Za-z_]\w*)=(?P<value>{_STRING})\}}"
    rf"\s*(?:(?P<op>\|=|\|~)\s*(?P<arg>{_STRING}))?\Z"
)
_COUNT = re.compile(r"sum\(count_over_time\((?P<inner>.*) \[(?P<seconds>\d+)s\]\)\)\Z")


def unquote(literal: str) -> str:
    """Go string-literal unescaping, as Loki's parser does (enough for `\\"`, `\\\\`, `\\n`, `\\xNN`)."""
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt == "x":
                out.append(chr(int(body[i + 2 : i + 4], 16)))
                i += 4
                continue
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass
class Entry:
    labels: dict[str, str]
    ts_ns: int
    line: str


def parse_error(query: str) -> Reply:
    return Reply(400, f"parse error at line 1, col 1: syntax error: unexpected IDENTIFIER in {query!r}\n")


class LokiFake(FakeServer):
    """`entries` are the stored log lines; tests append to it and inspect `requests`."""

    def __init__(self, entries: list[Entry] | None = None, ready: bool = True, tenant: str | None = None) -> None:
        super().__init__()
        self.entries = list(entries or [])
        self.ready = ready
        self.tenant = tenant
        self.routes[("GET", "/ready")] = self._ready  # /ready needs no org id, as in Loki
        self.routes[("GET", "/loki/api/v1/query_range")] = self._tenanted(self._query_range)
        self.routes[("GET", "/loki/api/v1/query")] = self._tenanted(self._query)

    def _tenanted(self, handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
        def guarded(req: Request) -> Reply:
            if self.tenant is None:
                return handler(req)
            org = req.headers.get("x-scope-orgid")
            if not org:
                return Reply(401, "no org id\n")
            return handler(req)

        return guarded

    def _ready(self, req: Request) -> Reply:
        if self.ready:
            return Reply(200, "ready\n")
        return Reply(503, "Ingester not ready: waiting for 15s after being ready\n")

    def _visible(self, req: Request) -> list[Entry]:
        """The stored entries belong to `tenant`: another org id sees none of them."""
        if self.tenant is not None and req.headers.get("x-scope-orgid") != self.tenant:
            return []
        return self.entries

    def _select(self, query: str, start_ns: int, end_ns: int, entries: list[Entry]) -> list[Entry] | None:
        match = _SELECTOR.match(query)
        if match is None:
            return None
        label, value = match["label"], unquote(match["value"])
        arg = unquote(match["arg"]) if match["arg"] else ""
        found = []
        for entry in entries:
            if entry.labels.get(label) != value or not start_ns < entry.ts_ns <= end_ns:
                continue
            if match["op"] == "|=" and arg not in entry.line:
                continue
            if match["op"] == "|~" and not re.search(arg, entry.line):
                continue
            found.append(entry)
        return found

    def _query_range(self, req: Request) -> Reply:
        query = req.query["query"][0]
        limit = int(req.query.get("limit", ["100"])[0])
        found = self._select(query, int(req.query["start"][0]), int(req.query["end"][0]), self._visible(req))
        if found is None:
            return parse_error(query)
        backward = req.query.get("direction", ["backward"])[0] == "backward"
        found.sort(key=lambda e: e.ts_ns, reverse=backward)
        streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
        for entry in found[:limit]:
            streams.setdefault(tuple(sorted(entry.labels.items())), []).append([str(entry.ts_ns), entry.line])
        result = [{"stream": dict(key), "values": values} for key, values in streams.items()]
        return Reply(
            200,
            {
                "status": "success",
                "data": {"resultType": "streams", "result": result, "stats": {"summary": {"execTime": 0}}},
            },
        )

    def _query(self, req: Request) -> Reply:
        query = req.query["query"][0]
        match = _COUNT.match(query)
        if match is None:
            return parse_error(query)
        end = int(req.query["time"][0])
        found = self._select(match["inner"], end - int(match["seconds"]) * 1_000_000_000, end, self._visible(req))
        if found is None:
            return parse_error(query)
        result = [{"metric": {}, "value": [end / 1e9, str(len(found))]}] if found else []
        return Reply(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
