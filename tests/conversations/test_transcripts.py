"""Conversations as transcripts through the real signed /sms route, with a fake Loki behind them.

Each transcript is a list of (message, expected reply regex); a phone plays it in order.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from quart import Quart

from dialogs.store import MemorySessionStore, SessionStore
from tests.apps import FakeClock, SmsApp
from tests.conversations.logdata import entries
from tests.fakes.loki import LokiFake
from tests.phone import NUMBERS, Phone


@pytest.fixture
def loki() -> Iterator[LokiFake]:
    with LokiFake(entries()) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    """Starts at the real time: the fake Loki's entries are stamped relative to it."""
    return FakeClock(time.time())


@pytest.fixture
async def app(sms_app: SmsApp, loki: LokiFake, store: SessionStore, clock: FakeClock) -> AsyncIterator[Quart]:
    if isinstance(store, MemorySessionStore):
        store.clock = clock
    async with sms_app(
        store=store, clock=clock, loki_url=loki.url, log_services="api,web,worker", session_ttl_s=600
    ) as application:
        yield application


@pytest.fixture
def phone(app: Quart) -> Phone:
    return Phone(app.test_client(), NUMBERS[0])


async def play(phone: Phone, transcript: list[tuple[str, str]]) -> list[str]:
    return [await phone.expect(message, pattern) for message, pattern in transcript]


ASK_SERVICE = r"^Logs for which service\? 1 api, 2 web, 3 worker"
ASK_WINDOW = r"^web: which window\? 15m, 1h, 6h, 24h"

TRANSCRIPTS = {
    "asks for what is missing, then follows up with a new window": [
        ("lgos", ASK_SERVICE),
        ("wbe", ASK_WINDOW),
        ("1h", r"^web, last 1h: 8 errors\.\n\S+ ERROR payment timeout x3"),
        ("6h", r"^web, last 6h: \d\d errors\."),
        ("15m", r"^web, last 15m: 3 errors\."),
        ("reset", r"^OK, cleared\.$"),
    ],
    "numbers pick from the offered lists": [
        ("logs", ASK_SERVICE),
        ("2", ASK_WINDOW),
        ("1", r"^web, last 15m: 3 errors\."),
    ],
    "slots given up front are skipped": [
        ("logs web", ASK_WINDOW),
        ("1 hour", r"^web, last 1h: 8 errors"),
    ],
    "a new top-level command abandons the dialog": [
        ("logs", ASK_SERVICE),
        ("help", r"^Logs for which service\?.*reset"),
        ("status", r"^All clear: 1/1 sources ok"),
        ("2", r"Nothing to pick from"),
    ],
    "three misses reset the dialog": [
        ("logs", ASK_SERVICE),
        ("banana", r"^Didn't get that\. Logs for which service\?.*reset"),
        ("qqq", r"^Didn't get that\."),
        ("zzz", r"I reset"),
        ("1h", r"A window for what\?"),
    ],
    "again repeats the last question": [
        ("logs api 1h", r"^api, last 1h: 1 error\.\n.*bad gateway"),
        ("again", r"^api, last 1h: 1 error\."),
        ("web", r"^web, last 1h: 8 errors"),
    ],
    "windows out of range are explained, every time": [
        ("logs web 90d", r"^Windows go from 1m to 7d\. web: which window\?"),
        ("2 weeks", r"^Windows go from 1m to 7d\. web: which window\?"),
        ("reset", r"cleared"),
        ("logs 2 weeks", r"^Windows go from 1m to 7d\. Logs for which service\?"),
        ("api 90d", r"^Windows go from 1m to 7d\. api: which window\?"),
        ("reset", r"cleared"),
        ("30d", r"^Windows go from 1m to 7d\."),
    ],
    "an equally likely pair of commands is asked about, not guessed": [
        ("repet", r"^Did you mean (again or reset|reset or again)\? \(1 or 2\)$"),
        ("xyzzy", r"^I don't know that\. Try help\.$"),
    ],
    "follow-up words inside an open question re-ask it": [
        ("logs", ASK_SERVICE),
        ("more", r"^Didn't get that\. Logs for which service\?"),
        ("again", r"^Didn't get that\. Logs for which service\?"),
        ("web", ASK_WINDOW),
    ],
    "follow-ups in context, asides and honesty (issue 10)": [
        ("logs api 1h", r"^api, last 1h: 1 error\."),
        ("how about web", r"^web, last 1h: 8 errors\."),
        ("restart web", r"^I can't do that \(yet\)"),
        ("again", r"^web, last 1h: 8 errors\."),
        ("cheers", r"^You.re welcome\. .*help"),
        ("logs", ASK_SERVICE),
        ("nah, skip it", r"^OK, cleared\.$"),
        ("status and logs api 15m", r"^All clear: 1/1 sources ok.*\n\napi, last 15m: 1 error\."),
    ],
    "cancel resets too, and nothing is remembered after": [
        ("logs", ASK_SERVICE),
        ("cancel", r"^OK, cleared\.$"),
        ("2", r"Nothing to pick from"),
    ],
}


@pytest.mark.parametrize("name", list(TRANSCRIPTS))
async def test_transcript(phone: Phone, name: str) -> None:
    await play(phone, TRANSCRIPTS[name])


@pytest.mark.parametrize("text", ["logs api 1h", "logs 1h api", "lgos api 60 min", "LOGS, api, 1h!"])
async def test_slots_in_any_order(phone: Phone, text: str) -> None:
    await phone.expect(text, r"^api, last 1h: 1 error\.")


async def test_more_pages_through_a_long_answer_without_new_queries(phone: Phone, loki: LokiFake) -> None:
    """A long answer comes in pages; `more` reads them from the session, not from Loki."""
    first = await phone.expect("logs web 6h", r"\(1/(\d+) MORE\)$")
    total = int(first.rsplit("/", 1)[1].split()[0])
    assert total >= 2
    asked = len(loki.requests)
    for page in range(2, total + 1):
        reply = await phone.expect("more", rf"\({page}/{total}( MORE)?\)$")
        assert len(reply) <= 306
    await phone.expect("more", r"^Nothing more")
    assert len(loki.requests) == asked


async def test_expired_conversation_says_so(phone: Phone, clock: FakeClock) -> None:
    """After SESSION_TTL_S of silence, follow-ups that needed the old context say it expired."""
    await phone.expect("logs web 6h", r"MORE")
    clock.now += 601
    await phone.expect("6h", r"^That conversation expired\. Send logs again\.$")
    await phone.expect("logs web 6h", r"MORE")
    clock.now += 601
    await phone.expect("more", r"^That conversation expired\. Send logs again\.$")
    await phone.expect("logs web 1h", r"^web, last 1h: 8 errors")


async def test_expired_dialog_does_not_take_the_answer(phone: Phone, clock: FakeClock) -> None:
    """A dialog question left unanswered past the TTL is gone: `2` is not read as its answer."""
    await phone.expect("logs", ASK_SERVICE)
    clock.now += 601
    await phone.expect("2", r"expired")


async def test_two_senders_keep_their_own_dialogs(app: Quart) -> None:
    alice, bob = Phone(app.test_client(), NUMBERS[0]), Phone(app.test_client(), NUMBERS[1])
    await alice.expect("logs", ASK_SERVICE)
    await bob.expect("logs api", r"^api: which window\?")
    await alice.expect("web", ASK_WINDOW)
    await bob.expect("1h", r"^api, last 1h: 1 error")
    await alice.expect("1h", r"^web, last 1h: 8 errors")


async def test_status_feeds_the_service_metrics(app: Quart, phone: Phone) -> None:
    """Each status run records every monitor's health and latency in /metrics."""
    from tests.bot.conftest import metric_value

    await phone.expect("status", r"^All clear: 1/1 sources ok")
    assert await metric_value(app, "operator_monitor_up", monitor="loki") == 1
    assert await metric_value(app, "operator_monitor_check_seconds_count", monitor="loki") == 1
    assert await metric_value(app, "operator_commands_total", command="status") == 1


@pytest.mark.parametrize(
    ("text", "opener"), [("👍", "OK"), ("🙏🙏", "You're welcome"), ("yo", "Hi!"), ("thanks!", "You're welcome")]
)
async def test_emoji_and_small_talk_get_a_friendly_line(phone: Phone, text: str, opener: str) -> None:
    """An emoji is something said, not an empty text: one short line in kind with a hint."""
    await phone.expect(
        text,
        rf"^{opener}\.? Text status, alerts or logs <service> when you need me; "
        r"help lists the rest\.$",
    )


async def test_whitespace_only_is_still_empty(phone: Phone) -> None:
    await phone.expect("  \t ", r"^Empty message\?")
