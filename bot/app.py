"""The Quart app: the Twilio webhook and the service's own endpoints.

`create_app()` builds nothing that holds a connection: the store, the monitors'
clients and the pipeline are opened in `before_serving` and closed in `after_serving`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from quart import Quart, Response, request

from bot import twiml
from bot.alert_routes import oncall_blueprint
from bot.config import Settings
from bot.pipeline import Inbound, Sender
from bot.security import AllowList, SignatureCheck, mask
from bot.services import Services
from dialogs.store import SessionStore, StoreUnavailable
from monitors.registry import Monitors

log = logging.getLogger(__name__)
VERSION = "0.1.0"
XML = "text/xml; charset=utf-8"


def create_app(settings: Settings | None = None, *, local: bool = False, store: SessionStore | None = None,
               monitors: Monitors | None = None, clock: Callable[[], float] = time.time,
               send_later: Sender | None = None) -> Quart:
    """The app. Without TWILIO_AUTH_TOKEN it runs only with `local=True` (signatures unchecked)."""
    settings = settings or Settings()
    token = settings.twilio_auth_token
    if token is None and not local:
        raise RuntimeError("TWILIO_AUTH_TOKEN is not set: refusing to accept unsigned webhooks (use --local)")
    signatures = SignatureCheck(token.get_secret_value(), str(settings.public_base_url or "") or None) \
        if token is not None else None
    open_local = local and not settings.authorized_numbers
    allow = AllowList(settings.authorized_numbers, settings.default_region, accept_all=open_local)
    if open_local:
        log.warning("local mode with AUTHORIZED_NUMBERS empty: every sender on loopback is accepted")
    elif not allow.numbers:
        log.warning("AUTHORIZED_NUMBERS is empty: every sender will be refused")

    app = Quart("operator")
    holder: dict[str, Services] = {}

    @app.before_serving
    async def open_services() -> None:
        holder["s"] = Services.open(settings, store=store, monitors=monitors, clock=clock,
                                    send_later=send_later)
        gc.freeze()  # start-up objects never need collecting; shortens full-GC pauses per request

    @app.after_serving
    async def close_services() -> None:
        services = holder.pop("s", None)
        if services is not None:
            await services.aclose()

    def services() -> Services:
        return holder["s"]

    @app.post("/sms")
    async def sms() -> Response:
        started = time.perf_counter()
        s = services()
        form = await request.form
        if signatures is not None:
            raw_path = request.scope.get("raw_path", request.path.encode()).decode("latin-1")
            url = signatures.url_for(lambda: request.host_url, raw_path, request.query_string.decode("latin-1"))
            if not signatures.valid(url, form, request.headers.get("X-Twilio-Signature")):
                s.metrics.outcome("forged")
                return Response("forbidden", status=403, content_type="text/plain")
        sender = allow.check(form.get("From", ""))
        if sender is None:
            s.metrics.outcome("unknown_sender")
            log.info("refused message from unknown sender %s", mask(form.get("From", "")))
            return Response(twiml.EMPTY, content_type=XML)
        reply = await s.pipeline.handle(Inbound(sender, form.get("Body", ""), form.get("MessageSid", "")))
        s.metrics.reply_seconds.observe(time.perf_counter() - started)
        return Response(twiml.message(reply), content_type=XML)

    @app.get("/health")
    async def health() -> tuple[dict[str, object], int]:
        if request.args.get("ready"):
            return await ready()
        return {"status": "ok"}, 200

    @app.get("/ready")
    async def ready() -> tuple[dict[str, object], int]:
        try:
            await services().store.ping()
        except StoreUnavailable:
            return {"status": "unavailable", "store": "unreachable"}, 503
        return {"status": "ok", "store": "ok"}, 200

    @app.get("/")
    async def info() -> dict[str, object]:
        s = services()
        return {
            "name": "operator",
            "version": VERSION,
            "monitors": s.monitors.names,
            "store": type(s.store).__name__,
            "signatures": "checked" if signatures is not None else "NOT CHECKED (local mode)",
        }

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(services().metrics.exposition(), content_type="text/plain; version=0.0.4")

    app.register_blueprint(oncall_blueprint(services, signatures))
    return app
