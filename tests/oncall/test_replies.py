"""Replies to pages through the real /sms route (signed), parsed by the registry's vocabulary."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from quart import Quart

from tests.apps import SmsApp
from tests.fakes.twilio import TwilioFake
from tests.oncall.conftest import CHAIN, VIEWER, alert, payload
from tests.oncall.test_routes import BEARER, oncall_values
from tests.phone import Phone
from tests.servers.prometheus import MonitoringStack


@pytest.fixture
async def app(sms_app: SmsApp, redis_prefix: str, twilio: TwilioFake) -> AsyncIterator[Quart]:
    async with sms_app(
        **oncall_values(
            redis_prefix, twilio.url, viewer_numbers=VIEWER, oncall_names=f"{CHAIN[0]}=alice,{CHAIN[1]}=bob"
        )
    ) as application:
        yield application


@pytest.fixture
def twilio() -> AsyncIterator[TwilioFake]:  # type: ignore[misc]
    from tests.fakes.twilio import ACCOUNT_SID
    from tests.phone import TOKEN

    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:
        yield fake


async def page(app: Quart, twilio: TwilioFake, *alerts: dict[str, object]) -> str:
    before = len(twilio.created)
    response = await app.test_client().post("/alertmanager", data=payload(*alerts), headers=BEARER)  # type: ignore[arg-type]
    assert response.status_code == 200
    await twilio.wait_for(before + 1)
    return str(twilio.created[-1]["body"])


class TestReplies:
    @pytest.mark.parametrize("text", ["1a", "ack 1", "ack", "ACK 1", "'1a'", "ack that"])
    async def test_ack_forms(self, app: Quart, twilio: TwilioFake, text: str) -> None:
        """GoAlert's forms and ours all acknowledge page 1 (the latest, when no number is given)."""
        await page(app, twilio, alert("PgDown", "db-1"))
        await Phone(app.test_client(), CHAIN[0]).expect(text, r"^Acked PgDown db-1 \(1\)\. Escalation stopped\.$")
        await Phone(app.test_client(), CHAIN[0]).expect("1a", r"^1 is already acked \(by alice")

    async def test_bundle_code_and_ack_all(self, app: Quart, twilio: TwilioFake) -> None:
        await page(app, twilio, alert("A1", "x"))
        await app.test_client().post("/alertmanager", data=payload(alert("A2", "x"), alert("A3", "x")), headers=BEARER)  # type: ignore[arg-type]
        phone = Phone(app.test_client(), CHAIN[0])
        await phone.expect("ack all", r"^Acked A1 x \(all\)|^Acked \d alerts \(all\)")

    async def test_codes_belong_to_the_phone_they_were_sent_to(self, app: Quart, twilio: TwilioFake) -> None:
        await page(app, twilio, alert("PgDown", "db-1"))
        await Phone(app.test_client(), CHAIN[1]).expect("1a", r"^No alert 1 on this phone")

    async def test_viewer_may_ask_but_not_act(self, app: Quart, twilio: TwilioFake) -> None:
        await page(app, twilio, alert("PgDown", "db-1"))
        viewer = Phone(app.test_client(), VIEWER)
        await viewer.expect("1a", r"^Your number can't ack\.$")
        await viewer.expect("oncall me", r"^Your number can't take the pager\.$")
        await viewer.expect("who's on call", r"^On call: alice \(\+14\*+00\)\. Then: bob")

    async def test_oncall_me_takes_the_pager_for_new_alerts(self, app: Quart, twilio: TwilioFake) -> None:
        await Phone(app.test_client(), CHAIN[2]).expect("oncall me", r"^You are on call until \d\d:\d\d UTC")
        await Phone(app.test_client(), CHAIN[0]).expect("oncall", r"^On call: \+14\*+02 until \d\d:\d\d UTC")
        await page(app, twilio, alert("PgDown", "db-1"))
        assert twilio.created[-1]["to"] == CHAIN[2]

    async def test_escalate_resolve_and_log(self, app: Quart, twilio: TwilioFake) -> None:
        await page(app, twilio, alert("PgDown", "db-1"))
        phone = Phone(app.test_client(), CHAIN[0])
        await phone.expect("1e", r"^Escalated PgDown db-1 to bob \(\+14\*+01\)\.$")
        await twilio.wait_for(2)
        assert "(escalated from +14*******00)" in twilio.created[-1]["body"]
        await phone.expect("resolve 1", r"^Closed PgDown db-1 here\. Alertmanager will fire again if it is still true")
        await phone.expect("log 1", r"PgDown db-1 \(resolved\):\n\d\d:\d\d firing .*paged alice.*closed here by")

    async def test_silence_asks_how_long_and_needs_alertmanager(self, app: Quart, twilio: TwilioFake) -> None:
        await page(app, twilio, alert("PgDown", "db-1"))
        phone = Phone(app.test_client(), CHAIN[0])
        await phone.expect("silence 1", r"^Silence for how long\? 30m, 1h, 4h, 24h")
        await phone.expect("1h", r"ALERTMANAGER_URL")  # none configured here: said, nothing changed

    async def test_yes_with_nothing_asked(self, app: Quart) -> None:
        await Phone(app.test_client(), CHAIN[0]).expect("yes", r"^Nothing to confirm")


@pytest.mark.parametrize(
    ("text", "command", "code", "window_s"),
    [
        ("4a", "ack", 4, None),
        ("'4a'", "ack", 4, None),
        ("ack 4", "ack", 4, None),
        ("ack", "ack", None, None),
        ("7aa", "ack", 7, None),
        ("ack all", "ackall", None, None),
        ("4s 2h", "silence", 4, 7200),
        ("silence 4 for 2h", "silence", 4, 7200),
        ("silence 4", "silence", 4, None),
        ("7ss 1h", "silence", 7, 3600),
        ("silence it for an hour", "silence", None, 3600),
        ("silence all 1h", "silenceall", None, 3600),
        ("unsilence 4", "unsilence", 4, None),
        ("silences", "silences", None, None),
        ("4e", "escalate", 4, None),
        ("escalate 4", "escalate", 4, None),
        ("resolve 4", "resolve", 4, None),
        ("log 4", "history", 4, None),
        ("logs api 1h", "logs", None, 3600),
        ("oncall", "oncall", None, None),
        ("who's on call", "oncall", None, None),
        ("oncall me", "oncallme", None, None),
        ("45s", None, None, None),
    ],
)
def test_reply_words_parse_as_on_call_commands(
    text: str, command: str | None, code: int | None, window_s: int | None
) -> None:
    """The parser, with the registry's vocabulary, reads pager replies as these commands and slots."""
    from dialogs.catalog import REGISTRY
    from nlu import parse

    intent = parse(text, REGISTRY.vocabulary, services=["api", "web"])
    assert (intent.command, intent.choice) == (command, code)
    assert (intent.window.total_seconds() if intent.window else None) == window_s


@pytest.mark.integration
async def test_silence_asked_how_long_keeps_the_code(
    redis_prefix: str, twilio: TwilioFake, monitoring_stack: MonitoringStack, sms_app: SmsApp
) -> None:
    """`silence 1` → "for how long?" → `1h`: the silence is made for alert 1 (the form kept the code)."""
    values = oncall_values(redis_prefix, twilio.url, alertmanager_url=monitoring_stack.alertmanager_url)
    async with sms_app(**values) as application:
        name = f"Asked{uuid.uuid4().hex[:6]}"
        await page(application, twilio, alert(name, "db-1"))
        phone = Phone(application.test_client(), CHAIN[0])
        await phone.expect("silence 1", r"^Silence for how long\?")
        await phone.expect("1h", rf"^Silenced {name} db-1 for 1h \(id \.\.[0-9a-f]{{6}}\)")


@pytest.mark.integration
async def test_group_silence_asks_then_silences_the_group_labels(
    redis_prefix: str, twilio: TwilioFake, monitoring_stack: MonitoringStack, sms_app: SmsApp
) -> None:
    """`group 1 1h` (or `1g 1h`): one silence on the group's labels, only after yes."""
    import json

    import httpx

    values = oncall_values(redis_prefix, twilio.url, alertmanager_url=monitoring_stack.alertmanager_url)
    async with sms_app(**values) as application:
        name = f"Grouped{uuid.uuid4().hex[:6]}"
        body = json.loads(payload(alert(name, "db-1")))
        body["groupLabels"] = {"alertname": name}
        before = len(twilio.created)
        await application.test_client().post("/alertmanager", data=json.dumps(body).encode(), headers=BEARER)
        await twilio.wait_for(before + 1)
        phone = Phone(application.test_client(), CHAIN[0])
        await phone.expect("1g 1h", rf"^Silence every alert matching alertname={name} for 1h\? yes/no$")
        reply = await phone.expect("yes", rf"^Silenced every alert matching alertname={name} for 1h \(id \.\.")
        async with httpx.AsyncClient(timeout=5) as client:
            silences = (await client.get(f"{monitoring_stack.alertmanager_url}/api/v2/silences")).json()
        [made] = [s for s in silences if s["id"].endswith(reply.split("(id ..")[1][:6])]
        assert [(m["name"], m["value"]) for m in made["matchers"]] == [("alertname", name)]
