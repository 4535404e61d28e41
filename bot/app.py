"""The Quart app: `create_app()` builds the checks, registers the blueprints, and opens the
services (store, monitors' clients, pipeline) in one `while_serving` hook, closed after.

Blueprints: `/sms` (bot/webhook.py) and the service's own endpoints here: `/health`,
`/ready` (open, for load balancers) and `/`, `/metrics` (bearer METRICS_TOKEN when set).
A new group of routes is a module with a Blueprint plus one line in BLUEPRINTS.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncGenerator, Callable

from quart import Blueprint, Quart, Response, request

from bot import alert_routes, webhook
from bot.app_state import GATE, SERVICES, Gate, gate, services
from bot.config import Settings, start_refusal
from bot.pipeline import Sender
from bot.security import AllowList, RefusalLog, SignatureCheck, bearer_ok
from bot.services import Services
from dialogs.store import SessionStore, StoreUnavailable
from monitors.registry import Monitors

log = logging.getLogger(__name__)
VERSION = "0.1.0"

endpoints = Blueprint("service", __name__)
BLUEPRINTS: list[Blueprint] = [webhook.blueprint, endpoints, alert_routes.blueprint]


def create_app(
    settings: Settings | None = None,
    *,
    local: bool = False,
    store: SessionStore | None = None,
    monitors: Monitors | None = None,
    clock: Callable[[], float] = time.time,
    send_later: Sender | None = None,
) -> Quart:
    """The app. Outside `local` it needs TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL (RuntimeError otherwise)."""
    settings = settings or Settings()
    refusal = start_refusal(settings, local=local)
    if refusal is not None:
        raise RuntimeError(refusal)
    app = Quart("operator")
    app.extensions[GATE] = _gate(settings, local)

    @app.while_serving
    async def serving() -> AsyncGenerator[None, None]:
        app.extensions[SERVICES] = Services.open(
            settings, store=store, monitors=monitors, clock=clock, send_later=send_later
        )
        gc.freeze()  # start-up objects never need collecting; shortens full-GC pauses per request
        try:
            yield
        finally:
            await app.extensions.pop(SERVICES).aclose()
            app.extensions[GATE].refusals.flush()

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.asgi_app = webhook.BodyGuard(  # type: ignore[method-assign]
        app,
        settings.max_body_bytes,
        settings.max_form_fields,
    )
    return app


def _gate(settings: Settings, local: bool) -> Gate:
    token = settings.twilio_auth_token
    public_url = str(settings.public_base_url) if settings.public_base_url else None
    signatures = SignatureCheck(token.get_secret_value(), public_url) if token is not None else None
    open_local = local and not settings.authorized_numbers
    allow = AllowList(
        settings.authorized_numbers, settings.default_region, accept_all=open_local, channels=settings.allowed_channels
    )
    if open_local:
        log.warning("local mode with AUTHORIZED_NUMBERS empty: every sender on loopback is accepted")
    elif not allow.numbers:
        log.warning("AUTHORIZED_NUMBERS is empty: every sender will be refused")
    return Gate(settings, signatures, allow, RefusalLog(logging.getLogger("bot.webhook")), local)


def _authorized() -> bool:
    token = gate().settings.metrics_token
    return token is None or bearer_ok(request.headers.get("Authorization"), token.get_secret_value())


def _unauthorized() -> Response:
    return Response(
        "unauthorized", status=401, content_type="text/plain", headers={"WWW-Authenticate": 'Bearer realm="operator"'}
    )


@endpoints.get("/health")
async def health() -> tuple[dict[str, object], int]:
    if request.args.get("ready"):
        return await ready()
    return {"status": "ok"}, 200


@endpoints.get("/ready")
async def ready() -> tuple[dict[str, object], int]:
    try:
        await services().store.ping()
    except StoreUnavailable:
        return {"status": "unavailable", "store": "unreachable"}, 503
    return {"status": "ok", "store": "ok"}, 200


@endpoints.get("/")
async def info() -> dict[str, object] | Response:
    if not _authorized():
        return _unauthorized()
    s = services()
    return {
        "name": "operator",
        "version": VERSION,
        "monitors": s.monitors.names,
        "store": type(s.store).__name__,
        "signatures": "checked" if gate().signatures is not None else "NOT CHECKED (local mode)",
    }


@endpoints.get("/metrics")
async def metrics() -> Response:
    if not _authorized():
        return _unauthorized()
    return Response(services().metrics.exposition(), content_type="text/plain; version=0.0.4")
