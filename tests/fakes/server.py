"""A small threaded HTTP server for vendor fakes (Datadog, Loki, Elasticsearch, Kong, Twilio).

Each fake registers handlers for (method, path); every request is recorded so tests can
assert what our adapters actually sent. `fault` switches the whole server into a failure
mode to test how adapters degrade: "hang", "500", "garbage", "reset", "401".
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DROP = -1  # a Reply status: reset the connection instead of answering


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain; charset=utf-8")
        return json.dumps(self.body).encode(), "application/json"


Handler = Callable[[Request], Reply]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's 5 drops the SYNs of a burst: requests time out
    daemon_threads = True


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self.fault: str | None = None
        self._release = threading.Event()  # set at shutdown so hung handlers return
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else delayed ACKs stall each reply ~40 ms

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                outer.requests.append(req)
                fault = outer.fault
                if fault == "hang":
                    outer._release.wait(60)
                    self.close_connection = True
                    return
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "500":
                    reply = Reply(500, {"error": "internal error"})
                elif fault == "401":
                    reply = Reply(401, {"errors": ["Unauthorized"]})
                elif fault == "garbage":
                    reply = Reply(200, b"<html>not json", {"Content-Type": "application/json"})
                else:
                    handler = outer.routes.get((self.command, parts.path))
                    reply = handler(req) if handler else Reply(404, {"error": "not found"})
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status == DROP:  # the handler ran (e.g. created a resource); the answer is lost
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                data, ctype = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    if name.lower() != "content-type":
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        # A short poll interval: shutdown() waits up to one interval, once per fake per test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes[(method, path)] = fn
            return fn

        return register

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
