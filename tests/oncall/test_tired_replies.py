"""On-call replies read as a tired engineer reads them: found by driving the loop (signed /sms,
real Redis, the fake Twilio), each kept as the exchange that showed it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from quart import Quart

from bot.alert_routes import parse_payload
from bot.app import create_app
from tests.fakes.twilio import ACCOUNT_SID, TwilioFake
from tests.oncall.conftest import CHAIN, alert, payload
from tests.oncall.test_routes import BEARER, oncall_settings
from tests.phone import TOKEN, Phone


@pytest.fixture
def app_twilio() -> Iterator[TwilioFake]:
    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:
        yield fake


@pytest.fixture
async def app(redis_prefix: str, app_twilio: TwilioFake) -> AsyncIterator[Quart]:
    application = create_app(oncall_settings(redis_prefix, app_twilio.url, oncall_names=f"{CHAIN[0]}=alice"))
    async with application.test_app():
        yield application


def test_a_payload_s_critical_alerts_come_first() -> None:
    """Firing critical, then warning, then the rest; resolved ones last; stable otherwise."""
    events = parse_payload(
        payload(
            alert("Disk", "w", severity="warning"),
            alert("Gone", "g", status="resolved"),
            alert("Info", "i", severity="info"),
            alert("PgDown", "db-1"),
        )
    )
    assert [json.loads(e)["labels"]["alertname"] for _, e in events] == ["PgDown", "Disk", "Info", "Gone"]


async def test_a_crit_is_paged_at_once_even_behind_a_warn(app: Quart, app_twilio: TwilioFake) -> None:
    """A WARN and a CRIT in one webhook: the page that goes at once is the CRIT (the WARN waits for
    the bundle), never the other way round."""
    body = payload(alert("DiskFull", "web-2", severity="warning"), alert("PgDown", "db-1"))
    assert (await app.test_client().post("/alertmanager", data=body, headers=BEARER)).status_code == 200
    await app_twilio.wait_for(1)
    assert app_twilio.bodies_to(CHAIN[0])[0].startswith("CRIT PgDown db-1 ")


async def test_ack_all_twice_names_the_alert(app: Quart, app_twilio: TwilioFake) -> None:
    """The second "ack all" says which alert is already acked, not "all is already acked"."""
    await app.test_client().post("/alertmanager", data=payload(alert("PgDown", "db-1")), headers=BEARER)
    await app_twilio.wait_for(1)
    phone = Phone(app.test_client(), CHAIN[0])
    await phone.expect("ack all", r"^Acked PgDown db-1 \(all\)\. Escalation stopped\.$")
    await phone.expect("ack all", r"^PgDown db-1 is already acked \(by alice \(\+14\*+00\) at \d\d:\d\d\)\.$")
