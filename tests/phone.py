"""A phone that texts the real /sms route with requests signed the way Twilio signs them."""

from __future__ import annotations

import itertools
import re
from typing import Any
from xml.etree import ElementTree

from quart.typing import TestClientProtocol
from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token-0123456789"
BASE_URL = "https://ops.example.com"
NUMBERS = ("+14155550100", "+14155550101", "+14155550102", "+447700900123")
STRANGER = "+14155559999"
_sids = itertools.count(1)


def sign(url: str, form: dict[str, Any], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


def reply_text(xml: str) -> str:
    """The <Message> text of a TwiML reply ("" for an empty <Response/>)."""
    root = ElementTree.fromstring(xml)  # noqa: S314 - our own server's output in tests
    return "".join(m.text or "" for m in root.iter("Message"))


class Phone:
    def __init__(
        self, client: TestClientProtocol, number: str = NUMBERS[0], *, token: str = TOKEN, base_url: str = BASE_URL
    ) -> None:
        self.client = client
        self.number = number
        self.token = token
        self.base_url = base_url
        self.last_sid = ""

    def form(self, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        self.last_sid = sid or f"SM{next(_sids):032x}"
        form = {
            "MessageSid": self.last_sid,
            "SmsSid": self.last_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+14155550000",
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        form.update(extra)
        return form

    async def post(
        self, form: dict[str, str], *, path: str = "/sms", signature: str | None = None, sign_url: str | None = None
    ) -> Any:
        url = sign_url or self.base_url + path
        sig = signature if signature is not None else sign(url, form, self.token)
        headers = {"X-Twilio-Signature": sig} if sig else {}
        return await self.client.post(path, form=form, headers=headers)

    async def send(self, body: str, sid: str | None = None, **extra: str) -> Any:
        return await self.post(self.form(body, sid, **extra))

    async def text(self, body: str, sid: str | None = None) -> str:
        response = await self.send(body, sid)
        assert response.status_code == 200, response.status_code
        assert response.content_type.startswith("text/xml")
        return reply_text(await response.get_data(as_text=True))

    async def expect(self, body: str, pattern: str) -> str:
        """Send `body`; the reply must match the regex `pattern` (case-insensitive)."""
        reply = await self.text(body)
        assert re.search(pattern, reply, re.IGNORECASE | re.DOTALL), f"{body!r} -> {reply!r}"
        return reply
