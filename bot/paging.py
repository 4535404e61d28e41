"""Page delivery: the `out` Redis Stream, read by a consumer group, sent through Twilio's Messages API.

At least once into Twilio, and never a blind repeat. Twilio's Messages API has no idempotency
key, so each page is a small state machine in Redis (dialogs/oncall_store.py `page:<pid>`):

    queued ─claim─▶ sending(deadline) ─201─▶ sent ─(status callback)─▶ delivered / failed / undelivered
                      │  429, 5xx, not connected ─▶ retry (timer send:<pid>, backoff 1 s … 60 s, up to 1 h)
                      │  other 4xx ─▶ failed (21610: number opted out) ─▶ escalate at once
                      └─ outcome unknown (read timeout, reset, crash mid-call) ─▶ check

`check` (also reached when a consumer died mid-send and the entry is re-claimed with XAUTOCLAIM
after PAGE_CLAIM_IDLE_S, its `sending` deadline past) reconciles instead of resending: it lists
the last 50 messages to that number (GET Messages.json?To=…) and looks for our exact body created
since the attempt began. Found: the page is `sent` with that sid. Not found: the request never
created a message, so it is sent. The list call itself failing: checked again later. Bodies are
unique per phone for 24 h because they carry a code never re-used within 24 h.

A stream entry is acknowledged (and deleted) once its page is in a final or scheduled state; an
entry whose page another replica is sending right now ("busy") is left pending.

Receipts: Twilio's status callback (POST /twilio/status) records delivery. A page without a final
receipt RECEIPT_CHECK_S after sending is looked up (GET Messages/{sid}.json, up to POLL_TIMES):
callbacks get lost, and an undelivered page must escalate rather than wait for the ack timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client

from bot.outbound import TwilioHttp, _NotSent
from bot.security import mask
from dialogs.oncall_store import SENDERS_GROUP, Entry, OncallStore

log = logging.getLogger(__name__)

SEND_DEADLINE_S = 20.0  # connect 5 s + read 10 s + margin: after this a "sending" page is in doubt
GIVE_UP_S = 3600.0
RECEIPT_CHECK_S = 300.0  # no delivery receipt this long after sending: ask Twilio (lost callbacks happen)
POLL_TIMES = 3
FINAL_STATES = ("delivered", "failed", "undelivered")
UNSUBSCRIBED = 21610


def backoff(attempts: int) -> float:
    return float(min(60, 2 ** max(0, attempts - 1)))


class TwilioPages:
    """The two Twilio calls delivery needs: create a message, list recent messages to a number."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        api_url: str | None,
        status_callback: str | None,
        validity_s: int,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
    ) -> None:
        self._http = TwilioHttp(api_url, connect_timeout_s, read_timeout_s)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._options: dict[str, Any] = {}
        if messaging_service_sid:  # ValidityPeriod only applies through a Messaging Service
            self._options.update(messaging_service_sid=messaging_service_sid, validity_period=validity_s)
        else:
            self._options["from_"] = from_number
        if status_callback:
            self._options["status_callback"] = status_callback

    async def create(self, to: str, body: str) -> str:
        message = await self._client.messages.create_async(to=to, body=body, **self._options)
        return str(message.sid)

    async def status(self, sid: str) -> tuple[str, str]:
        """(status, error code or "") of one message: GET /Messages/{sid}.json."""
        message = await self._client.messages(sid).fetch_async()
        return str(message.status), str(message.error_code or "")

    async def find(self, to: str, body: str, since: float) -> str | None:
        """The sid of a message to `to` with exactly `body`, created at or after `since` (minus skew)."""
        messages = await self._client.messages.list_async(to=to, limit=50, page_size=50)
        floor = datetime.fromtimestamp(since, UTC) - timedelta(seconds=120)  # clock skew and second rounding
        for m in messages:
            created = m.date_created
            if m.body == body and (created is None or created >= floor):
                return str(m.sid)
        return None

    async def aclose(self) -> None:
        await self._http.close()


Escalate = Callable[[str, str], Awaitable[object]]  # (pid, why)
Receipt = Callable[[str, str, str], Awaitable[None]]  # (pid, status, error code)
OptOut = Callable[[str], Awaitable[None]]
Held = Callable[[str], bool | None]  # an opt-out this process holds unwritten (bot/degraded.py), else None


def _nothing_held(_number: str) -> bool | None:
    return None


class Deliverer:
    """Sends what the `out` stream holds; one per replica, several replicas share the group."""

    def __init__(
        self,
        store: OncallStore,
        twilio: TwilioPages,
        consumer: str,
        *,
        escalate: Escalate,
        opt_out: OptOut,
        claim_idle_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        held_opt_out: Held = _nothing_held,
    ) -> None:
        self.store = store
        self.twilio = twilio
        self.consumer = consumer
        self.escalate = escalate
        self.opt_out = opt_out
        self.held_opt_out = held_opt_out  # a STOP taken while the store was down: checked before every send
        self.claim_idle_s = claim_idle_s
        self.clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        last_claim = 0.0
        while not stop.is_set():
            try:
                entries: list[Entry] = []
                if time.monotonic() - last_claim >= min(5.0, self.claim_idle_s / 2):
                    last_claim = time.monotonic()
                    entries = await self.store.reclaim(
                        "out", SENDERS_GROUP, self.consumer, int(self.claim_idle_s * 1000)
                    )
                if not entries:
                    entries = await self.store.read("out", SENDERS_GROUP, self.consumer, 20, 500)
                outcomes = await asyncio.gather(*(self._one(e) for e in entries))
                await self.store.done(
                    "out", SENDERS_GROUP, *(e.id for e, ok in zip(entries, outcomes, strict=True) if ok)
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("page delivery loop: retrying in 1s")
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):  # NOGROUP after a Redis restart or a start without it
                    await self.store.setup()

    async def _one(self, entry: Entry) -> bool:
        """One entry's delivery step; whether the entry is finished with (to acknowledge)."""
        pid = entry.fields.get("p", "")
        try:
            outcome = await self.deliver(pid)
        except Exception:
            log.exception("page %s: delivery step failed; left pending", pid)
            return False
        return outcome != "busy"

    async def deliver(self, pid: str) -> str:
        """One delivery step for one page; returns what happened (sent, retry, failed, check, busy, done)."""
        now = self.clock()
        verdict, page = await self.store.claim_send(pid, now + SEND_DEADLINE_S, self.consumer)
        if verdict in ("busy", "done", "gone"):
            return verdict
        if verdict == "check":
            return await self._reconcile(pid, page)
        return await self._send(pid, page)

    async def _send(self, pid: str, page: dict[str, str]) -> str:
        to, attempts = page["to"], int(page.get("attempts", "1"))
        if self.held_opt_out(to):  # the pager decided before this STOP could reach the store
            return await self._failed(pid, page, 0, "number opted out (STOP)")
        try:
            sid = await self.twilio.create(to, page["body"])
        except (TwilioRestException, TwilioServiceException) as exc:
            status = int(getattr(exc, "status", 0) or 0)
            if status == 429 or status >= 500:
                return await self._retry(pid, page, attempts, f"Twilio HTTP {status}")
            return await self._failed(pid, page, int(getattr(exc, "code", 0) or 0), f"Twilio error {exc.code}")
        except _NotSent as exc:
            return await self._retry(pid, page, attempts, f"not connected ({exc})")
        except Exception as exc:  # the request may have reached Twilio: find out before sending again
            log.warning("page %s to %s: outcome unknown (%s); will check", pid, mask(to), type(exc).__name__)
            await self.store.retry_later(pid, "check", self.clock() + 2.0, error=type(exc).__name__)
            return "check"
        await self.store.sent(pid, sid, self._check_at(page))
        log.info("page %s sent to %s as %s (attempt %d)", pid, mask(to), sid, attempts)
        return "sent"

    def _check_at(self, page: dict[str, str]) -> float | None:
        """When to look up a page's receipt if Twilio's callback never comes (pages only, not notices)."""
        return self.clock() + RECEIPT_CHECK_S if page.get("kind") in ("page", "bundle") else None

    async def poll(self, pid: str, receipt: Receipt) -> None:
        """A page's status callback is overdue: ask Twilio for the message's status (GoAlert's stuck check).

        A final status goes to `receipt` (a failure escalates); a message still on its way is looked up
        again later, at most POLL_TIMES times.
        """
        page = await self.store.page(pid)
        if not page.get("sid") or page.get("delivery") in FINAL_STATES:
            return
        status, code = await self.twilio.status(page["sid"])
        polls = int(page.get("polls", "0")) + 1
        await self.store.set_page(pid, polls=polls)
        if status in FINAL_STATES:
            await receipt(pid, status, code)
        elif polls < POLL_TIMES:
            await self.store.set_timer("poll:" + pid, self.clock() + RECEIPT_CHECK_S)

    async def _reconcile(self, pid: str, page: dict[str, str]) -> str:
        started = float(page.get("started") or page.get("created") or 0)
        try:
            sid = await self.twilio.find(page["to"], page["body"], started)
        except Exception as exc:
            log.warning("page %s: cannot check Twilio (%s); again later", pid, type(exc).__name__)
            await self.store.retry_later(pid, "check", self.clock() + backoff(int(page.get("attempts", "1"))))
            return "check"
        if sid is not None:
            await self.store.sent(pid, sid, self._check_at(page))
            log.info("page %s: found as %s at Twilio, not resent", pid, sid)
            return "sent"
        attempts = int(page.get("attempts", "0")) + 1
        await self.store.set_page(pid, state="sending", deadline=self.clock() + SEND_DEADLINE_S, attempts=attempts)
        return await self._send(pid, {**page, "attempts": str(attempts)})

    async def _retry(self, pid: str, page: dict[str, str], attempts: int, why: str) -> str:
        if self.clock() - float(page.get("created", "0")) > GIVE_UP_S:
            return await self._failed(pid, page, 0, f"gave up after {GIVE_UP_S:g}s: {why}")
        delay = backoff(attempts)
        log.info("page %s to %s: %s; retry in %gs", pid, mask(page["to"]), why, delay)
        await self.store.retry_later(pid, "retry", self.clock() + delay, error=why)
        return "retry"

    async def _failed(self, pid: str, page: dict[str, str], code: int, why: str) -> str:
        log.warning("page %s to %s failed: %s", pid, mask(page["to"]), why)
        await self.store.set_page(pid, state="failed", error=why)
        if code == UNSUBSCRIBED:
            await self.opt_out(page["to"])
        await self.escalate(pid, f"SMS failed: {why}")
        return "failed"
