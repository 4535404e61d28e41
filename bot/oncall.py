"""The on-call loop as one object the app opens and closes: store, pager, desk, delivery, timers.

Built only when ALERT_WEBHOOK_TOKEN is set. It needs REDIS_URL (all its state is shared by the
replicas; a process-local loop would page twice and forget timers on restart): without it
start-up stops with one line saying so. Without Twilio's outbound settings pages are queued
and not sent (said at start-up).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from bot.config import Settings
from bot.degraded import Degraded
from bot.escalation import Decider, Ticker
from bot.paging import Deliverer, TwilioPages
from bot.security import mask, normalize_number
from dialogs.oncall_desk import OncallDesk
from dialogs.oncall_store import OncallStore
from dialogs.pager import OncallPolicy, Pager
from dialogs.store import SessionStore, StoreUnavailable
from monitors.silences import SilenceClient

log = logging.getLogger(__name__)


def _numbers(raw: list[str], region: str, setting: str) -> tuple[str, ...]:
    out = []
    for item in raw:
        number = normalize_number(item, region)
        if number is None:
            raise ValueError(f"{setting}: {mask(item)} is not a valid phone number")
        out.append(number)
    return tuple(dict.fromkeys(out))


def policy_from(settings: Settings) -> OncallPolicy:
    names = {}
    for item in settings.oncall_names:
        number, sep, name = item.partition("=")
        e164 = normalize_number(number.strip(), settings.default_region)
        if not sep or e164 is None or not name.strip():
            raise ValueError("ONCALL_NAMES: entries look like +15551230000=alice")
        names[e164] = name.strip()
    return OncallPolicy(
        chain=_numbers(settings.oncall_numbers, settings.default_region, "ONCALL_NUMBERS"),
        viewers=frozenset(_numbers(settings.viewer_numbers, settings.default_region, "VIEWER_NUMBERS")),
        names=names,
        escalate_after_s=settings.escalate_after_s,
        bundle_s=settings.page_bundle_s,
        budget=settings.page_budget_per_hour,
        override_ttl_s=settings.oncall_override_ttl_s,
        resolved=settings.page_resolved,
    )


class OncallLoop:
    def __init__(
        self,
        settings: Settings,
        store: OncallStore,
        sessions: SessionStore,
        twilio: TwilioPages | None,
        silences: SilenceClient | None,
        clock: Callable[[], float] = time.time,
        degraded: Degraded | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sessions = sessions
        self.degraded = degraded  # STOPs the pipeline holds while the session store is down
        self.twilio = twilio
        self.silences = silences
        self.policy = policy_from(settings)
        self.pager = Pager(store, self.policy, self.is_opted_out, clock)
        self.desk = OncallDesk(self.pager, silences, clock)
        consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        idle = settings.page_claim_idle_s
        self.decider = Decider(store, self.pager, consumer, idle)
        self.deliverer = (
            Deliverer(
                store,
                twilio,
                consumer,
                escalate=self.pager.escalate_page,
                opt_out=self._opt_out,
                claim_idle_s=idle,
                clock=clock,
                held_opt_out=self._held,
            )
            if twilio
            else None
        )
        self.ticker = Ticker(
            store, self.pager, tick_s=min(1.0, settings.escalate_after_s / 10), deliverer=self.deliverer
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: SessionStore,
        clock: Callable[[], float] = time.time,
        degraded: Degraded | None = None,
    ) -> OncallLoop | None:
        if settings.alert_webhook_token is None:
            return None
        if settings.redis_url is None:
            raise RuntimeError(
                "ALERT_WEBHOOK_TOKEN is set but REDIS_URL is not: the on-call loop keeps its state in Redis"
            )
        store = OncallStore.from_url(settings.redis_url.get_secret_value(), settings.redis_key_prefix, clock)
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        twilio = None
        if sid and token is not None and (settings.twilio_from_number or settings.twilio_messaging_service_sid):
            base = str(settings.public_base_url or "").rstrip("/")
            api_url = settings.twilio_api_url.get_secret_value() if settings.twilio_api_url else None
            twilio = TwilioPages(
                sid,
                token.get_secret_value(),
                from_number=settings.twilio_from_number,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                api_url=api_url,
                status_callback=f"{base}/twilio/status" if base else None,
                validity_s=settings.page_validity_s,
            )
        else:
            log.error("on-call loop: Twilio outbound settings missing; pages are queued but NOT sent")
        return cls(settings, store, sessions, twilio, SilenceClient.from_settings(settings), clock, degraded)

    async def start(self) -> None:
        try:
            await self.store.setup()
        except Exception as exc:  # Redis down at start-up: the workers create the groups when it is back
            log.error(
                "on-call loop: Redis unavailable at start-up (%s); retrying in the background", type(exc).__name__
            )
        workers = [self.decider.run, self.ticker.run] + ([self.deliverer.run] if self.deliverer else [])
        self._tasks = [asyncio.create_task(w(self._stop)) for w in workers]
        log.info(
            "on-call loop started: %d on-call number(s), escalate after %ss",
            len(self.policy.chain),
            self.settings.escalate_after_s,
        )

    def _held(self, number: str) -> bool | None:
        return self.degraded.is_opted_out(number) if self.degraded is not None else None

    async def is_opted_out(self, number: str) -> bool:
        """A STOP (or START) held in this process while the store was down wins over the store's flag."""
        held = self._held(number)
        return held if held is not None else await self.sessions.is_opted_out(number)

    async def _opt_out(self, number: str) -> None:
        """Twilio said 21610 (unsubscribed): recorded like a STOP, kept here if the store is down."""
        try:
            await self.sessions.set_opted_out(number, True)
        except StoreUnavailable:
            if self.degraded is None:
                raise
            self.degraded.opt_out(number, True)

    async def aclose(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.twilio is not None:
            await self.twilio.aclose()
        if self.silences is not None:
            await self.silences.aclose()
        await self.store.aclose()
