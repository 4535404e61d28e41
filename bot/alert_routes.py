"""The on-call loop's HTTP routes: Alertmanager's webhook in, Twilio's delivery receipts in.

POST /alertmanager — Alertmanager's webhook (payload version 4), `Authorization: Bearer
ALERT_WEBHOOK_TOKEN` compared in constant time (401 without it). The body is bounded
(MAX_BODY); each alert is keyed by (fingerprint, startsAt, status) and persisted with one
script call (new ones onto the `ev` stream) before answering 200, so a repeat, a replay or an
HA peer's duplicate is stored once. Paging happens after, off the request (bot/escalation.py).
Answers: 200 stored; 400 not a v4 payload (Alertmanager does not retry a 4xx within this
flush); 401; 413; 503 only when Redis could not store it (Alertmanager retries a 5xx).
404 when the on-call loop is off (ALERT_WEBHOOK_TOKEN unset).

POST /twilio/status — Twilio's status callback for pages, signed like /sms (403 when forged):
recorded on the page; `failed`/`undelivered` escalate at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator

from quart import Blueprint, Response, current_app, request

from bot.app_state import gate, services
from bot.oncall import OncallLoop
from bot.security import bearer_ok
from monitors.alerting import normalise_severity, parse_time

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Alertmanager's max_alerts is unlimited by default; a storm batch stays far below
FINAL_FAILURES = ("failed", "undelivered")


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, content_type="text/plain")


_RANK = {"critical": 0, "warning": 1}


def parse_payload(body: bytes | str) -> list[tuple[str, str]]:
    """(dedupe key, event JSON) per alert of a v4 payload; ValueError naming what is wrong."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(payload, dict) or str(payload.get("version")) != "4":
        raise ValueError("not an Alertmanager webhook payload (version 4)")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise ValueError("alerts: not a list")
    events: list[tuple[tuple[bool, int], str, str]] = []
    for alert in alerts:
        if not isinstance(alert, dict):
            raise ValueError("alert: not an object")
        fp, starts, status = alert.get("fingerprint"), alert.get("startsAt"), alert.get("status")
        labels = alert.get("labels")
        started = parse_time(starts)
        if (
            not isinstance(fp, str)
            or not fp
            or started is None
            or status not in ("firing", "resolved")
            or not isinstance(labels, dict)
        ):
            raise ValueError("alert: fingerprint, startsAt, status and labels are required")
        event = {
            "fp": fp[:64],
            "starts_at": started.timestamp(),
            "status": status,
            "labels": {str(k): str(v) for k, v in labels.items()},
            "annotations": {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
            "group": str(payload.get("groupKey", ""))[:500],
            "group_labels": {str(k): str(v) for k, v in (payload.get("groupLabels") or {}).items()},
        }
        rank = (status != "firing", _RANK.get(normalise_severity(event["labels"].get("severity")), 2))
        events.append((rank, f"{fp[:64]}:{starts}:{status}", json.dumps(event)))
    # The first alert of a burst is paged at once and the rest wait for the bundle: a payload's
    # critical alerts go first, so a CRIT never waits PAGE_BUNDLE_S behind a WARN of the same group.
    return [(key, event) for _, key, event in sorted(events, key=lambda e: e[0])]


blueprint = Blueprint("oncall", __name__)


@blueprint.while_app_serving
async def run_loop() -> AsyncGenerator[None, None]:
    """Start the loop's workers once the services are open (registered after the app's own hook)."""
    loop = services().oncall
    if loop is not None:
        current_app.extensions["oncall"] = loop  # for operators' tooling and tests
        await loop.start()
    yield


@blueprint.post("/alertmanager")
async def alertmanager() -> Response:
    loop = services().oncall
    if loop is None:
        return _plain(404, "on-call loop off (ALERT_WEBHOOK_TOKEN unset)")
    token = loop.settings.alert_webhook_token
    assert token is not None
    if not bearer_ok(request.headers.get("Authorization"), token.get_secret_value()):
        return Response(
            "unauthorized\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="alertmanager"'},
        )
    if (request.content_length or 0) > MAX_BODY:
        return _plain(413, f"body over {MAX_BODY} bytes")
    request.max_content_length = MAX_BODY  # also bounds a chunked body without a length
    body = await request.get_data(cache=False, as_text=False)
    if len(body) > MAX_BODY:
        return _plain(413, f"body over {MAX_BODY} bytes")
    try:
        events = parse_payload(body)
    except ValueError as exc:
        return _plain(400, str(exc))
    try:
        new = await loop.store.receive(events)
    except Exception as exc:  # persisting failed: 5xx, so Alertmanager retries
        log.error("alert webhook not stored: %s", type(exc).__name__)
        return _plain(503, "not stored, retry")
    return Response(json.dumps({"alerts": len(events), "new": new}), content_type="application/json")


@blueprint.post("/twilio/status")
async def twilio_status() -> Response:
    form = await request.form
    signatures = gate().signatures
    if signatures is not None:
        raw_path = request.scope.get("raw_path", request.path.encode()).decode("latin-1")
        url = signatures.url_for(lambda: request.host_url, raw_path, request.query_string.decode("latin-1"))
        if not signatures.valid(url, form, request.headers.get("X-Twilio-Signature")):
            return _plain(403, "forbidden")
    loop = services().oncall
    if loop is None:
        return _plain(404, "on-call loop off")
    try:
        await receipt(loop, form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode", ""))
    except Exception as exc:
        log.error("status callback not recorded: %s", type(exc).__name__)
        return _plain(503, "not recorded")
    return Response("", status=204)


async def receipt(loop: OncallLoop, sid: str, status: str, code: str) -> None:
    """Record a delivery receipt (the pager escalates a final failure); 21610 marks the number opted out."""
    pid = await loop.store.page_of_sid(sid)
    if pid is None:
        return
    if status in FINAL_FAILURES and code == "21610":
        page = await loop.store.page(pid)
        await loop.sessions.set_opted_out(page["to"], True)
    await loop.pager.receipt(pid, status, code)
