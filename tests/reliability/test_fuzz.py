"""Fuzzing: arbitrary signed form bodies through /sms and arbitrary text through the pipeline."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart
from werkzeug.datastructures import MultiDict

from bot.pipeline import Inbound, Pipeline, Policy
from dialogs.conversation import Conversation
from dialogs.store import MemorySessionStore
from monitors.aliases import DEFAULT_ALIASES
from monitors.registry import Monitors
from tests.apps import SmsApp
from tests.phone import BASE_URL, NUMBERS, STRANGER, reply_text, sign

FAILED = "failed on our side"
FIELDS = (
    "MessageSid",
    "SmsSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "MediaUrl0",
    "MediaContentType0",
    "FromCity",
    "SmsStatus",
    "ApiVersion",
)
_sids = itertools.count(1)

texts = (
    st.text(max_size=40)
    | st.text(min_size=1590, max_size=1700)
    | st.sampled_from(
        ["", "\x00", "\r\n", "\u202e", "🔥" * 5, "help", "status", "logs api 1h", "STOP", "more", "%00", "&=&"]
    )
)
keys = st.sampled_from(FIELDS) | st.text(min_size=1, max_size=12)


@st.composite
def forms(draw: st.DrawFn) -> MultiDict[str, str]:
    """A Twilio-ish form: maybe a real sender, maybe missing fields, extra and repeated keys."""
    pairs: list[tuple[str, str]] = []
    if draw(st.booleans()):
        pairs.append(("MessageSid", f"SMfuzz{next(_sids):026x}"))
    if draw(st.integers(0, 9)) > 0:
        pairs.append(("From", draw(st.sampled_from([*NUMBERS, STRANGER, "", "not a number", "+1" + "9" * 30]))))
    if draw(st.integers(0, 9)) > 0:
        pairs.append(("Body", draw(texts)))
    pairs += draw(st.lists(st.tuples(keys, texts), max_size=6))  # extra, unknown and repeated keys
    return MultiDict(pairs)


@pytest.fixture
async def app(sms_app: SmsApp) -> AsyncIterator[Quart]:
    async with sms_app(store=MemorySessionStore(1800), rate_limit_per_min=100_000) as application:
        yield application


class TestSignedFuzz:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(form=forms())
    async def test_any_signed_form_gets_a_clean_answer(self, app: Quart, form: MultiDict[str, str]) -> None:
        """Whatever a correctly signed form holds: HTTP 200, TwiML, no traceback, no internal error."""
        body = urlencode(list(form.items(multi=True)))
        headers = {
            "X-Twilio-Signature": sign(BASE_URL + "/sms", form),  # type: ignore[arg-type]
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = await app.test_client().post("/sms", data=body, headers=headers)
        text = await response.get_data(as_text=True)
        assert response.status_code == 200, (response.status_code, text[:200])
        assert response.content_type.startswith("text/xml")
        reply = reply_text(text)
        assert "Traceback" not in text and FAILED not in reply, reply
        assert len(reply) <= 160 * 2, len(reply)
        if form.get("From", "") not in NUMBERS:  # the first From is the sender: a stranger or none
            assert reply == "" and "<Message" not in text, (form.get("From"), reply)


class TestPipelineFuzz:
    @settings(max_examples=300, deadline=None)
    @given(body=st.text(max_size=200) | st.text(min_size=1500, max_size=1800), sender=st.sampled_from(NUMBERS[:2]))
    async def test_any_text_gets_an_answer_never_an_error(self, body: str, sender: str) -> None:
        """Arbitrary text, in any dialog state it leads to: a str reply, never the internal-error apology."""
        pipeline = Pipeline(
            MemorySessionStore(1800),
            Conversation(Monitors([], DEFAULT_ALIASES, ["api", "web"])),
            Policy(rate_limit_per_min=100_000),
        )
        for i, text in enumerate(("logs", body, body[:5], "metrics", body)):
            reply = await pipeline.handle(Inbound(sender, text, f"SMp{i}{next(_sids)}"))
            assert isinstance(reply, str)
            assert FAILED not in reply, (text, reply)
