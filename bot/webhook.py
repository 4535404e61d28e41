"""POST /sms: Twilio's webhook, checked in order, each step cheaper than the next.

1. size      Content-Length over MAX_BODY_BYTES → 413 before a byte is read; a body that grows
             past it while being read (chunked) → 413 there; more than MAX_FORM_FIELDS fields → 413.
             So nothing before the signature costs more than reading 64 KiB.
2. signature twilio's RequestValidator over PUBLIC_BASE_URL + raw path and query → 403, nothing runs.
3. sender    `From` strictly E.164 (or an enabled channel) and on the allow-list → else an empty
             TwiML reply, counted, logged as one aggregated line per minute.
4. pipeline  rate, duplicate, lock, session, conversation (bot/pipeline.py) → TwiML <Message>.

The route holds no state: the gate (checks built from settings) and the services live on
the app (`bot.app`), so this blueprint is registered on any number of apps.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl

from quart import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from bot import twiml
from bot.app_state import gate, services
from bot.pipeline import Inbound

blueprint = Blueprint("sms", __name__)
XML = "text/xml; charset=utf-8"
BODY_TIMEOUT_S = 10.0  # Twilio sends a few KiB at once; a body that trickles is not Twilio
FORM = "application/x-www-form-urlencoded"


async def read_form(max_bytes: int, max_fields: int) -> MultiDict[str, str] | Response:
    """The urlencoded form (repeated keys kept), or the refusal when it is too large or too slow."""
    if request.content_length is not None and request.content_length > max_bytes:
        return _too_large()
    if request.mimetype != FORM:
        return MultiDict()  # no form: the signature check refuses it
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.body:
                body += chunk
                if len(body) > max_bytes:
                    return _too_large()
    except TimeoutError:
        return Response("request body too slow", status=408, content_type="text/plain")
    if body.count(b"&") >= max_fields:
        return _too_large()
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields)
    return MultiDict(fields)


def _too_large() -> Response:
    services().metrics.outcome("oversized")
    return Response("request too large", status=413, content_type="text/plain")


@blueprint.post("/sms")
async def sms() -> Response:
    started = time.perf_counter()
    g, s = gate(), services()
    form = await read_form(g.settings.max_body_bytes, g.settings.max_form_fields)
    if isinstance(form, Response):
        return form
    if g.signatures is not None:
        raw_path = request.scope.get("raw_path", request.path.encode()).decode("latin-1")
        url = g.signatures.url_for(lambda: request.host_url, raw_path, request.query_string.decode("latin-1"))
        if not g.signatures.valid(url, form, request.headers.get("X-Twilio-Signature")):
            s.metrics.outcome("forged")
            return Response("forbidden", status=403, content_type="text/plain")
    raw_from = form.get("From", "")
    sender = g.allow.check(raw_from)
    if sender is None:
        s.metrics.outcome("unknown_sender")
        g.refusals.refused(raw_from)
        return Response(twiml.EMPTY, content_type=XML)
    reply = await s.pipeline.handle(Inbound(sender, form.get("Body", ""), form.get("MessageSid", "")))
    s.metrics.reply_seconds.observe(time.perf_counter() - started)
    return Response(twiml.message(reply), content_type=XML)
