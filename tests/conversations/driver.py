"""A conversation driver without HTTP (errbot's testbot is the model): push a text, pop the reply.

It runs the very ``Conversation`` the service runs, with the sender's ``Session`` kept here
between messages and the service's own pager (``bot.sms.paginate``), so ``more`` pages as by
SMS. What it leaves out is transport only: signatures, rate limits, the store (the signed
``/sms`` transcripts in test_transcripts.py cover those).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.sms import paginate
from dialogs.conversation import Conversation
from dialogs.session import Session
from monitors.registry import Monitors, build_monitors
from tests.conftest import make_settings
from tests.fakes.loki import LokiFake
from tests.phone import NUMBERS


class Driver:
    """One sender talking to a ``Conversation``; ``now`` moves only when a test moves it."""

    def __init__(
        self,
        conversation: Conversation,
        sender: str = NUMBERS[0],
        *,
        ttl: timedelta | None = None,
        page_segments: int = 2,
    ) -> None:
        self.conversation = conversation
        self.sender = sender
        self.session = Session()
        self.now = datetime.now(UTC)
        self.ttl = ttl or timedelta(minutes=30)
        self.page_segments = page_segments
        self._last_at: datetime | None = None
        self.commands: list[str | None] = []  # the command each message named, as /metrics counts it

    async def push(self, text: str) -> str:
        """Send ``text``; return the reply page."""
        expired = self._last_at is not None and self.now - self._last_at > self.ttl
        if expired:
            self.session.clear()
        reply = await self.conversation.reply(
            self.session, text, sender=self.sender, now=self.now, expired=expired,
            pager=lambda answer: paginate(answer, self.page_segments),
        )  # fmt: skip
        self._last_at = self.now
        self.commands.append(reply.command)
        return reply.text

    async def expect(self, text: str, pattern: str) -> str:
        """Send ``text``; the reply must match the regex ``pattern`` (case-insensitive)."""
        reply = await self.push(text)
        assert re.search(pattern, reply, re.IGNORECASE | re.DOTALL), f"{text!r} -> {reply!r}"
        return reply

    async def play(self, transcript: list[tuple[str, str]]) -> list[str]:
        return [await self.expect(text, pattern) for text, pattern in transcript]


@pytest.fixture
async def loki_monitors(loki: LokiFake) -> AsyncIterator[Monitors]:
    """The real monitors built from settings, with a Loki (fake: it cannot run here) behind them."""
    monitors = build_monitors(make_settings(loki_url=loki.url, log_services="api,web,worker"))
    yield monitors
    await monitors.aclose()


@pytest.fixture
def driver(loki_monitors: Monitors) -> Driver:
    return Driver(Conversation(loki_monitors))
