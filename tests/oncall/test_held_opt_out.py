"""A STOP the session store could not take is held in the process (bot/degraded.py): pages honour it.

The session store here answers reads but fails the opt-out write (a Redis blip at the wrong moment);
the on-call store is the machine's real Redis and Twilio is the local fake. Whether the pager decides
after the STOP, or a page was already queued before it, nothing reaches Twilio for that number.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from quart import Quart

from bot.app import create_app
from bot.degraded import Degraded
from dialogs.store import MemorySessionStore, StoreUnavailable
from tests.fakes.twilio import ACCOUNT_SID, TwilioFake
from tests.oncall.conftest import CHAIN, Rig, alert, payload
from tests.oncall.test_routes import BEARER, oncall_settings
from tests.phone import TOKEN, Phone


class OptOutWriteFails(MemorySessionStore):
    """Reads work; writing an opt-out raises, as a store that just went away does."""

    async def set_opted_out(self, sender: str, opted_out: bool) -> None:
        raise StoreUnavailable("redis went away")


@pytest.fixture
def app_twilio() -> Iterator[TwilioFake]:
    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:  # the app's REST calls use the webhook token
        yield fake


@pytest.fixture
async def app(redis_prefix: str, app_twilio: TwilioFake) -> AsyncIterator[Quart]:
    application = create_app(oncall_settings(redis_prefix, app_twilio.url), store=OptOutWriteFails(1800))
    async with application.test_app():
        yield application


async def test_a_held_stop_is_skipped_by_the_pager(app: Quart, app_twilio: TwilioFake) -> None:
    """STOP from the primary while its write fails, then an alert: the secondary is paged, never the primary."""
    assert await Phone(app.test_client(), CHAIN[0]).text("STOP") == ""
    response = await app.test_client().post("/alertmanager", data=payload(alert("PgDown", "db-1")), headers=BEARER)
    assert response.status_code == 200
    await app_twilio.wait_for(1)
    assert app_twilio.bodies_to(CHAIN[0]) == []
    assert "PgDown" in app_twilio.bodies_to(CHAIN[1])[0]


async def test_a_page_queued_before_the_stop_is_not_sent(rig: Rig) -> None:
    """The page was decided before the STOP; the STOP is held (store down); delivery drops it and escalates."""
    degraded = Degraded(OptOutWriteFails(1800))
    rig.deliverer.held_opt_out = degraded.is_opted_out
    await rig.receive(alert("PgDown", "db-1"))
    degraded.opt_out(CHAIN[0], True)
    try:
        outcomes = await rig.deliver()
    finally:
        await degraded.aclose()
    assert outcomes[0] == "failed"
    assert rig.texts(CHAIN[0]) == []
    assert "(escalated from +14*******00)" in rig.texts(CHAIN[1])[0]
    page = await rig.store.page((await rig.store.page_of_sid(rig.twilio.created[0]["sid"])) or "")
    assert page["to"] == CHAIN[1]
