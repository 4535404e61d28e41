"""Who gets paged, when and with what: the on-call loop's decisions, all state in `OncallStore`.

Entry points, each safe to run on any replica and to run again after a crash:

- `on_event(event)`: one received alert event (firing or resolved), from the `ev` stream;
- `on_timer(member)`: a due deadline (escalate a page, flush a bundle, retry a send);
- `escalate_page(pid, why)`: page the next number for a page's still-unacknowledged alerts
  (the timer, a failed delivery receipt, or a `4e` reply);
- `receipt(pid, status, code)`: Twilio's delivery receipt for a page (a final failure escalates);
- `send(...)`: the one path to a page: budget, code, text, then one MULTI/EXEC that moves the
  incidents, stores the page, queues it on the `out` stream and sets its escalation deadline.

Guards make repeats harmless: a page moves only incidents in the state it expects (`firing` for a
first page; `paged`/`escalated` at the page's level for an escalation, like GoAlert's
EscalateAsOf), inside a WATCHed transaction, so two replicas never escalate one alert twice.
Budget and codes are taken before that transaction; when it then finds nothing to page, a code
or a segment of budget is wasted, never an SMS sent twice.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

from dialogs.incidents import (
    UNACKED,
    bundle_text,
    fire,
    incident_id,
    new_incident,
    notice_text,
    page_text,
    resolved_text,
    segments,
)
from dialogs.oncall_store import Changes, OncallStore

log = logging.getLogger(__name__)

FINAL = ("delivered", "failed", "undelivered")  # Twilio's final SMS states
CACHE_S = 1.0  # the override and opt-out flags are re-read at most this often when deciding
NOTICE_DELAY_S = 10.0  # the budget notice waits this long (or a bundle window) so its count covers the burst
OptedOut = Callable[[str], Awaitable[bool]]


def mask(number: str) -> str:
    """A number as texts and logs show it: +1*******00 (same rule as bot.security.mask)."""
    return "***" if len(number) <= 6 else number[:3] + "*" * (len(number) - 5) + number[-2:]


@dataclass(frozen=True, slots=True)
class OncallPolicy:
    chain: tuple[str, ...] = ()  # ONCALL_NUMBERS, E.164, primary first
    viewers: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)  # number -> name
    escalate_after_s: float = 300
    bundle_s: float = 60
    budget: int = 20
    override_ttl_s: int = 12 * 3600
    resolved: str = "unacked"  # unacked | all | none

    def who(self, number: str) -> str:
        name = self.names.get(number)
        return f"{name} ({mask(number)})" if name else mask(number)


class Pager:
    def __init__(
        self, store: OncallStore, policy: OncallPolicy, opted_out: OptedOut, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.policy = policy
        self.opted_out = opted_out
        self.clock = clock
        self._order: list[str] = []
        self._order_at = -1e9
        self._opted: dict[str, tuple[bool, float]] = {}

    async def order(self, fresh: bool = False) -> list[str]:
        """The escalation order now: an "oncall me" override first, then the chain.

        Read from Redis at most every CACHE_S on the hot path (a storm decides thousands of alerts
        a second); `fresh` reads it now (what `oncall` shows).
        """
        now = time.monotonic()
        if fresh or now - self._order_at > CACHE_S:
            chain = list(self.policy.chain)
            over = await self.store.override()
            if over and over["number"]:
                chain = [over["number"], *(n for n in chain if n != over["number"])]
            self._order, self._order_at = chain, now
        return list(self._order)

    async def is_opted_out(self, number: str) -> bool:
        """The session store's opt-out flag, cached CACHE_S (Twilio refuses opted-out numbers anyway: 21610)."""
        now = time.monotonic()
        cached = self._opted.get(number)
        if cached is None or now - cached[1] > CACHE_S:
            cached = (await self.opted_out(number), now)
            self._opted[number] = cached
        return cached[0]

    def forget_caches(self) -> None:
        self._order_at = -1e9
        self._opted.clear()

    async def reachable(self, order: Sequence[str], level: int) -> tuple[int, list[str]] | None:
        """The first level at or after `level` with someone to page (opted-out numbers skipped).

        Levels 0..len-1 are one number each; level len pages everyone once more; after that, None.
        """
        while level < len(order):
            if not await self.is_opted_out(order[level]):
                return level, [order[level]]
            log.info("skipping %s: opted out", mask(order[level]))
            level += 1
        if level == len(order) and len(order) > 1:
            everyone = [n for n in order if not await self.is_opted_out(n)]
            if everyone:
                return level, everyone
        return None

    # -- events -------------------------------------------------------------------------

    async def on_event(self, event: dict[str, Any]) -> None:
        if event["status"] == "resolved":
            await self._resolved(event)
        else:
            await self._firing(event)

    async def _firing(self, event: dict[str, Any]) -> None:
        iid = incident_id(event["fp"], event["starts_at"])  # repeats never get here: `receive` dropped them
        order = await self.order()
        fresh = new_incident({**event, "fired": await self.store.fired(event["fp"])}, order)
        first = await self.reachable(order, 0)
        if first is None:
            await self._create(fresh, "nobody to page (ONCALL_NUMBERS empty or all opted out)")
            return
        level, (number, *_) = first
        if self.policy.bundle_s <= 0 or await self.store.route(number, iid, self.policy.bundle_s):
            await self.send([number], [iid], "page", from_level=0, to_level=level, fresh=fresh)
        else:
            await self._create(fresh, f"held for a bundle to {mask(number)}")

    async def _create(self, fresh: dict[str, Any], note: str) -> None:
        async def create(current: list[dict[str, Any] | None]) -> Changes:
            ch = Changes.empty()
            if current[0] is None:
                ch.incidents.append(copy.deepcopy(fresh))
                ch.audit.append((fresh["id"], {"what": "firing (Alertmanager)"}))
                ch.audit.append((fresh["id"], {"what": note}))
            return ch

        await self.store.update([fresh["id"]], create)

    async def _resolved(self, event: dict[str, Any]) -> None:
        iid = incident_id(event["fp"], event["starts_at"])
        tell: list[tuple[str, int | None]] = []
        closed: dict[str, Any] | None = None

        async def close(current: list[dict[str, Any] | None]) -> Changes:
            nonlocal closed
            tell.clear()
            ch = Changes.empty()
            inc = current[0]
            if inc is None:  # resolved before we saw it fire (or it fired before we ran): a tombstone
                inc = new_incident(event, [])
                inc["state"] = "resolved"
                ch.incidents.append(inc)
                return ch
            before = inc["state"]
            if not fire(inc, "resolve"):
                return ch
            closed = inc
            ch.incidents.append(inc)
            ch.audit.append((iid, {"what": "resolved (Alertmanager)"}))
            mode = self.policy.resolved
            if mode == "all" or (mode == "unacked" and before in UNACKED):
                seen = set()
                for p in inc["paged"]:  # one RESOLVED per phone; a storm's bundles resolve quietly
                    if p["n"] not in seen and not p.get("bundle"):
                        seen.add(p["n"])
                        tell.append((p["n"], inc["codes"].get(p["n"])))
            return ch

        await self.store.update([iid], close)
        if closed is not None:
            for number, code in tell:
                await self._notice(number, resolved_text(closed, code), kind="resolved", ids=[iid])

    # -- timers -------------------------------------------------------------------------

    async def on_timer(self, member: str) -> None:
        kind, _, arg = member.partition(":")
        if kind == "esc":
            await self.escalate_page(arg, f"not acked in {self.policy.escalate_after_s:g}s")
        elif kind == "flush":  # taking the bundle removes this timer atomically; a new alert may set the next
            await self.flush(arg)
            return
        elif kind == "notice":
            pending = await self.store.held_count(arg)
            await self._notice(arg, notice_text(self.policy.budget, pending), kind="notice", ids=[], spent=True)
        elif kind == "send":
            await self.store.requeue(arg)
            return
        await self.store.untime(member)

    async def flush(self, number: str) -> None:
        ids = await self.store.take_bundle(number)
        try:
            firing = [i["id"] for i in await self.store.load_many(ids) if i and i["state"] == "firing"]
            if firing:
                await self.send([number], firing, "page", from_level=0, to_level=0)
        except Exception:
            await self.store.rebundle(number, ids, self.clock() + 1)  # taken but not paged: hold them again
            raise

    async def escalate_page(self, pid: str, why: str, who: str = "") -> list[str]:
        """Page the next level for this page's alerts still unacknowledged at its level; the numbers paged."""
        page = await self.store.page(pid)
        if page.get("kind") not in ("page", "bundle"):
            return []
        ids, level = page["ids"].split(","), int(page["level"])
        current = [i for i in await self.store.load_many(ids) if i and i["state"] in UNACKED and i["level"] == level]
        if not current:
            return []
        nxt = await self.reachable(current[0]["order"], level + 1)
        if nxt is None:
            await self._exhaust([i["id"] for i in current], level, why)
            return []
        to_level, numbers = nxt
        note = f"{why}; escalating{' (by ' + who + ')' if who else ''}"
        await self.send(
            numbers,
            [i["id"] for i in current],
            "escalate",
            from_level=level,
            to_level=to_level,
            escalated_from=mask(page["to"]),
            note=note,
        )
        return numbers

    async def receipt(self, pid: str, status: str, error_code: str = "") -> None:
        """A delivery receipt for a page: recorded on it and in its alerts' logs; a final failure
        (failed/undelivered: 30003 unreachable, 30005 unknown, 30006 landline, 21610 opted out, ...)
        escalates at once instead of waiting for the timer."""
        await self.store.set_page(pid, delivery=status, error_code=error_code)
        page = await self.store.page(pid)
        if status not in FINAL or not page.get("ids"):
            return
        why = f"SMS to {self.policy.who(page['to'])} {status}" + (f" (Twilio {error_code})" if error_code else "")
        if status == "delivered":
            await self.store.commit(self._note(page["ids"].split(","), why))
        else:
            await self.escalate_page(pid, why)

    async def _exhaust(self, ids: list[str], level: int, why: str) -> None:
        async def end(current: list[dict[str, Any] | None]) -> Changes:
            ch = Changes.empty()
            for inc in current:
                if inc and inc["state"] in UNACKED and inc["level"] == level:
                    inc["level"] = level + 1
                    ch.incidents.append(inc)
                    ch.audit.append((inc["id"], {"what": f"{why}; end of the chain, nobody left to page"}))
            return ch

        await self.store.update(ids, end)

    # -- sending ------------------------------------------------------------------------

    async def send(  # noqa: C901 - one page's fate (opted out, budget, bundle, code, queue) decided in one readable pass
        self,
        numbers: Sequence[str],
        ids: Sequence[str],
        trigger: str,
        *,
        from_level: int,
        to_level: int,
        escalated_from: str = "",
        note: str = "",
        fresh: dict[str, Any] | None = None,
    ) -> list[str]:
        """Page `ids` to each number (one SMS each: single or bundle). Returns the page ids queued.

        `fresh` is a new incident, created in the same transaction unless it exists already.
        """

        def eligible(inc: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
            if inc is None:
                return False
            if trigger == "page":
                return bool(inc["state"] == "firing")
            return bool(inc["state"] in UNACKED and inc["level"] == from_level)

        def current_or_fresh(found: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
            if fresh is None:
                return found
            return [
                copy.deepcopy(fresh) if inc is None and iid == fresh["id"] else inc
                for iid, inc in zip(ids, found, strict=True)
            ]

        loaded: list[dict[str, Any] | None] = (
            [None] if fresh is not None and len(ids) == 1 else await self.store.load_many(ids)
        )  # a fresh incident: its decision is the first
        incs = [i for i in current_or_fresh(loaded) if eligible(i)]
        if not incs:
            return []
        ids = [i["id"] for i in incs]
        now = self.clock()
        plans: list[tuple[str, int]] = []
        for number in numbers:
            reuse = incs[0]["codes"].get(number) if len(incs) == 1 else None
            longest = self._text(incs, 9999, now, escalated_from)  # segments with the longest code
            verdict, code = await self.store.plan(
                number, segments(longest), self.policy.budget, ids, len(incs) > 1, reuse
            )
            if verdict == 1 and code is not None:
                plans.append((number, code))
                continue
            for iid in ids:
                await self.store.hold(number, iid)
            if verdict == 2:  # the last segment is kept for one notice; it counts what waits when it goes
                await self.store.set_timer("notice:" + number, now + max(self.policy.bundle_s, NOTICE_DELAY_S))
            await self.store.commit(self._note(ids, f"not paged to {mask(number)}: page budget spent"))
        if not plans:
            return []
        pids: list[str] = []

        async def move(current: list[dict[str, Any] | None]) -> Changes:
            pids.clear()
            ch = Changes.empty()
            if fresh is not None and fresh["id"] in ids and current[ids.index(fresh["id"])] is None:
                ch.audit.append((fresh["id"], {"what": "firing (Alertmanager)"}))
            live = [i for i in current_or_fresh(current) if eligible(i)]
            if not live:
                return ch
            for inc in live:
                fire(inc, trigger)
                inc["level"] = to_level
            for number, code in plans:
                pid = uuid.uuid4().hex[:16]
                pids.append(pid)
                text = self._text(live, code, now, escalated_from)
                for inc in live:
                    inc["codes"][number] = code
                    inc["paged"].append(
                        {"n": number, "code": code, "pid": pid, "at": now, "level": to_level, "bundle": len(live) > 1}
                    )
                    what = f"paged {self.policy.who(number)} as {code}" + (f" ({note})" if note else "")
                    ch.audit.append((inc["id"], {"what": what}))
                ch.pages.append(
                    {
                        "pid": pid,
                        "to": number,
                        "body": text,
                        "ids": ",".join(i["id"] for i in live),
                        "level": to_level,
                        "code": code,
                        "kind": "bundle" if len(live) > 1 else "page",
                        "state": "queued",
                        "created": now,
                        "attempts": 0,
                    }
                )
                ch.timers["esc:" + pid] = now + self.policy.escalate_after_s
                ch.latest[number] = code
            ch.incidents.extend(live)
            return ch

        await self.store.update(ids, move)
        return pids

    def _text(self, incs: Sequence[dict[str, Any]], code: int, now: float, escalated_from: str) -> str:
        moment = datetime.fromtimestamp(now, UTC)
        if len(incs) == 1:
            return page_text(incs[0], code, moment, escalated_from)
        return bundle_text(incs, code, escalated_from)

    async def _notice(self, number: str, text: str, *, kind: str, ids: list[str], spent: bool = False) -> None:
        """An SMS that is not a page (RESOLVED, budget notice): no code, no escalation."""
        if not spent and await self.store.spend(number, segments(text), self.policy.budget) != 1:
            return
        if await self.opted_out(number):
            return
        ch = Changes.empty()
        ch.pages.append(
            {
                "pid": uuid.uuid4().hex[:16],
                "to": number,
                "body": text,
                "ids": ",".join(ids),
                "level": 0,
                "code": 0,
                "kind": kind,
                "state": "queued",
                "created": self.clock(),
                "attempts": 0,
            }
        )
        await self.store.commit(ch)

    @staticmethod
    def _note(ids: Sequence[str], what: str) -> Changes:
        ch = Changes.empty()
        ch.audit.extend((iid, {"what": what}) for iid in ids)
        return ch
