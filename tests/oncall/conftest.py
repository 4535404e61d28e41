"""The on-call loop on the machine's real Redis (db 15, a prefix per test) and a fake Twilio.

`Rig` holds one replica's parts — store, pager, desk, decider, ticker, deliverer — on an
injected clock, so escalation windows and 24 h code reuse are tested without waiting. Its
helpers drive the same code the background tasks run: `receive` goes through the webhook's
parser and the store's receive script, `decide` and `deliver` drain the streams, `tick` fires
due timers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.alert_routes import parse_payload
from bot.escalation import Decider, Ticker
from bot.paging import Deliverer, TwilioPages
from dialogs.oncall_desk import OncallDesk
from dialogs.oncall_store import EVENTS_GROUP, SENDERS_GROUP, OncallStore
from dialogs.pager import OncallPolicy, Pager
from dialogs.store import MemorySessionStore
from monitors.silences import SilenceClient
from tests.apps import FakeClock
from tests.conftest import REDIS_URL
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioFake

CHAIN = ("+14155550100", "+14155550101", "+14155550102")
VIEWER = "+14155550199"
# The start of the current hour: page budgets count per clock hour, and Twilio's (fake's) own
# timestamps are real time, which the lookup of an unknown send compares against.
T0 = float(int(time.time() // 3600) * 3600)


def alert(
    name: str,
    subject: str = "api-3",
    *,
    status: str = "firing",
    severity: str = "critical",
    starts: float = T0 - 120,
    **labels: str,
) -> dict[str, Any]:
    """One alert as Alertmanager's webhook carries it; the fingerprint derives from the labels."""
    all_labels = {"alertname": name, "instance": subject, "severity": severity, **labels}
    fp = hashlib.sha256(json.dumps(all_labels, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": f"{name} on {subject}"},
        "startsAt": datetime.fromtimestamp(starts, UTC).isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom/graph",
        "fingerprint": fp,
    }


def payload(*alerts: dict[str, Any]) -> bytes:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="x"}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "operator",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://am",
            "alerts": list(alerts),
        }
    ).encode()


@dataclass
class Rig:
    clock: FakeClock
    store: OncallStore
    sessions: MemorySessionStore
    pager: Pager
    desk: OncallDesk
    twilio: TwilioFake
    deliverer: Deliverer
    ticker: Ticker
    decider: Decider
    results: list[str] = field(default_factory=list)

    async def receive(self, *alerts: dict[str, Any]) -> int:
        """Store a webhook payload (as the route does) and decide every new event."""
        new = await self.store.receive(parse_payload(payload(*alerts)))
        await self.decide()
        return new

    async def decide(self) -> None:
        for entry in await self.store.read("ev", EVENTS_GROUP, "test", 1000, 0):
            await self.decider.one(entry)

    async def deliver(self) -> list[str]:
        """Send everything queued; the outcomes, in order."""
        outcomes = []
        while entries := await self.store.read("out", SENDERS_GROUP, "test", 100, 0):
            for entry in entries:
                outcomes.append(await self.deliverer.deliver(entry.fields["p"]))
                await self.store.done("out", SENDERS_GROUP, entry.id)
        return outcomes

    async def tick(self) -> int:
        return await self.ticker.tick()

    async def later(self, seconds: float) -> None:
        """Let time pass: timers fall due and run, then whatever they queued is sent."""
        self.clock.advance(seconds)
        await self.tick()
        await self.deliver()

    async def states(self) -> dict[str, str]:
        """alertname -> state of every open incident."""
        incs = await self.store.load_many(await self.store.open_ids())
        return {i["labels"]["alertname"]: i["state"] for i in incs if i}

    def texts(self, number: str) -> list[str]:
        return self.twilio.bodies_to(number)


def make_policy(**overrides: Any) -> OncallPolicy:
    values: dict[str, Any] = {
        "chain": CHAIN,
        "viewers": frozenset({VIEWER}),
        "names": {CHAIN[0]: "alice", CHAIN[1]: "bob"},
        "escalate_after_s": 300,
        "bundle_s": 60,
        "budget": 20,
    }
    values.update(overrides)
    return OncallPolicy(**values)


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake() as fake:
        yield fake


@pytest.fixture
def policy() -> OncallPolicy:
    return make_policy()


@pytest.fixture
async def rig(redis_prefix: str, twilio: TwilioFake, policy: OncallPolicy) -> AsyncIterator[Rig]:
    async with make_rig(redis_prefix, twilio, policy) as built:
        yield built


class make_rig:
    """One replica's parts; several on one prefix behave as several replicas on one Redis."""

    def __init__(
        self,
        prefix: str,
        twilio: TwilioFake,
        policy: OncallPolicy,
        clock: FakeClock | None = None,
        sessions: MemorySessionStore | None = None,
        silences: SilenceClient | None = None,
        name: str = "test",
    ) -> None:
        self.clock = clock or FakeClock(T0)
        self.sessions = sessions or MemorySessionStore(1800)
        self.store = OncallStore.from_url(REDIS_URL, prefix, self.clock)
        self.pages = TwilioPages(
            ACCOUNT_SID,
            AUTH_TOKEN,
            from_number=FROM_NUMBER,
            messaging_service_sid=None,
            api_url=twilio.url,
            status_callback="https://ops.example.com/twilio/status",
            validity_s=300,
            read_timeout_s=2,
        )
        pager = Pager(self.store, policy, self.sessions.is_opted_out, self.clock)

        async def opt_out(number: str) -> None:
            await self.sessions.set_opted_out(number, True)

        deliverer = Deliverer(
            self.store,
            self.pages,
            name,
            escalate=pager.escalate_page,
            opt_out=opt_out,
            claim_idle_s=1,
            clock=self.clock,
        )
        self.rig = Rig(
            self.clock,
            self.store,
            self.sessions,
            pager,
            OncallDesk(pager, silences, self.clock),
            twilio,
            deliverer,
            Ticker(self.store, pager, deliverer=deliverer),
            Decider(self.store, pager, name),
        )

    async def __aenter__(self) -> Rig:
        await self.store.setup()
        return self.rig

    async def __aexit__(self, *exc: object) -> None:
        await self.pages.aclose()
        await self.store.aclose()
