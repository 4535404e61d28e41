"""Outbound SMS through Twilio's REST API: late answers now, alert pushes later.

`Outbound.send(to, body)` shapes the body (GSM-7 unless REPLY_EMOJI, never over 1600
characters), refuses numbers that opted out, creates one Message resource with twilio's
async client, and reports a `SendResult`. It never raises; it logs numbers masked and
never the auth token. An `Outbound` is itself a `Sender`, so it plugs into the pipeline.

Retries. Twilio's Messages API has no idempotency key: a POST that reached Twilio may
have created a message, and posting it again texts the engineer twice. So a send is
repeated (a few attempts, exponential backoff) only when Twilio surely did not take it:

- the connection was never made (refused, DNS, TLS, connect timeout): nothing was sent;
- Twilio answered 429 or 5xx: it said it did not accept the request.

It is never repeated when the outcome is unknown - a read timeout after the request was
written, the connection reset or closed mid-response, an unreadable 2xx - nor after a 4xx,
which would fail the same way again. A missed late answer costs one "status" resent by a
human; a duplicate costs trust in every message after it.

Opt-out. A number the store marks opted out (STOP) gets nothing, nor one whose STOP this
process holds while the store is down (`Degraded`). Twilio's error 21610
("Attempt to send to unsubscribed recipient") means the carrier-side opt-out is ahead of
ours: it is recorded in the store, so later sends are not even attempted.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.config import Settings
from bot.degraded import Degraded
from bot.security import mask
from bot.sms import MAX_BODY, to_gsm
from dialogs.store import SessionStore, StoreUnavailable

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one send. `attempts` is 0 when nothing was posted (opted out, empty body)."""

    ok: bool
    sid: str | None = None
    error: str | None = None
    attempts: int = 0


class _NotSent(Exception):
    """The request never left: safe to repeat."""


class TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """twilio's aiohttp client with real timeouts and an optional base URL (a local fake in tests).

    The stock client hands aiohttp ``timeout=None``, which means no timeout at all. Here connect
    and read time out separately, so a failure tells whether the request left: a connect
    failure becomes `_NotSent`; anything later propagates as it is (outcome unknown).
    """

    def __init__(self, base_url: str | None, connect_timeout_s: float, read_timeout_s: float) -> None:
        super().__init__(pool_connections=False)  # the session is opened on first use, on the running loop
        self.base_url = base_url.rstrip("/") if base_url else None
        self.client_timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=read_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's signature; client_timeout applies
        allow_redirects: bool = False,
    ) -> Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.client_timeout)
        if self.base_url:  # keep the path (/2010-04-01/Accounts/...), swap scheme and host
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if auth:  # by hand: aiohttp 3.14 deprecates BasicAuth, older versions lack its replacement
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        try:
            async with self._session.request(
                method.upper(), url, params=params, data=data, headers=headers, allow_redirects=allow_redirects
            ) as resp:
                return Response(resp.status, await resp.text(), resp.headers)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _NotSent(type(exc).__name__) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Outbound:
    """Sends SMS from TWILIO_FROM_NUMBER or, when set, TWILIO_MESSAGING_SERVICE_SID."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        store: SessionStore,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_url: str | None = None,
        emoji: bool = False,
        attempts: int = 3,
        backoff_s: float = 0.5,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        sleep: Sleep = asyncio.sleep,
        degraded: Degraded | None = None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("a sender is needed: TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self.store = store
        self.degraded = degraded  # opt-outs this process holds while the store is down
        self.emoji = emoji
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self._sleep = sleep
        # A Messaging Service picks the sender itself (sticky sender, its opt-out list): prefer it.
        self._sender: dict[str, str] = (
            {"messaging_service_sid": messaging_service_sid} if messaging_service_sid else {"from_": from_number or ""}
        )
        self._http = TwilioHttp(api_url, connect_timeout_s, read_timeout_s)
        self._client = Client(account_sid, auth_token, http_client=self._http)  # holds the token; we do not

    @classmethod
    def from_settings(cls, settings: Settings, store: SessionStore, **options: Any) -> Outbound | None:
        """An Outbound when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender are set, else None.

        `options` (attempts, backoff_s, timeouts, sleep, degraded) go to the constructor.
        """
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        sender = settings.twilio_from_number or settings.twilio_messaging_service_sid
        if not (sid and token is not None and sender):
            if sid or sender:
                log.warning(
                    "outbound SMS off: it needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                    "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
                )
            return None
        return cls(
            sid,
            token.get_secret_value(),
            store,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_url=settings.twilio_api_url.get_secret_value() if settings.twilio_api_url else None,
            emoji=settings.reply_emoji,
            **options,
        )

    async def __call__(self, to: str, body: str) -> None:
        """`send`, as a pipeline `Sender`: failures are logged here, never raised."""
        await self.send(to, body)

    async def send(self, to: str, body: str) -> SendResult:
        """Send one SMS to `to` (E.164); see the module docstring for retries and opt-outs."""
        text = self.shape(body)
        if not text:
            return SendResult(False, error="empty body")
        pending = self.degraded.is_opted_out(to) if self.degraded is not None else None
        if pending:
            log.info("not sending to %s: opted out (kept in this process until the store is back)", mask(to))
            return SendResult(False, error="recipient opted out")
        try:
            if pending is None and await self.store.is_opted_out(to):
                log.info("not sending to %s: opted out", mask(to))
                return SendResult(False, error="recipient opted out")
        except StoreUnavailable:
            # Twilio blocks opted-out numbers itself (21610), so sending is the lesser risk.
            log.warning("opt-out of %s unknown (store unavailable); sending anyway", mask(to))
        attempt = 0
        while True:
            attempt += 1
            try:
                message = await self._client.messages.create_async(to=to, body=text, **self._sender)
            except (TwilioRestException, TwilioServiceException) as exc:
                if exc.code == UNSUBSCRIBED:
                    await self._record_opt_out(to)
                    return SendResult(False, error="recipient opted out (Twilio 21610)", attempts=attempt)
                error = f"Twilio error {exc.code} (HTTP {exc.status})"
                retry = exc.status == 429 or exc.status >= 500
            except _NotSent as exc:
                error, retry = f"not connected ({exc})", True
            except Exception as exc:  # the request may have been delivered: never repeat it
                log.warning("SMS to %s: outcome unknown (%s), not retried", mask(to), type(exc).__name__)
                return SendResult(False, error=f"outcome unknown ({type(exc).__name__})", attempts=attempt)
            else:
                log.info("SMS %s to %s sent in %d attempt(s)", message.sid, mask(to), attempt)
                return SendResult(True, sid=str(message.sid), attempts=attempt)
            if not retry or attempt >= self.attempts:
                log.warning("SMS to %s failed after %d attempt(s): %s", mask(to), attempt, error)
                return SendResult(False, error=error, attempts=attempt)
            delay = self.backoff_s * 2 ** (attempt - 1)
            log.info("SMS to %s: %s; retrying in %.1fs", mask(to), error, delay)
            await self._sleep(delay)

    def shape(self, body: str) -> str:
        """GSM-7 unless emoji are on; cut (at a space) to Twilio's 1600 characters. Paging is the caller's."""
        text = to_gsm(body, emoji=self.emoji).strip()
        if len(text) <= MAX_BODY:
            return text
        head = text[: MAX_BODY - 4]
        cut = max(head.rfind(" "), head.rfind("\n"))
        return (head[:cut] if cut > 0 else head).rstrip() + " ..."

    async def _record_opt_out(self, to: str) -> None:
        log.info("Twilio says %s opted out (21610): recorded", mask(to))
        try:
            await self.store.set_opted_out(to, True)
        except StoreUnavailable:
            if self.degraded is not None:
                self.degraded.opt_out(to, True)
            else:
                log.error("opt-out of %s not recorded: store unavailable", mask(to))

    async def aclose(self) -> None:
        """Close the HTTP session (pooled connections to Twilio)."""
        await self._http.close()
