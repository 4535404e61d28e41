"""`operator ping [URL]`: the deployment self-test. Texts `help` to a deployed webhook the
way Twilio would and says what happened, with the likely cause when it went wrong.

The request is what Twilio sends for an incoming SMS: the usual form fields with a fresh
MessageSid (SM + 32 hex), signed with this machine's TWILIO_AUTH_TOKEN over the exact URL
called (twilio's RequestValidator), From an authorized number. Costs one POST; the
service answers it like any message (it counts toward the sender's rate limit).

Outcomes (exit code): answered (0); 403 signature rejected, an empty reply (the sender is
not allowed), a timeout, a refused connection, a TLS failure or another status (1).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

from bot.security import mask

TWILIO_TIMEOUT_S = 15.0  # Twilio gives up on a webhook after 15 s (error 11200)


@dataclass(frozen=True, slots=True)
class PingOutcome:
    ok: bool
    text: str


def webhook_url(base: str) -> str:
    """`https://ops.example.com` -> `https://ops.example.com/sms`; a URL ending in /sms is kept."""
    base = base.rstrip("/")
    return base if base.endswith("/sms") else base + "/sms"


def twilio_form(sender: str, to: str, body: str, account_sid: str) -> dict[str, str]:
    """An incoming-SMS webhook body as Twilio sends it (reference/README.md lists the fields)."""
    sid = "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "US",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "",
        "To": to,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def _reply_text(xml: str) -> str | None:
    """The <Message> text of TwiML, "" for an empty <Response/>, None when it is not TwiML."""
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 - a TwiML reply we asked for, not fed to anything
    except ElementTree.ParseError:
        return None
    if root.tag != "Response":
        return None
    return "\n".join(m.text or "" for m in root.iter("Message"))


def _refused_hint(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (
        f"connection refused at {parts.hostname}:{port}: nothing listens there. Is operator serve "
        "running, and does the proxy forward to it?"
    )


def explain(
    response: httpx.Response, url: str, sender: str, elapsed_s: float, public_base_url: str | None
) -> PingOutcome:
    code = response.status_code
    took = f"{elapsed_s * 1000:.0f}ms"
    if code == 403:
        here = f" (this machine's PUBLIC_BASE_URL is {public_base_url})" if public_base_url else ""
        base = url.removesuffix("/sms")
        return PingOutcome(
            False,
            "\n".join(
                [
                    f"403 Forbidden in {took}: the service rejected the signature. Likely causes:",
                    f"- the server's PUBLIC_BASE_URL is not exactly {base}{here}: it must be the URL Twilio calls,",
                    "  scheme, host and any path prefix included;",
                    "- a proxy rewriting the scheme or host on the way (http vs https, another Host) while",
                    "  PUBLIC_BASE_URL is unset on the server;",
                    "- TWILIO_AUTH_TOKEN here differs from the server's.",
                ]
            ),
        )
    if code == 404:
        return PingOutcome(
            False,
            f"404 Not Found: nothing answers {url}. Check the path: PUBLIC_BASE_URL has no "
            "/sms, and the proxy must forward /sms.",
        )
    if code in (301, 302, 303, 307, 308):
        return PingOutcome(
            False,
            f"HTTP {code} to {response.headers.get('location', '?')}: Twilio does not "
            "follow redirects for webhooks. Use the final URL.",
        )
    if code in (502, 503, 504):
        return PingOutcome(False, f"HTTP {code} in {took}: the proxy could not reach Operator (is it running?).")
    if code != 200:
        return PingOutcome(False, f"HTTP {code} in {took}: Twilio counts this as a failed webhook (error 11200).")
    reply = _reply_text(response.text)
    if reply is None:
        return PingOutcome(False, f"HTTP 200 in {took}, but not TwiML: is this Operator?")
    if not reply:
        return PingOutcome(
            False,
            f"empty reply in {took}: the signature was accepted, but {mask(sender)} is "
            "not in the server's AUTHORIZED_NUMBERS (or opted out with STOP). Try "
            "--from with an allowed number.",
        )
    return PingOutcome(True, f"answered in {took} (signature ok, {mask(sender)} allowed):\n{reply}")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (httpx wraps the socket error it met)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(found) < 8:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


async def ping(
    url: str,
    token: str,
    sender: str,
    *,
    to: str,
    account_sid: str,
    body: str = "help",
    timeout_s: float = TWILIO_TIMEOUT_S,
    public_base_url: str | None = None,
    verify: bool = True,
) -> PingOutcome:
    form = twilio_form(sender, to, body, account_sid)
    headers = {
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, form),
        "User-Agent": "TwilioProxy/1.1",
        "Accept": "*/*",
    }
    start = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=timeout_s, verify=verify, follow_redirects=False) as client:
            response = await client.post(url, data=form, headers=headers)
    except httpx.TimeoutException:
        return PingOutcome(
            False,
            f"no answer within {timeout_s:g}s: Twilio gives up at 15s (error 11200). "
            "Is the service stuck, or a firewall dropping the connection?",
        )
    except httpx.ConnectError as exc:
        text = " ".join(str(e).lower() for e in _chain(exc))
        if "certificate" in text or "ssl" in text or "tls" in text:
            return PingOutcome(False, f"TLS failed ({str(exc)[:80]}): Twilio needs a valid certificate.")
        if "refused" in text or any(isinstance(e, ConnectionRefusedError) for e in _chain(exc)):
            return PingOutcome(False, _refused_hint(url))
        return PingOutcome(False, f"cannot connect to {urlsplit(url).hostname}: {str(exc)[:80]}")
    except httpx.TransportError as exc:
        return PingOutcome(False, f"the connection broke before an answer ({type(exc).__name__}).")
    return explain(response, url, sender, time.perf_counter() - start, public_base_url)
