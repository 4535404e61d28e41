"""One inbound message to one reply, whatever the transport (`/sms` or `operator chat`).

The caller has already authenticated the request; from here on: carrier keywords,
duplicate and rate checks, the sender's lock and session, the conversation (text in,
text out: understanding, ``more`` and the kept pages are its business; this module
only lends it the SMS pager), and saving. Nothing here raises: any failure becomes a
short apology, logged without the sender's number.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.degraded import Degraded
from bot.metrics import ServiceMetrics
from bot.security import OPT_IN_WORDS, OPT_OUT_WORDS, keyword, mask
from bot.sms import MAX_BODY, paginate
from dialogs.conversation import Conversation, Reply
from dialogs.session import Session
from dialogs.store import Begin, SessionStore, StoreUnavailable

log = logging.getLogger(__name__)

Sender = Callable[[str, str], Awaitable[None]]  # (to, body): delivers a late answer by REST


@dataclass(frozen=True, slots=True)
class Inbound:
    sender: str  # E.164 (or channel:E.164 for a channel in ALLOWED_CHANNELS)
    body: str
    message_sid: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    session_ttl_s: int = 1800
    rate_limit_per_min: int = 20
    reply_budget_s: float = 8.0
    page_segments: int = 2
    emoji: bool = False
    lock_wait_s: float = 5.0


class Pipeline:
    def __init__(
        self,
        store: SessionStore,
        conversation: Conversation,
        policy: Policy,
        metrics: ServiceMetrics | None = None,
        clock: Callable[[], float] = time.time,
        send_later: Sender | None = None,
        degraded: Degraded | None = None,
    ) -> None:
        self.store = store
        self.conversation = conversation
        self.policy = policy
        self.metrics = metrics or ServiceMetrics()
        self.clock = clock
        self.send_later = send_later
        self.degraded = degraded or Degraded(store, clock)  # rate, duplicates, opt-outs while the store is down
        self._background: set[asyncio.Future[None]] = set()

    async def handle(self, msg: Inbound) -> str:
        """The reply to send now ("" for none)."""
        try:
            return await self._handle(msg)
        except Exception:
            log.exception("message from %s failed", mask(msg.sender))
            self.metrics.outcome("error")
            return "Sorry, that failed on our side. Try again, or send help."

    async def _handle(self, msg: Inbound) -> str:
        word = keyword(msg.body)
        carrier_word = word in OPT_OUT_WORDS or word in OPT_IN_WORDS
        if carrier_word:  # recorded even when over the rate: an opt-out must never be lost
            await self._record_opt_out(msg.sender, word in OPT_OUT_WORDS)
        body = msg.body[:MAX_BODY]
        # Nothing said: no letter, digit, "?" or symbol (emoji are "So": a 👍 is said, and answered).
        blank = not carrier_word and not any(
            ch.isalnum() or ch == "?" or unicodedata.category(ch) == "So" for ch in body
        )
        # Every message counts towards the rate, keywords and blanks too; those need no lock.
        try:
            begin = await self.store.begin(
                msg.sender,
                msg.message_sid,
                rate_limit=self.policy.rate_limit_per_min,
                lock_wait_s=self.policy.lock_wait_s,
                lock=not (carrier_word or blank),
            )
        except StoreUnavailable:
            return await self._without_store(msg, body, carrier_word=carrier_word, blank=blank)
        early = self._early_reply(begin, carrier_word=carrier_word, blank=blank)
        if early is not None:
            if begin.duplicate is None and not begin.limited:
                await self._save_reply(msg, early)
            return early
        if begin.lock is None:
            self.metrics.outcome("busy")
            return "Still working on your last message. Try again in a moment."
        return await self._converse(msg, body, begin)

    def _early_reply(self, begin: Begin, *, carrier_word: bool, blank: bool) -> str | None:
        """The reply when the message goes no further (duplicate, limited, keyword, blank), else None."""
        if begin.duplicate is not None:
            self.metrics.outcome("duplicate")
            return begin.duplicate
        if begin.limited:
            self.metrics.outcome("rate_limited")
            if begin.notice:
                return f"Slow down: {self.policy.rate_limit_per_min} messages a minute at most. Try again shortly."
            return ""
        if carrier_word:  # the carrier confirms these itself; we only record them, so nothing is pushed
            self.metrics.outcome("opted_out")
            return ""
        if blank:
            self.metrics.outcome("answered")
            return "Empty message? Send help for commands."
        return None

    async def _save_reply(self, msg: Inbound, reply: str) -> None:
        """Keep a lock-free reply under its MessageSid, so Twilio's retry gets it back."""
        try:
            await self.store.finish(msg.sender, msg.message_sid, None, None, reply)
        except StoreUnavailable:
            self.degraded.remember(msg.sender, msg.message_sid, reply)

    async def _converse(self, msg: Inbound, body: str, begin: Begin) -> str:
        if self.send_later is None:  # no REST sender: nothing to hand a slow answer to, so just wait
            return await self._answer(msg, body, begin)
        task = asyncio.ensure_future(self._answer(msg, body, begin))
        done, _ = await asyncio.wait({task}, timeout=self.policy.reply_budget_s)
        if done:
            return task.result()
        late = asyncio.ensure_future(self._deliver_late(msg.sender, task))
        self._background.add(late)  # kept until sent, so shutdown waits for it
        late.add_done_callback(self._background.discard)
        self.metrics.outcome("deferred")
        return "Working on it, the answer follows by SMS."

    async def _deliver_late(self, to: str, task: asyncio.Future[str]) -> None:
        text = await task
        if self.send_later is None:
            return
        try:
            if text and not self.degraded.is_opted_out(to) and not await self.store.is_opted_out(to):
                await self.send_later(to, text)
        except Exception:
            log.exception("late answer to %s was not sent", mask(to))

    async def _answer(self, msg: Inbound, body: str, begin: Begin) -> str:
        now = self.clock()
        session = begin.session or Session()
        expired = bool(session.updated_at) and now - session.updated_at > self.policy.session_ttl_s
        if expired:
            session.clear()
        try:
            reply = await self._reply(msg.sender, session, body, now, expired)
        except Exception:
            log.exception("message from %s failed", mask(msg.sender))
            self.metrics.outcome("error")
            reply = "Sorry, that failed on our side. Try again, or send help."
            await self._save(msg, begin, begin.session or Session(), reply)
            return reply
        session.updated_at = now
        await self._save(msg, begin, session, reply)
        self.metrics.outcome("answered")
        return reply

    async def _save(self, msg: Inbound, begin: Begin, session: Session, reply: str) -> None:
        """Save session and reply; if the store went away meanwhile, the answer still goes out."""
        try:
            await self.store.finish(msg.sender, msg.message_sid, begin.lock, session, reply)
        except StoreUnavailable:
            log.warning("session of %s not saved: store unavailable", mask(msg.sender))
            self.degraded.remember(msg.sender, msg.message_sid, reply)
            if begin.lock is not None:
                self.store.release_later(msg.sender, begin.lock)

    def _pages(self, text: str) -> list[str]:
        return paginate(text, self.policy.page_segments, emoji=self.policy.emoji)

    def _count(self, reply: Reply) -> str:
        if reply.command:
            self.metrics.command(reply.command)
        return reply.text

    async def _reply(self, sender: str, session: Session, body: str, now: float, expired: bool) -> str:
        reply = await self.conversation.reply(
            session, body, sender=sender, now=datetime.fromtimestamp(now, UTC), expired=expired, pager=self._pages
        )
        return self._count(reply)

    async def _without_store(self, msg: Inbound, body: str, *, carrier_word: bool, blank: bool) -> str:
        """Rate and duplicates held in this process; only what needs no session is answered."""
        begin = self.degraded.begin(msg.sender, msg.message_sid, self.policy.rate_limit_per_min)
        reply = self._early_reply(begin, carrier_word=carrier_word, blank=blank)
        if reply is None:
            reply = await self._stateless(msg.sender, body)
        if begin.duplicate is None:
            self.degraded.remember(msg.sender, msg.message_sid, reply)
        return reply

    async def _stateless(self, sender: str, body: str) -> str:
        now = datetime.fromtimestamp(self.clock(), UTC)
        reply = await self.conversation.reply_stateless(body, sender=sender, now=now, pager=self._pages)
        if reply is None:
            self.metrics.outcome("store_unavailable")
            return "Session store unavailable, try again shortly. status and help still work."
        self.metrics.outcome("answered")
        return self._count(reply)

    async def _record_opt_out(self, sender: str, opted_out: bool) -> None:
        try:
            await self.store.set_opted_out(sender, opted_out)
        except StoreUnavailable:
            self.degraded.opt_out(sender, opted_out)  # kept here and written when the store is back
        else:
            self.degraded.written(sender)

    async def aclose(self) -> None:
        """Let late answers finish (bounded), so a shutdown does not drop them."""
        if self._background:
            await asyncio.wait(self._background, timeout=15)
        await self.degraded.aclose()
