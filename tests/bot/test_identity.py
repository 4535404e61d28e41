"""Who a message is from: `From` exactly as Twilio sends it, or refused (no reply, counted)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from bot.security import AllowList
from dialogs.store import MemorySessionStore
from tests.apps import SmsApp
from tests.bot.conftest import metric_value
from tests.conftest import make_settings
from tests.phone import NUMBERS, Phone

E164 = NUMBERS[0]  # +14155550100, on the allow-list

ACCEPTED = [E164, NUMBERS[3]]
REFUSED = [
    "whatsapp:+14155550100",  # a channel not enabled
    "client:4155550100",
    "messenger:4155550100",
    "sip:+14155550100@example.com",
    "rcs:+14155550100",
    "Alice <+14155550100>",
    "Tel: +14155550100",
    "tel:+14155550100",
    "4155550100",
    "14155550100",
    "(415) 555-0100",
    "+1 415 555 0100",
    "+1-415-555-0100",
    "001415555 0100",
    "+１４１５５５５０１００",  # full-width digits
    "+١٤١٥٥٥٥٠١٠٠",  # Arabic-Indic digits
    "+14155550100\x00",
    "+14155550100\u200f",
    "\u202e+14155550100",
    "+14155550100\n",
    " +14155550100",
    "+14155550100 ",
    "+0014155550100",
    "+1234567",
    "+1234567890123456",
    "",
    "+",
    "whatsapp:",
]


@pytest.fixture
async def app(sms_app: SmsApp) -> AsyncIterator[Quart]:
    async with sms_app() as application:
        yield application


class TestFromForms:
    @pytest.mark.parametrize("sender", ACCEPTED)
    async def test_e164_as_twilio_sends_it_is_accepted(self, app: Quart, sender: str) -> None:
        assert "status" in await Phone(app.test_client(), sender).text("help")

    @pytest.mark.parametrize("sender", REFUSED)
    async def test_anything_else_is_refused_silently_and_counted(self, app: Quart, sender: str) -> None:
        """No reply, nothing run, one count; the allowed engineer's own session is not touched."""
        assert await Phone(app.test_client(), sender).text("help") == ""
        assert await metric_value(app, "operator_messages_total", outcome="unknown_sender") == 1
        assert await metric_value(app, "operator_commands_total", command="help") == 0


class TestChannels:
    async def test_an_enabled_channel_is_its_own_identity(self, sms_app: SmsApp) -> None:
        """ALLOWED_CHANNELS=whatsapp: `whatsapp:+1...` of an allowed number is answered, and keeps
        a conversation of its own (not the SMS one)."""
        store = MemorySessionStore(1800)
        async with sms_app(store=store, allowed_channels="whatsapp") as app:
            wa = Phone(app.test_client(), "whatsapp:" + E164)
            sms = Phone(app.test_client(), E164)
            assert "status" in await wa.text("help")
            assert await store.load("whatsapp:" + E164) is not None
            assert await store.load(E164) is None
            assert "status" in await sms.text("help")
            assert await Phone(app.test_client(), "whatsapp:+14155559999").text("help") == ""
            assert await Phone(app.test_client(), "client:" + E164).text("help") == ""

    def test_unknown_channel_stops_start_up(self) -> None:
        with pytest.raises(ValueError, match="not a channel"):
            make_settings(allowed_channels="carrier-pigeon")


class TestAllowListFormats:
    def test_the_allow_list_may_be_written_in_any_format(self) -> None:
        allow = AllowList(["+1 (415) 555-0100", "020 7946 0018"], "GB")
        assert allow.check("+14155550100") == "+14155550100"
        assert allow.check("+442079460018") == "+442079460018"
        assert allow.check("02079460018") is None  # but senders are E.164 exactly
