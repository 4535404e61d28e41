"""Everything a running Operator holds open: store, monitors, pipeline. Built at start-up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Settings
from bot.degraded import Degraded
from bot.metrics import ServiceMetrics
from bot.oncall import OncallLoop
from bot.outbound import Outbound
from bot.pipeline import Pipeline, Policy, Sender
from dialogs.conversation import Conversation
from dialogs.redis_store import RedisSessionStore
from dialogs.store import MemorySessionStore, SessionStore
from monitors.registry import Monitors, build_monitors

log = logging.getLogger(__name__)


def policy_from(settings: Settings) -> Policy:
    return Policy(
        session_ttl_s=settings.session_ttl_s,
        rate_limit_per_min=settings.rate_limit_per_min,
        reply_budget_s=settings.reply_budget_s,
        page_segments=settings.sms_page_segments,
        emoji=settings.reply_emoji,
        lock_wait_s=settings.lock_wait_s,
    )


def build_store(settings: Settings, clock: Callable[[], float] = time.time) -> SessionStore:
    if settings.redis_url is None:
        log.warning("REDIS_URL is unset: sessions live in this process only (one replica, lost on restart)")
        return MemorySessionStore(settings.session_ttl_s, clock, lock_lease_s=settings.lock_lease_s)
    return RedisSessionStore.from_url(
        settings.redis_url.get_secret_value(),
        settings.session_ttl_s,
        settings.redis_key_prefix,
        clock,
        cluster=settings.redis_cluster,
        lock_lease_s=settings.lock_lease_s,
    )


@dataclass
class Services:
    settings: Settings
    store: SessionStore
    monitors: Monitors
    metrics: ServiceMetrics
    pipeline: Pipeline
    outbound: Outbound | None = None  # built here when no send_later was passed; closed with the rest
    oncall: OncallLoop | None = None  # the on-call loop (ALERT_WEBHOOK_TOKEN set); started by its blueprint

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        store: SessionStore | None = None,
        monitors: Monitors | None = None,
        clock: Callable[[], float] = time.time,
        send_later: Sender | None = None,
        sms_out: bool = True,
    ) -> Services:
        """Open everything; `sms_out=False` (the console) never texts anyone by REST."""
        metrics = ServiceMetrics()
        store = store or build_store(settings, clock)
        degraded = Degraded(store, clock)  # one per process: the pipeline and every sender consult it
        outbound = (
            Outbound.from_settings(settings, store, degraded=degraded) if send_later is None and sms_out else None
        )
        send_later = send_later or outbound
        monitors = monitors or build_monitors(settings)
        monitors.observers.append(metrics.observe_health)
        oncall = OncallLoop.from_settings(settings, store, clock, degraded) if sms_out else None
        conversation = Conversation(monitors, desk=oncall.desk if oncall is not None else None)
        pipeline = Pipeline(store, conversation, policy_from(settings), metrics, clock, send_later, degraded)
        return cls(settings, store, monitors, metrics, pipeline, outbound, oncall)

    async def aclose(self) -> None:
        if self.oncall is not None:
            await self.oncall.aclose()
        await self.pipeline.aclose()
        await self.monitors.aclose()
        if self.outbound is not None:
            await self.outbound.aclose()
        await self.store.aclose()
