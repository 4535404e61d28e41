"""The on-call loop's background work, started with the app: decide received alerts, fire due timers.

`Decider` reads the `ev` stream (consumer group "deciders") and hands each alert event to the
pager, different alerts concurrently, one alert's events in order; an event is acknowledged
after the pager has stored its decision, so a replica that dies mid-decision leaves the event
to be re-claimed (XAUTOCLAIM) and decided again (the pager's guards make that harmless).

`Ticker` claims due timers (escalation deadlines, bundle flushes, send retries) every TICK_S.
The claim is one Lua script that leases each due timer to the caller, so with several replicas
exactly one runs it; a replica that dies holding a lease lets it fall due again after LEASE_S.
Timers live in Redis, so they survive restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from bot.paging import Deliverer
from dialogs.oncall_store import EVENTS_GROUP, Entry, OncallStore
from dialogs.pager import Pager

log = logging.getLogger(__name__)

LEASE_S = 60.0
MAX_TRIES = 5  # an event that fails to be decided this often is logged and dropped


class Decider:
    def __init__(self, store: OncallStore, pager: Pager, consumer: str, claim_idle_s: float = 30.0) -> None:
        self.store = store
        self.pager = pager
        self.consumer = consumer
        self.claim_idle_s = claim_idle_s

    async def run(self, stop: asyncio.Event) -> None:
        last_claim = 0.0
        while not stop.is_set():
            try:
                entries: list[Entry] = []
                if time.monotonic() - last_claim >= min(5.0, self.claim_idle_s / 2):
                    last_claim = time.monotonic()
                    entries = await self.store.reclaim("ev", EVENTS_GROUP, self.consumer, int(self.claim_idle_s * 1000))
                if not entries:
                    entries = await self.store.read("ev", EVENTS_GROUP, self.consumer, 50, 500)
                await self.batch(entries)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert decider loop: retrying in 1s")
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):  # NOGROUP after a Redis restart or a start without it
                    await self.store.setup()

    async def batch(self, entries: list[Entry]) -> None:
        """Decide a batch: the first alert, then the others at once, each alert's events in order (a resolve
        after its firing).

        Concurrency is safe: every decision is a WATCHed transaction or one script.
        """
        by_alert: dict[str, list[Entry]] = {}
        for entry in entries:
            try:
                fp = str(json.loads(entry.fields["e"]).get("fp", ""))
            except (ValueError, KeyError, AttributeError):
                fp = ""
            by_alert.setdefault(fp, []).append(entry)

        decided: list[str] = []

        async def in_order(group: list[Entry]) -> None:
            for entry in group:
                if await self.decide(entry):
                    decided.append(entry.id)

        # The batch's first alert is decided before the others: it is the one paged at once (the rest
        # may join its bundle), and a webhook lists its critical alerts first (alert_routes.parse_payload).
        first, *rest = by_alert.values() if by_alert else [[]]
        await in_order(first)
        await asyncio.gather(*(in_order(g) for g in rest))
        await self.store.done("ev", EVENTS_GROUP, *decided)

    async def one(self, entry: Entry) -> None:
        if await self.decide(entry):
            await self.store.done("ev", EVENTS_GROUP, entry.id)

    async def decide(self, entry: Entry) -> bool:
        """Whether the event was decided (else it stays pending, to be re-claimed and tried again)."""
        try:
            await self.pager.on_event(json.loads(entry.fields["e"]))
        except Exception:
            try:
                tries = await self.store.failed("ev", entry.id)
            except Exception:
                tries = 0
            if tries >= MAX_TRIES:  # a poison event: drop it rather than retry it forever
                log.error("alert event %s dropped after %d failed decisions", entry.id, tries)
                return True
            log.exception("alert event %s not decided (try %d); left pending for a retry", entry.id, tries)
            return False
        return True


class Ticker:
    def __init__(
        self, store: OncallStore, pager: Pager, tick_s: float = 0.5, deliverer: Deliverer | None = None
    ) -> None:
        self.store = store
        self.pager = pager
        self.tick_s = tick_s
        self.deliverer = deliverer  # looks up overdue receipts (poll:<pid>) at Twilio

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("escalation ticker: retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_s)

    async def tick(self) -> int:
        """Run every due timer this replica wins; returns how many."""
        due = await self.store.claim_due(LEASE_S)
        for member in due:
            try:
                if member.startswith("poll:"):
                    await self.store.untime(member)  # first: the poll may set the next one
                    if self.deliverer is not None:
                        await self.deliverer.poll(member[5:], self.pager.receipt)
                else:
                    await self.pager.on_timer(member)
            except Exception:
                log.exception("timer %s failed; it falls due again after the lease", member)
        return len(due)
