"""monitors/silences.py and the desk's silence actions against the real Alertmanager."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from dialogs.oncall_desk import OncallDesk
from monitors.base import MonitorError
from monitors.silences import SilenceClient
from tests.fakes.server import closed_port_url
from tests.fakes.twilio import TwilioFake
from tests.oncall.conftest import CHAIN, VIEWER, Rig, alert, make_policy, make_rig
from tests.servers.prometheus import ALERT_NAME, MonitoringStack

pytestmark = pytest.mark.integration


@pytest.fixture
async def silences(monitoring_stack: MonitoringStack) -> AsyncIterator[SilenceClient]:
    client = SilenceClient(monitoring_stack.alertmanager_url, httpx.AsyncClient(timeout=3), 3)
    yield client
    await client.aclose()


@pytest.fixture
async def am_rig(redis_prefix: str, twilio: TwilioFake, silences: SilenceClient) -> AsyncIterator[Rig]:
    async with make_rig(redis_prefix, twilio, make_policy(), silences=silences) as built:
        yield built


def _am_silence(stack: MonitoringStack, silence_id: str) -> dict[str, object]:
    found: dict[str, object] = httpx.get(f"{stack.alertmanager_url}/api/v2/silence/{silence_id}", timeout=5).json()
    return found


class TestSilenceClient:
    async def test_create_list_expire(self, silences: SilenceClient, monitoring_stack: MonitoringStack) -> None:
        """A silence with exact matchers mutes the firing alert; expiring it un-mutes; a second expire is 'gone'."""
        labels = {"alertname": ALERT_NAME, "severity": "warning", "team": "ops", "service": "checkout"}
        sid = await silences.create(labels, timedelta(minutes=5), "operator: test", "test silence")
        assert any(s.id == sid for s in await silences.active())
        assert not any(a["labels"]["alertname"] == ALERT_NAME for a in monitoring_stack.am_alerts())
        assert await silences.expire(sid) is True
        assert _am_silence(monitoring_stack, sid)["status"] == {"state": "expired"}
        assert any(a["labels"]["alertname"] == ALERT_NAME for a in monitoring_stack.am_alerts())
        assert await silences.expire(str(uuid.uuid4())) is False  # unknown id: 404, already gone

    async def test_rejection_and_outage_are_short_reasons(self, silences: SilenceClient) -> None:
        with pytest.raises(MonitorError, match="rejected"):
            await silences.create({"alertname": ""}, timedelta(minutes=5), "operator: test", "empty matcher")
        down = SilenceClient(closed_port_url(), httpx.AsyncClient(timeout=1), 1)
        with pytest.raises(MonitorError, match="connection refused"):
            await down.active()
        await down.aclose()


class TestDeskSilence:
    async def test_reply_silences_exactly_that_alert_and_audits_it(
        self, am_rig: Rig, monitoring_stack: MonitoringStack
    ) -> None:
        name = f"DeskSilence{uuid.uuid4().hex[:6]}"
        await am_rig.receive(alert(name, "api-3"))
        await am_rig.deliver()
        reply = await am_rig.desk.silence(CHAIN[0], 1, 3600)
        assert reply.startswith(f"Silenced {name} api-3 for 1h (id ..") and "no RESOLVED" in reply
        [inc] = [i for i in await am_rig.store.load_many(await am_rig.store.open_ids()) if i]
        assert inc["state"] == "silenced"
        silence = _am_silence(monitoring_stack, inc["silences"][0])
        assert silence["createdBy"] == "operator: alice (+14*******00)"
        matchers = {m["name"]: m["value"] for m in silence["matchers"]}  # type: ignore[attr-defined]
        assert matchers == {"alertname": name, "instance": "api-3", "severity": "critical"}
        again = await am_rig.desk.silence(CHAIN[0], 1, 3600)
        assert "no RESOLVED" not in again  # warned once
        listed = await am_rig.desk.silences_list(VIEWER)  # viewers may look
        assert f"..{inc['silences'][0][-6:]} {name} api-3 until" in listed and "by alice" in listed
        log = await am_rig.desk.history(CHAIN[0], 1)
        assert f"Alertmanager silence {inc['silences'][0]}" in log and "silenced 1h by alice" in log
        reply = await am_rig.desk.unsilence(CHAIN[0], 1)
        assert reply.count("expired") == 2
        assert _am_silence(monitoring_stack, inc["silences"][0])["status"] == {"state": "expired"}

    async def test_without_duration_it_asks_how_long(self, am_rig: Rig) -> None:
        await am_rig.receive(alert("AskHowLong", "db-1"))
        await am_rig.deliver()
        assert (await am_rig.desk.silence(CHAIN[0], 1, None)).startswith("Silence 1 (AskHowLong db-1) for how long?")
        assert (await am_rig.desk.answer(CHAIN[0], duration_s=1800)).startswith("Silenced AskHowLong db-1 for 30m")

    async def test_bundle_and_long_silences_ask_yes_no_first(self, am_rig: Rig) -> None:
        """A bundle (several alerts) or more than 24 h: nothing happens until "yes"; "no" drops it."""
        await am_rig.receive(alert("First", "a"))
        await am_rig.deliver()
        am_rig.clock.advance(5)
        await am_rig.receive(alert("Wide1", "b"), alert("Wide2", "c"))
        await am_rig.later(60)
        question = await am_rig.desk.silence(CHAIN[0], 2, 7200)
        assert question == "Silence 2 alerts matching Wide1 b, Wide2 c for 2h? yes/no"
        states = await am_rig.states()
        assert states["Wide1"] == states["Wide2"] == "paged"
        done = await am_rig.desk.answer(CHAIN[0], yes=True)
        assert done is not None and done.startswith("Silenced 2 alerts for 2h (ids ..")
        assert (await am_rig.desk.silence(CHAIN[0], 1, 2 * 86400)).endswith("for 2d? yes/no")
        assert await am_rig.desk.answer(CHAIN[0], yes=False) == "OK, 1 not silenced."
        assert await am_rig.desk.answer(CHAIN[0], yes=True) is None  # nothing waits any more

    async def test_viewer_may_ask_but_not_act(self, am_rig: Rig) -> None:
        await am_rig.receive(alert("Viewed", "a"))
        await am_rig.deliver()
        assert await am_rig.desk.silence(VIEWER, 1, 3600) == "Your number can't silence."
        assert await am_rig.desk.ack(VIEWER, 1) == "Your number can't ack."
        assert (await am_rig.desk.oncall(VIEWER)).startswith("On call: alice (+14*******00)")


async def test_desk_without_alertmanager_says_so(rig: Rig) -> None:
    desk = OncallDesk(rig.pager, None, rig.clock)
    assert "ALERTMANAGER_URL" in await desk.silence(CHAIN[0], 1, 3600)


async def test_a_storm_bundle_is_not_silenced_one_by_one(rig: Rig, silences: SilenceClient) -> None:
    """30 alerts in one bundle: the reply says why not (and what to do), and no silence is made."""
    desk = OncallDesk(rig.pager, silences, rig.clock)
    await rig.receive(alert("First", "a"))
    await rig.deliver()
    rig.clock.advance(5)
    await rig.receive(*(alert(f"S{i}", "b") for i in range(30)))
    await rig.later(60)
    before = len(await silences.active())
    reply = await desk.silence(CHAIN[0], 2, 3600)
    assert reply.startswith("2 holds 30 open alerts: too many") and "ack 2" in reply
    assert len(await silences.active()) == before
