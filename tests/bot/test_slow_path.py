"""Slow answers through the real /sms route: "working on it" now, the answer by Twilio's REST API later.

The slow backend is a real HTTP server that answers after the reply budget; the REST side is the
local fake of Twilio's Messages endpoint. Nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from quart import Quart

from dialogs.store import SessionStore
from monitors.base import HttpMonitor
from monitors.registry import Monitors
from tests.apps import running_app
from tests.bot.conftest import metric_value
from tests.fakes.server import FakeServer, Reply
from tests.fakes.twilio import ACCOUNT_SID, FROM_NUMBER, MESSAGING_SERVICE_SID, TwilioFake, messages_path
from tests.phone import NUMBERS, TOKEN, Phone

WORKING = "Working on it, the answer follows by SMS."
STATUS = re.compile(r"All clear: 1/1 sources ok \(slowdb\)\.\Z")


class SlowDb(HttpMonitor):
    """A backend whose health endpoint answers after `delay_s` (set on the FakeServer route)."""

    name = "slowdb"

    async def probe(self) -> str:
        await self.get_json("/health")
        return ""


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake(auth_token=TOKEN) as fake:  # one auth token signs webhooks and authenticates REST calls
        yield fake


def backend(delay_s: float) -> FakeServer:
    server = FakeServer()
    server.routes[("GET", "/health")] = lambda _req: Reply(200, {"status": "ok"}, delay_s=delay_s)
    return server


def slow_app(
    store: SessionStore, backend_url: str, twilio_url: str, budget_s: float, **settings: Any
) -> AbstractAsyncContextManager[Quart]:
    """The shared app factory, with one slow database monitor and Twilio REST for late answers."""
    sender = settings or {"twilio_from_number": FROM_NUMBER}
    monitor = SlowDb(backend_url, httpx.AsyncClient(), timeout_s=10)
    return running_app(
        store=store,
        monitors=Monitors([monitor]),
        reply_budget_s=budget_s,
        twilio_account_sid=ACCOUNT_SID,
        twilio_api_url=twilio_url,
        **sender,
    )


def form(request: Any) -> dict[str, str]:
    return {name: values[0] for name, values in request.form().items()}


async def eventually(check: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class TestSlowPath:
    @pytest.mark.parametrize("sender", ["from_number", "messaging_service"])
    async def test_slow_status_is_delivered_by_rest(self, store: SessionStore, twilio: TwilioFake, sender: str) -> None:
        """Past the budget the webhook says "working on it"; the full status then reaches Twilio's REST API."""
        extra = (
            {"twilio_from_number": FROM_NUMBER}
            if sender == "from_number"
            else {"twilio_messaging_service_sid": MESSAGING_SERVICE_SID}
        )
        with backend(delay_s=1.0) as slow:
            async with slow_app(store, slow.url, twilio.url, budget_s=0.2, **extra) as app:
                phone = Phone(app.test_client())
                assert await phone.text("status") == WORKING
                [request] = await twilio.wait_for(1)
                assert await metric_value(app, "operator_messages_total", outcome="deferred") == 1
        assert (request.method, request.path) == ("POST", messages_path(ACCOUNT_SID))
        user, _, password = base64.b64decode(request.headers["authorization"].split(" ", 1)[1]).decode().partition(":")
        assert (user, password) == (ACCOUNT_SID, TOKEN)
        sent = form(request)
        expected = {"From": FROM_NUMBER} if sender == "from_number" else {"MessagingServiceSid": MESSAGING_SERVICE_SID}
        assert {k: v for k, v in sent.items() if k != "Body"} == {"To": NUMBERS[0], **expected}
        assert STATUS.match(sent["Body"]), sent["Body"]
        assert len(twilio.created) == 1

    async def test_fast_answer_sends_nothing_by_rest(self, store: SessionStore, twilio: TwilioFake) -> None:
        """Within the budget the answer is the webhook's reply itself, and no REST request is made."""
        with backend(delay_s=0) as fast:
            async with slow_app(store, fast.url, twilio.url, budget_s=5) as app:
                assert STATUS.match(await Phone(app.test_client()).text("status"))
                assert await metric_value(app, "operator_messages_total", outcome="deferred") == 0
        assert twilio.sent == []

    async def test_twilio_opt_out_on_late_answer_is_recorded(self, store: SessionStore, twilio: TwilioFake) -> None:
        """A late answer Twilio refuses with 21610 marks the sender opted out in the store."""
        twilio.opted_out.add(NUMBERS[0])
        with backend(delay_s=1.0) as slow:
            async with slow_app(store, slow.url, twilio.url, budget_s=0.2) as app:
                assert await Phone(app.test_client()).text("status") == WORKING
                await twilio.wait_for(1)
                await eventually(lambda: store.is_opted_out(NUMBERS[0]))
        assert twilio.created == []
