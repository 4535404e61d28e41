"""The one way tests build a running app, and the one fake clock they share.

`running_app(**settings)` is `create_app(make_settings(**settings), ...)` entered with
`app.test_app()`, so the start-up and `while_serving` hooks run (services open, then close on
exit) exactly as under a server. Cost: one app and its services per `async with`.
`make_settings(**overrides)` is Settings from what the test passes only (tests.conftest re-exports it).
`FakeClock` is a settable wall clock for anything that takes `clock: Callable[[], float]`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from quart import Quart

from bot.app import create_app
from bot.config import Settings
from bot.pipeline import Sender
from dialogs.store import SessionStore
from monitors.registry import Monitors
from tests.phone import BASE_URL, NUMBERS, TOKEN


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        # The host monitor reports this machine's live, changing load: tests that want it
        # ask for it (HOST_MONITOR=auto, the real default, turns it on with no metrics backend).
        "host_monitor": "off",
        "twilio_auth_token": TOKEN,
        "public_base_url": BASE_URL,
        "authorized_numbers": ",".join(NUMBERS),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# A multiple of 60 and of 3600: minute and hour budgets start fresh here.
EPOCH = 1_800_000_000.0


class FakeClock:
    """A wall clock that moves only when told: `clock.now = t`, `clock.advance(s)`, `clock()`."""

    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SmsApp(Protocol):
    def __call__(
        self,
        *,
        store: SessionStore | None = None,
        monitors: Monitors | None = None,
        clock: Callable[[], float] = time.time,
        send_later: Sender | None = None,
        local: bool = False,
        **settings: Any,
    ) -> AbstractAsyncContextManager[Quart]: ...


@asynccontextmanager
async def running_app(
    *,
    store: SessionStore | None = None,
    monitors: Monitors | None = None,
    clock: Callable[[], float] = time.time,
    send_later: Sender | None = None,
    local: bool = False,
    **settings: Any,
) -> AsyncIterator[Quart]:
    """The app on `make_settings(**settings)`, serving. With no `store`, it is built from the settings
    as in production (memory unless REDIS_URL is given); with no `monitors`, likewise."""
    app = create_app(
        make_settings(**settings), local=local, store=store, monitors=monitors, clock=clock, send_later=send_later
    )
    async with app.test_app():
        yield app
