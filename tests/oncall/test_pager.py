"""Paging decisions on real Redis: one page per alert, codes, bundles, budget, escalation, resolve."""

from __future__ import annotations

import re

import pytest

from dialogs.oncall_store import CODE_TTL_S
from dialogs.pager import OncallPolicy, mask
from tests.fakes.twilio import TwilioFake
from tests.oncall.conftest import CHAIN, T0, Rig, alert, make_policy


class TestFirstPage:
    async def test_new_alert_pages_the_primary_once_in_one_segment(self, rig: Rig) -> None:
        """A new alert becomes one GSM-7 SMS to the first number: severity, name, subject, age, code."""
        assert await rig.receive(alert("HighErrorRate", "api-3")) == 1
        assert await rig.deliver() == ["sent"]
        [text] = rig.texts(CHAIN[0])
        assert text == "CRIT HighErrorRate api-3 2m. Reply 1a ack, 1s 1h silence"
        assert len(text) <= 160 and text.isascii()
        assert rig.texts(CHAIN[1]) == []
        form = {k: v[0] for k, v in rig.twilio.sent[0].form().items()}
        assert form["StatusCallback"] == "https://ops.example.com/twilio/status"

    async def test_repeats_replays_and_peer_duplicates_page_once(self, rig: Rig) -> None:
        """The same (fingerprint, startsAt, status) again - repeat_interval, a replay, an HA peer - is stored once."""
        a = alert("PgDown", "db-1")
        assert await rig.receive(a) == 1
        assert await rig.receive(a) == 0
        assert await rig.receive(a, a) == 0
        await rig.deliver()
        assert len(rig.texts(CHAIN[0])) == 1

    async def test_a_long_alert_is_cut_to_one_segment_keeping_the_code(self, rig: Rig) -> None:
        """Labels too long for one segment are shortened; the reply instructions always survive."""
        await rig.receive(alert("X" * 150, "host-with-a-very-long-name-" * 4))
        await rig.deliver()
        [text] = rig.texts(CHAIN[0])
        assert len(text) <= 160 and text.endswith("Reply 1a ack, 1s 1h silence")

    async def test_refiring_alert_shows_how_often_it_fired(self, rig: Rig) -> None:
        """The same label set firing again (new startsAt) is a new incident, marked (x2)."""
        await rig.receive(alert("Flappy", "web-1", starts=T0 - 600))
        await rig.receive(alert("Flappy", "web-1", status="resolved", starts=T0 - 600))
        rig.clock.advance(120)
        await rig.receive(alert("Flappy", "web-1", starts=T0 + 60))
        await rig.deliver()
        assert any("Flappy web-1 (x2)" in t for t in rig.texts(CHAIN[0]))

    async def test_opted_out_primary_is_skipped_at_once(self, rig: Rig) -> None:
        """A number that texted STOP is never paged: the next in the chain gets it now."""
        await rig.sessions.set_opted_out(CHAIN[0], True)
        await rig.receive(alert("DiskFull", "db-2"))
        await rig.deliver()
        assert rig.texts(CHAIN[0]) == []
        assert len(rig.texts(CHAIN[1])) == 1


class TestCodes:
    async def test_codes_are_per_phone_and_not_reused_within_a_day(self, rig: Rig) -> None:
        """After 1 is acked, the next alert gets 2; only after 24 h may 1 come back."""
        await rig.receive(alert("A", "h1"))
        await rig.deliver()
        assert (await rig.desk.ack(CHAIN[0], 1)).startswith("Acked A h1")
        rig.clock.advance(120)
        await rig.receive(alert("B", "h2", starts=T0))
        await rig.deliver()
        assert "Reply 2a" in rig.texts(CHAIN[0])[-1]
        rig.clock.advance(CODE_TTL_S + 1)
        await rig.receive(alert("C", "h3", starts=T0 + CODE_TTL_S))
        await rig.deliver()
        assert "Reply 1a" in rig.texts(CHAIN[0])[-1]
        assert "No alert 2" in await rig.desk.ack(CHAIN[0], 2)  # 2 expired with its day


class TestBundles:
    async def test_alerts_within_the_window_go_out_as_one_bundle(self, rig: Rig) -> None:
        """First page at once; the next ones within PAGE_BUNDLE_S wait and leave as one SMS."""
        await rig.receive(alert("First", "a"))
        await rig.deliver()
        for name in ("B1", "B2", "B3"):
            rig.clock.advance(5)
            await rig.receive(alert(name, "b"))
        await rig.deliver()
        assert len(rig.texts(CHAIN[0])) == 1  # held
        await rig.later(60)
        bundle = rig.texts(CHAIN[0])[-1]
        assert bundle.startswith("3 new: CRIT B1 b, CRIT B2 b, CRIT B3 b") and "Reply 2aa to ack these 3" in bundle

    async def test_bundle_ack_acts_on_its_members_only(self, rig: Rig) -> None:
        """`2aa` acks the bundle's alerts, not an alert that arrived after the bundle was sent."""
        await rig.receive(alert("First", "a"))
        await rig.deliver()
        rig.clock.advance(5)
        await rig.receive(alert("B1", "b"), alert("B2", "b"))
        await rig.later(60)
        await rig.receive(alert("Later", "c"))
        await rig.later(60)
        assert (await rig.desk.ack(CHAIN[0], 2)) == "Acked 2 alerts (2). Escalation stopped."
        assert await rig.states() == {"First": "paged", "B1": "acked", "B2": "acked", "Later": "paged"}


class TestBudget:
    @pytest.fixture
    def policy(self) -> OncallPolicy:
        return make_policy(budget=4, bundle_s=0)

    async def test_a_storm_sends_the_budget_then_one_notice(self, rig: Rig) -> None:
        """50 alerts, budget 4 segments: 3 pages, then one SMS saying how many wait; nothing more that hour."""
        for i in range(50):
            await rig.receive(alert(f"Storm{i}", "x"))
        await rig.deliver()
        assert len(rig.texts(CHAIN[0])) == 3
        await rig.later(60)
        await rig.later(3000)
        texts = rig.texts(CHAIN[0])
        assert len(texts) == 4
        assert re.fullmatch(
            r"Page budget spent \(4 SMS/h\)\. 47 more alerts pending: send alerts to see them\.", texts[-1]
        ), texts[-1]
        assert await rig.store.segments_used(CHAIN[0]) == 4
        # Only what was paged escalates; the 47 held alerts wait for `alerts`, they do not spill over.
        assert len(rig.texts(CHAIN[1])) == 3


class TestEscalation:
    async def test_unacked_page_goes_to_the_next_number_then_everyone(self, rig: Rig) -> None:
        """No ack within ESCALATE_AFTER_S: the next number, then the next, then all of them once more."""
        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        await rig.later(299)
        assert rig.texts(CHAIN[1]) == []
        await rig.later(2)
        [second] = rig.texts(CHAIN[1])
        assert f"(escalated from {mask(CHAIN[0])})" in second and "Reply 1a ack" in second
        await rig.later(301)
        assert len(rig.texts(CHAIN[2])) == 1
        await rig.later(301)
        assert [len(rig.texts(n)) for n in CHAIN] == [2, 2, 2]
        await rig.later(301)
        await rig.later(301)
        assert [len(rig.texts(n)) for n in CHAIN] == [2, 2, 2]  # the chain ends
        log = await rig.desk.history(CHAIN[0], 1)
        assert "end of the chain" in log

    async def test_ack_stops_escalation(self, rig: Rig) -> None:
        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        await rig.desk.ack(CHAIN[0], None)
        await rig.later(1000)
        assert rig.texts(CHAIN[1]) == []

    async def test_two_replicas_escalate_exactly_once(self, rig: Rig, redis_prefix: str) -> None:
        """Two tickers on one Redis, both past the deadline: one escalation page, not two."""
        from tests.oncall.conftest import make_rig

        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        async with make_rig(redis_prefix, rig.twilio, rig.pager.policy, clock=rig.clock, name="other") as other:
            rig.clock.advance(301)
            import asyncio

            await asyncio.gather(rig.tick(), other.tick(), rig.tick(), other.tick())
            await rig.deliver()
        assert len(rig.texts(CHAIN[1])) == 1

    async def test_failed_delivery_escalates_at_once(self, rig: Rig) -> None:
        """Twilio refuses the number for good (21610, opted out): the next number is paged without waiting."""
        rig.twilio.opted_out.add(CHAIN[0])
        await rig.receive(alert("PgDown", "db-1"))
        assert await rig.deliver() == ["failed", "sent"]
        assert len(rig.texts(CHAIN[1])) == 1
        assert await rig.sessions.is_opted_out(CHAIN[0])


class TestResolved:
    async def test_resolved_unacked_page_says_so(self, rig: Rig) -> None:
        await rig.receive(alert("PgDown", "db-1"))
        await rig.receive(alert("PgDown", "db-1", status="resolved"))
        await rig.deliver()
        assert rig.texts(CHAIN[0])[-1] == "RESOLVED PgDown db-1 (1)"
        await rig.later(1000)
        assert rig.texts(CHAIN[1]) == []  # closed: no escalation

    async def test_resolved_after_ack_stays_quiet(self, rig: Rig) -> None:
        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        await rig.desk.ack(CHAIN[0], 1)
        await rig.receive(alert("PgDown", "db-1", status="resolved"))
        await rig.deliver()
        assert len(rig.texts(CHAIN[0])) == 1

    async def test_resolved_before_firing_never_pages(self, rig: Rig) -> None:
        """Events can arrive out of order across replicas: a resolve first leaves nothing to page."""
        await rig.receive(alert("PgDown", "db-1", status="resolved"))
        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        assert rig.texts(CHAIN[0]) == []


async def test_bundled_alerts_resolve_quietly(rig: Rig) -> None:
    """A storm's bundle does not come back as one RESOLVED SMS per member."""
    await rig.receive(alert("First", "a"))
    await rig.deliver()
    rig.clock.advance(5)
    await rig.receive(alert("B1", "b"), alert("B2", "b"))
    await rig.later(60)
    sent = len(rig.texts(CHAIN[0]))
    await rig.receive(alert("B1", "b", status="resolved"), alert("B2", "b", status="resolved"))
    await rig.deliver()
    assert len(rig.texts(CHAIN[0])) == sent
    assert await rig.states() == {"First": "paged"}


@pytest.mark.parametrize(("mode", "after_ack", "unacked"), [("all", 2, 2), ("none", 1, 1), ("unacked", 1, 2)])
async def test_page_resolved_setting(
    redis_prefix: str, twilio: TwilioFake, mode: str, after_ack: int, unacked: int
) -> None:
    """PAGE_RESOLVED: who hears RESOLVED (texts to the primary after an acked / an unacked alert resolves)."""
    from tests.oncall.conftest import make_rig

    async with make_rig(redis_prefix, twilio, make_policy(resolved=mode)) as rig:
        await rig.receive(alert("Acked", "a"))
        await rig.deliver()
        await rig.desk.ack(CHAIN[0], 1)
        await rig.receive(alert("Acked", "a", status="resolved"))
        await rig.deliver()
        assert len(rig.texts(CHAIN[0])) == after_ack
        rig.clock.advance(120)
        await rig.receive(alert("Open", "b"))
        await rig.deliver()
        before = len(rig.texts(CHAIN[0]))
        await rig.receive(alert("Open", "b", status="resolved"))
        await rig.deliver()
        assert len(rig.texts(CHAIN[0])) - before == unacked - 1
