"""Page delivery through the `out` stream to a fake Twilio: retries, unknown outcomes, crashes, receipts."""

from __future__ import annotations

from bot.paging import SEND_DEADLINE_S
from dialogs.oncall_store import SENDERS_GROUP
from tests.fakes.twilio import TwilioFake
from tests.oncall.conftest import CHAIN, Rig, alert


async def _one_page(rig: Rig) -> str:
    await rig.receive(alert("PgDown", "db-1"))
    [entry] = await rig.store.read("out", SENDERS_GROUP, "test", 10, 0)
    return entry.fields["p"]


class TestTwilioDown:
    async def test_5xx_is_retried_with_backoff_and_delivered_once(self, rig: Rig) -> None:
        """Twilio answers 503 for a while: the page waits on a retry timer and goes out once when it is back."""
        rig.twilio.down = True
        await rig.receive(alert("PgDown", "db-1"))
        assert await rig.deliver() == ["retry"]
        for _ in range(4):
            await rig.later(60)
        assert len(rig.twilio.sent) == 5 and rig.twilio.created == []
        rig.twilio.down = False
        await rig.later(60)
        await rig.later(60)
        assert len(rig.texts(CHAIN[0])) == 1

    async def test_unreachable_twilio_is_retried(self, rig: Rig) -> None:
        """Nothing listening (connection refused): surely not sent, so simply sent again later."""
        rig.deliverer.twilio._http.base_url = "http://127.0.0.1:9"  # closed port
        await rig.receive(alert("PgDown", "db-1"))
        assert await rig.deliver() == ["retry"]
        rig.deliverer.twilio._http.base_url = rig.twilio.url
        await rig.later(2)
        assert len(rig.texts(CHAIN[0])) == 1


class TestUnknownOutcome:
    async def test_lost_answer_is_looked_up_not_resent(self, rig: Rig) -> None:
        """Twilio made the message but the answer was lost: the check finds it; no second SMS."""
        rig.twilio.lose_next()
        await rig.receive(alert("PgDown", "db-1"))
        assert await rig.deliver() == ["check"]
        await rig.later(3)
        assert len(rig.twilio.created) == 1
        page = await rig.store.page((await rig.store.page_of_sid(rig.twilio.created[0]["sid"])) or "")
        assert page["state"] == "sent"

    async def test_replica_dying_mid_send_leaves_the_page_to_another(self, rig: Rig) -> None:
        """A consumer took the page and died before calling Twilio: after the deadline another sends it, once."""
        pid = await _one_page(rig)
        assert (await rig.store.claim_send(pid, rig.clock() + SEND_DEADLINE_S, "dead-replica"))[0] == "send"
        assert await rig.deliverer.deliver(pid) == "busy"  # still within its deadline: hands off
        rig.clock.advance(SEND_DEADLINE_S + 1)
        assert await rig.deliverer.deliver(pid) == "sent"
        assert await rig.deliverer.deliver(pid) == "done"
        assert len(rig.twilio.created) == 1

    async def test_replica_dying_after_twilio_took_it_is_not_resent(self, rig: Rig) -> None:
        """The dead replica's request had reached Twilio: the survivor finds that message instead of sending."""
        pid = await _one_page(rig)
        page = await rig.store.page(pid)
        assert (await rig.store.claim_send(pid, rig.clock() + SEND_DEADLINE_S, "dead-replica"))[0] == "send"
        await rig.deliverer.twilio.create(page["to"], page["body"])  # what the dead replica managed to do
        rig.clock.advance(SEND_DEADLINE_S + 1)
        assert await rig.deliverer.deliver(pid) == "sent"
        assert len(rig.twilio.created) == 1

    async def test_pending_entries_of_a_dead_consumer_are_claimed(self, rig: Rig) -> None:
        """XAUTOCLAIM hands a dead consumer's unacknowledged entries to a live one."""
        await rig.receive(alert("PgDown", "db-1"))
        taken = await rig.store.read("out", SENDERS_GROUP, "dead", 10, 0)
        assert len(taken) == 1 and await rig.store.read("out", SENDERS_GROUP, "live", 10, 0) == []
        import asyncio

        await asyncio.sleep(0.05)
        [claimed] = await rig.store.reclaim("out", SENDERS_GROUP, "live", min_idle_ms=10)
        assert claimed.id == taken[0].id


class TestReceipts:
    async def test_undelivered_receipt_escalates_at_once(self, rig: Rig) -> None:
        """A status callback saying undelivered (30003) pages the next number without waiting."""
        from bot.alert_routes import receipt

        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        sid = rig.twilio.created[0]["sid"]

        class Loop:  # the parts of OncallLoop that `receipt` reads
            store, pager, sessions = rig.store, rig.pager, rig.sessions

        await receipt(Loop(), sid, "sent", "")  # type: ignore[arg-type]
        await rig.deliver()
        assert rig.texts(CHAIN[1]) == []
        await receipt(Loop(), sid, "undelivered", "30003")  # type: ignore[arg-type]
        await rig.deliver()
        assert len(rig.texts(CHAIN[1])) == 1
        page = await rig.store.page((await rig.store.page_of_sid(sid)) or "")
        assert page["delivery"] == "undelivered" and page["error_code"] == "30003"
        assert "SMS to alice (+14*******00) undelivered (Twilio 30003)" in await rig.desk.history(CHAIN[0], 1)
        await receipt(Loop(), rig.twilio.created[-1]["sid"], "delivered", "")  # type: ignore[arg-type]
        assert "SMS to bob (+14*******01) delivered" in await rig.desk.history(CHAIN[0], 1)


class TestPoison:
    async def test_an_event_that_always_fails_is_dropped_after_five_tries(self, rig: Rig) -> None:
        """A malformed event (here: no fingerprint) is retried, then dropped, not retried forever."""
        from dialogs.oncall_store import EVENTS_GROUP

        await rig.store.client.xadd(rig.store.key("ev"), {"e": '{"status": "firing"}'})
        [entry] = await rig.store.read("ev", EVENTS_GROUP, "test", 10, 0)
        outcomes = [await rig.decider.decide(entry) for _ in range(5)]
        assert outcomes == [False, False, False, False, True]


async def test_pages_through_a_messaging_service_carry_a_validity_period(twilio: TwilioFake) -> None:
    """A stale page should fail at Twilio (30036) and escalate, not arrive late: ValidityPeriod is set."""
    from bot.paging import TwilioPages
    from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID

    pages = TwilioPages(
        ACCOUNT_SID,
        AUTH_TOKEN,
        from_number=None,
        messaging_service_sid=MESSAGING_SERVICE_SID,
        api_url=twilio.url,
        status_callback=None,
        validity_s=120,
    )
    try:
        await pages.create(CHAIN[0], "CRIT X y. Reply 1a ack")
    finally:
        await pages.aclose()
    form = {k: v[0] for k, v in twilio.sent[0].form().items()}
    assert form["ValidityPeriod"] == "120" and form["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert "From" not in form and "StatusCallback" not in form


async def test_retries_back_off_to_a_minute_and_give_up_after_an_hour(rig: Rig) -> None:
    """Twilio down for good: retries wait 1, 2, 4 ... 60 s; after an hour the page fails and escalates."""
    from bot.paging import backoff

    assert [backoff(n) for n in (1, 2, 3, 4, 7, 20)] == [1, 2, 4, 8, 60, 60]
    rig.twilio.down = True
    await rig.receive(alert("PgDown", "db-1"))
    await rig.deliver()
    for _ in range(70):
        await rig.later(60)
    pages = [await rig.store.page(p) for p in await _pages(rig)]
    [first] = [p for p in pages if p["to"] == CHAIN[0] and p["level"] == "0"]
    assert first["state"] == "failed" and first["error"].startswith("gave up after 3600s")
    assert rig.twilio.created == []


async def _pages(rig: Rig) -> list[str]:
    keys = [k.decode() async for k in rig.store.client.scan_iter(match=rig.store.key("page:*"))]
    return [k.rsplit(":", 1)[1] for k in keys]


class TestLostReceipts:
    async def test_an_overdue_receipt_is_looked_up_and_a_failure_escalates(self, rig: Rig) -> None:
        """No status callback came: five minutes on, Twilio is asked; undelivered (30003) escalates."""
        from tests.oncall.conftest import make_policy

        rig.pager.policy = make_policy(escalate_after_s=3600)
        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        sid = rig.twilio.created[0]["sid"]
        await rig.later(301)  # still queued at Twilio: asked, nothing final, asked again later
        assert rig.texts(CHAIN[1]) == []
        rig.twilio.set_status(sid, "undelivered", 30003)
        await rig.later(301)
        assert len(rig.texts(CHAIN[1])) == 1
        assert "SMS to alice (+14*******00) undelivered (Twilio 30003)" in await rig.desk.history(CHAIN[0], 1)
        gets = [r for r in rig.twilio.requests if r.method == "GET" and r.path.endswith(f"/{sid}.json")]
        assert len(gets) == 2

    async def test_a_receipt_that_came_is_not_looked_up(self, rig: Rig) -> None:
        from bot.alert_routes import receipt

        await rig.receive(alert("PgDown", "db-1"))
        await rig.deliver()
        sid = rig.twilio.created[0]["sid"]

        class Loop:
            store, pager, sessions = rig.store, rig.pager, rig.sessions

        await receipt(Loop(), sid, "delivered", "")  # type: ignore[arg-type]
        await rig.later(301)
        assert not [r for r in rig.twilio.requests if r.method == "GET"]
