"""POST /sms: Twilio's webhook, checked in order, each step cheaper than the next.

1. size      (`BodyGuard`, ASGI, before Quart builds a request) Content-Length over MAX_BODY_BYTES
             → 413 before a byte is read; a body that grows past it while read (chunked) → 413
             there; more than MAX_FORM_FIELDS fields → 413; still incomplete after 10 s → 408.
             Each closes the connection. Nothing before the signature costs more than 64 KiB.
2. signature twilio's RequestValidator over PUBLIC_BASE_URL + raw path and query → 403, nothing runs.
3. sender    `From` strictly E.164 (or an enabled channel) and on the allow-list → else an empty
             TwiML reply, counted, logged as one aggregated line per minute.
4. pipeline  rate, duplicate, lock, session, conversation (bot/pipeline.py) → TwiML <Message>.

The route holds no state: the gate (checks built from settings) and the services live on
the app (`bot.app`), so this blueprint is registered on any number of apps.
"""

from __future__ import annotations

import time
from typing import Any, cast
from urllib.parse import parse_qsl

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPResponseBodyEvent, HTTPResponseStartEvent, Scope
from quart import Blueprint, Quart, Response, request
from werkzeug.datastructures import MultiDict

from bot import twiml
from bot.app_state import SERVICES, gate, services
from bot.pipeline import Inbound
from dialogs.timers import Deadlines

blueprint = Blueprint("sms", __name__)
XML = "text/xml; charset=utf-8"
BODY_TIMEOUT_S = 10.0  # Twilio sends a few KiB at once; a body that trickles is not Twilio
FORM = "application/x-www-form-urlencoded"
BODY = "operator.body"  # the scope key under which `BodyGuard` hands the route the body it read


class Form(MultiDict[str, str]):
    """The webhook's form: werkzeug's MultiDict (repeated keys kept) that also answers `getall`,
    the name twilio's RequestValidator asks a form for first. A plain MultiDict reaches `getlist`
    through an AttributeError per key, twice per request: a third of the signature check's time."""

    def getall(self, key: str) -> list[str]:
        return self.getlist(key)


async def read_form(max_fields: int) -> Form | Response:
    """The urlencoded form with repeated keys kept. `BodyGuard` has already bounded the body."""
    if request.mimetype != FORM:
        return Form()  # no form: the signature check refuses it
    # The body as `BodyGuard` read it; Quart's `get_data` would wait for the same bytes again
    # under `asyncio.wait_for`, which costs a task and a timer per request.
    guarded = request.scope.get(BODY)
    raw = guarded if isinstance(guarded, bytes) else await request.get_data()  # else: an app without the guard
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return Form(parse_qsl(text, keep_blank_values=True, max_num_fields=max_fields))
    except ValueError:  # more fields than allowed (the guard counts '&', this counts fields)
        services().metrics.outcome("oversized")
        return Response("request too large", status=413, content_type="text/plain", headers={"Connection": "close"})


class BodyGuard:
    """ASGI middleware in front of Quart for POST /sms: the body is read here, bounded in bytes
    (declared or counted while read, so chunked bodies too), in time and in fields, and refused
    (413/408, connection closed) before Quart builds a request for it. That is the cheapest refusal
    there is, which is what a flood meets. A body within bounds is handed on in one piece, and
    also put in the scope under `BODY` for the route."""

    def __init__(
        self, app: Quart, max_bytes: int, max_fields: int, path: str = "/sms", body_timeout_s: float = BODY_TIMEOUT_S
    ) -> None:
        self.app = app
        self.inner = app.asgi_app
        self.max_bytes = max_bytes
        self.max_fields = max_fields
        self.path = path
        self.body_timeout_s = body_timeout_s
        self._deadlines = Deadlines(body_timeout_s)  # asyncio.timeout's semantics, without a loop timer per body

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        body = await self._read(scope, receive)
        if isinstance(body, int):
            await self._refuse(send, body)
            return
        cast(dict[str, Any], scope)[BODY] = body
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.inner(scope, replay, send)

    async def _read(self, scope: Any, receive: ASGIReceiveCallable) -> bytes | int:
        """The whole body, or the status refusing it."""
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                return 413
        body = bytearray()
        try:
            async with self._deadlines():
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return 400  # the client went away
                    body += message.get("body", b"")
                    if len(body) > self.max_bytes:
                        return 413
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return 408
        return 413 if body.count(b"&") >= self.max_fields else bytes(body)

    async def _refuse(self, send: ASGISendCallable, status: int) -> None:
        services = self.app.extensions.get(SERVICES)
        if services is not None and status == 413:
            services.metrics.outcome("oversized")
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "trailers": False,
            "headers": [(b"content-type", b"text/plain"), (b"connection", b"close")],
        }
        await send(start)
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "more_body": False,
            "body": b"request too large" if status == 413 else b"bad request body",
        }
        await send(body)


@blueprint.post("/sms")
async def sms() -> Response:
    started = time.perf_counter()
    g, s = gate(), services()
    form = await read_form(g.settings.max_form_fields)
    if isinstance(form, Response):
        return form
    if g.signatures is not None:
        raw_path = request.scope.get("raw_path", request.path.encode()).decode("latin-1")
        url = g.signatures.url_for(lambda: request.host_url, raw_path, request.query_string.decode("latin-1"))
        if not g.signatures.valid(url, form, request.headers.get("X-Twilio-Signature")):
            s.metrics.outcome("forged")
            return small("forbidden", "text/plain", 403)
    raw_from = form.get("From", "")
    sender = g.allow.check(raw_from)
    if sender is None:
        s.metrics.outcome("unknown_sender")
        g.refusals.refused(raw_from)
        return small(twiml.EMPTY)
    reply = await s.pipeline.handle(Inbound(sender, form.get("Body", ""), form.get("MessageSid", "")))
    s.metrics.reply_seconds.observe(time.perf_counter() - started)
    return small(twiml.message(reply))


def small(body: str, content_type: str = XML, status: int = 200) -> Response:
    """A response of a few KiB at most (a reply is MAX_BODY characters of TwiML), sent without
    RESPONSE_TIMEOUT. Quart sends every response under `asyncio.wait_for(RESPONSE_TIMEOUT)`, a task
    and a timer per request, against a client that stops reading; a body this small goes whole into
    the transport's buffer (its high-water mark is 64 KiB), so sending never waits on the client."""
    response = Response(body, status=status, content_type=content_type)
    response.timeout = None
    return response
