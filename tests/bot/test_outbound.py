"""Outbound SMS against a local fake of Twilio's Messages endpoint: shape, auth, retries, opt-outs."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.outbound import Outbound, SendResult
from bot.security import mask
from bot.sms import MAX_BODY, segment_info
from dialogs.store import MemorySessionStore, SessionStore
from tests.conftest import make_settings
from tests.fakes.server import closed_port_url
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, MESSAGING_SERVICE_SID, TwilioFake, messages_path

TO = "+14155550100"


class Delays:
    """An injected `sleep` that records the backoff instead of waiting it out."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)


def twilio_settings(url: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": FROM_NUMBER,
        "twilio_api_url": url,
    }
    values.update(overrides)
    return make_settings(**values)


def form(request: Any) -> dict[str, str]:
    return {name: values[0] for name, values in request.form().items()}


def basic_auth(request: Any) -> tuple[str, str]:
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake() as fake:
        yield fake


@pytest.fixture
def delays() -> Delays:
    return Delays()


@pytest.fixture
async def outbound(twilio: TwilioFake, memory_store: MemorySessionStore, delays: Delays) -> AsyncIterator[Outbound]:
    out = Outbound.from_settings(twilio_settings(twilio.url), memory_store, sleep=delays, read_timeout_s=0.5)
    assert out is not None
    yield out
    await out.aclose()


class TestFromSettings:
    @pytest.mark.parametrize("missing", ["twilio_account_sid", "twilio_auth_token", "senders"])
    def test_incomplete_settings_give_none(self, memory_store: MemorySessionStore, missing: str) -> None:
        """Without an account SID, an auth token, or any sender, there is no outbound helper."""
        drop = {"twilio_from_number": None} if missing == "senders" else {missing: None}
        assert Outbound.from_settings(twilio_settings("http://127.0.0.1:9", **drop), memory_store) is None

    async def test_messaging_service_is_sent_instead_of_from(
        self, twilio: TwilioFake, memory_store: MemorySessionStore
    ) -> None:
        """With a Messaging Service configured, the form carries MessagingServiceSid and no From."""
        settings = twilio_settings(twilio.url, twilio_messaging_service_sid=MESSAGING_SERVICE_SID)
        out = Outbound.from_settings(settings, memory_store)
        assert out is not None
        try:
            result = await out.send(TO, "disk 91% on db-1")
        finally:
            await out.aclose()
        assert result.ok
        sent = form(twilio.sent[0])
        assert sent == {"To": TO, "MessagingServiceSid": MESSAGING_SERVICE_SID, "Body": "disk 91% on db-1"}
        assert twilio.created[0]["status"] == "accepted"


class TestSend:
    async def test_send_reaches_the_account_with_auth_and_form(self, outbound: Outbound, twilio: TwilioFake) -> None:
        """One POST to the account's Messages.json, Basic auth (SID, token), To/From/Body; the sid comes back."""
        result = await outbound.send(TO, "3/3 ok")
        assert result == SendResult(True, sid=twilio.created[0]["sid"], attempts=1)
        assert result.sid is not None and result.sid.startswith("SM")
        [request] = twilio.sent
        assert (request.method, request.path) == ("POST", messages_path(ACCOUNT_SID))
        assert basic_auth(request) == (ACCOUNT_SID, AUTH_TOKEN)
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert form(request) == {"To": TO, "From": FROM_NUMBER, "Body": "3/3 ok"}

    async def test_call_is_a_pipeline_sender(self, outbound: Outbound, twilio: TwilioFake) -> None:
        """`await outbound(to, body)` sends, returning None as a pipeline `Sender` does."""
        assert await outbound(TO, "late answer") is None
        assert form(twilio.sent[0])["Body"] == "late answer"

    async def test_body_is_gsm7_and_at_most_1600_characters(self, outbound: Outbound, twilio: TwilioFake) -> None:
        """Smart quotes and dashes become GSM-7; an over-long body is cut to Twilio's limit, not rejected."""
        assert (await outbound.send(TO, "deploy \u201cweb\u201d \u2014 done\u2026")).ok
        assert form(twilio.sent[0])["Body"] == 'deploy "web" - done...'
        assert (await outbound.send(TO, "word " * 500)).ok
        body = form(twilio.sent[1])["Body"]
        assert len(body) <= MAX_BODY and body.endswith(" ...") and segment_info(body).encoding == "GSM-7"

    async def test_wrong_token_fails_with_a_reason_and_no_retry(
        self, twilio: TwilioFake, memory_store: MemorySessionStore, delays: Delays
    ) -> None:
        """Twilio's 401 (20003) is final: one request, a reason naming the error, no backoff."""
        out = Outbound.from_settings(
            twilio_settings(twilio.url, twilio_auth_token="not-the-token"), memory_store, sleep=delays
        )
        assert out is not None
        try:
            result = await out.send(TO, "status")
        finally:
            await out.aclose()
        assert (result.ok, result.attempts) == (False, 1)
        assert result.error is not None and "20003" in result.error and "401" in result.error
        assert len(twilio.sent) == 1 and delays.seen == []

    @pytest.mark.parametrize("status", [503, 429])
    async def test_5xx_and_429_are_retried_with_backoff(
        self, outbound: Outbound, twilio: TwilioFake, delays: Delays, status: int
    ) -> None:
        """503, 503, then 201: sent on the third attempt after 0.5 s and 1 s of backoff."""
        twilio.fail_next(status, times=2)
        result = await outbound.send(TO, "status")
        assert (result.ok, result.attempts) == (True, 3)
        assert len(twilio.sent) == 3 and len(twilio.created) == 1
        assert delays.seen == [0.5, 1.0]

    async def test_persistent_500_gives_up_after_the_bound(
        self, outbound: Outbound, twilio: TwilioFake, delays: Delays
    ) -> None:
        """A Twilio that keeps failing gets three attempts, then a failure naming the last error."""
        twilio.fail_next(500, times=10)
        result = await outbound.send(TO, "status")
        assert (result.ok, result.attempts) == (False, 3)
        assert result.error is not None and "HTTP 500" in result.error
        assert len(twilio.sent) == 3 and delays.seen == [0.5, 1.0]

    async def test_other_4xx_is_final(self, outbound: Outbound, twilio: TwilioFake) -> None:
        """A 400 (21211, invalid To) would fail the same way again: one attempt."""
        result = await outbound.send("12345", "status")
        assert (result.ok, result.attempts) == (False, 1)
        assert result.error is not None and "21211" in result.error

    async def test_refused_connection_is_retried(self, memory_store: MemorySessionStore, delays: Delays) -> None:
        """Nothing listening: the request never left, so it is safe to try again, up to the bound."""
        out = Outbound.from_settings(twilio_settings(closed_port_url()), memory_store, sleep=delays)
        assert out is not None
        try:
            result = await out.send(TO, "status")
        finally:
            await out.aclose()
        assert (result.ok, result.attempts) == (False, 3)
        assert result.error is not None and "not connected" in result.error
        assert delays.seen == [0.5, 1.0]

    @pytest.mark.parametrize("fault", ["hang", "reset"])
    async def test_unknown_outcome_is_never_resent(
        self, outbound: Outbound, twilio: TwilioFake, delays: Delays, fault: str
    ) -> None:
        """Read timeout or connection dropped after the request was sent: it may be delivered, so no retry."""
        twilio.fault = fault
        result = await outbound.send(TO, "status")
        assert (result.ok, result.attempts) == (False, 1)
        assert result.error is not None and "outcome unknown" in result.error
        assert len(twilio.sent) == 1, "exactly one request reached Twilio"
        assert delays.seen == []


class TestOptOut:
    async def test_21610_marks_the_recipient_and_stops_later_sends(
        self, twilio: TwilioFake, store: SessionStore, delays: Delays
    ) -> None:
        """Twilio's 21610 records the opt-out in the store; the next send is not even attempted."""
        twilio.opted_out.add(TO)
        out = Outbound.from_settings(twilio_settings(twilio.url), store, sleep=delays)
        assert out is not None
        try:
            first = await out.send(TO, "status")
            assert (first.ok, first.attempts) == (False, 1)
            assert first.error is not None and "21610" in first.error
            assert await store.is_opted_out(TO)
            second = await out.send(TO, "alert: disk full")
        finally:
            await out.aclose()
        assert (second.ok, second.attempts) == (False, 0)
        assert len(twilio.sent) == 1 and delays.seen == []

    async def test_opted_out_in_store_sends_nothing(self, twilio: TwilioFake, store: SessionStore) -> None:
        """A number that texted STOP gets no request at all; START lets sends through again."""
        await store.set_opted_out(TO, True)
        out = Outbound.from_settings(twilio_settings(twilio.url), store)
        assert out is not None
        try:
            result = await out.send(TO, "status")
            assert (result.ok, result.attempts, result.error) == (False, 0, "recipient opted out")
            assert twilio.sent == []
            await store.set_opted_out(TO, False)
            assert (await out.send(TO, "status")).ok
        finally:
            await out.aclose()


class TestLogging:
    async def test_logs_mask_numbers_and_never_show_the_token(
        self, outbound: Outbound, twilio: TwilioFake, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Success, retry and failure lines show the number masked, and never the auth token."""
        caplog.set_level(logging.DEBUG)
        twilio.fail_next(503)
        assert (await outbound.send(TO, "status")).ok
        twilio.opted_out.add(TO)
        assert not (await outbound.send(TO, "status")).ok
        assert mask(TO) in caplog.text
        assert TO not in caplog.text
        assert AUTH_TOKEN not in caplog.text
