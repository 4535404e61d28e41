"""Redis state of the on-call loop: every fact lives here, none in a process.

Keys, under REDIS_KEY_PREFIX + ``{oc}:`` (one hash tag: on a Redis Cluster they would share a slot;
the loop refuses REDIS_CLUSTER for now, as its WATCH transactions need a plain client):

    ev                stream of received alert events; group "deciders" (dialogs/incidents.py decides)
    out               stream of page ids to send; group "senders" (bot/paging.py delivers)
    seen:<fp>:<t>:<s> an alert event already received (fingerprint, startsAt, status); 6 days
    inc:<id>          one incident (JSON); id = <fingerprint>-<startsAt epoch>; 7 days after it closes,
                      14 days after its last change while open
    open              zset of open incident ids (score: startsAt)
    log:<id>          the incident's audit list (JSON entries, newest last, 50 kept)
    page:<pid>        one outbound SMS (hash: to, body, ids, level, state, sid, attempts, ...)
    sid:<MessageSid>  the page a Twilio message belongs to (for status callbacks)
    codes:<num>       zset code -> when it was handed out; a code is never re-used within 24 h
    code:<num>        hash code -> JSON target {"ids": [...], "bundle": bool}
    latest:<num>      the code of the last page to that phone (bare "ack")
    last:<num>, pend:<num>  when the phone was last paged; alerts held for its next bundle
    held:<num>        zset of incidents routed to the phone but not paged (bundle or budget)
    used:<num>:<h>, notice:<num>:<h>  segments paged in hour h; the "budget spent" notice sent
    timers            zset of deadlines: esc:<pid> (escalate), flush:<num> (bundle), send:<pid> (retry),
                      notice:<num> (budget notice), poll:<pid> (look up a receipt that never came)
    override          JSON {"number", "until"} of "oncall me", with its TTL
    confirm:<num>     a wide action waiting for yes/no (2 min)
    fired:<fp>        how often a label set started firing in 24 h (the page's "(x3)")
    once:<flag>       one-time notes (the "no RESOLVED while silenced" warning per phone)
    fails:<stream>    failed attempts per stream entry (a poison event is dropped after five)

Cost: receiving an alert is one script call; deciding it a handful of round trips; a timer
claim one script call per tick. Every multi-key change is one script or one MULTI/EXEC.

Errors: Redis failures propagate as redis-py's `RedisError`/`OSError`; callers decide (the
webhook answers 5xx so Alertmanager retries; workers retry on their next turn).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.exceptions import NoScriptError, ResponseError

from dialogs.oncall_lua import BUDGET, CLAIM, PLAN, RECEIVE, ROUTE, SEND_CLAIM, TAKE

SEEN_TTL_S = 6 * 86400  # Alertmanager re-sends for up to --data.retention (120 h)
CLOSED_TTL_S = 7 * 86400
OPEN_TTL_S = 14 * 86400  # refreshed on every change of the incident
CODE_TTL_S = 86400  # goalert#3154: a code never means a different alert within a day
CONFIRM_TTL_S = 120
LOG_KEEP = 50
EVENTS_GROUP = "deciders"
SENDERS_GROUP = "senders"


class _Script:
    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry handed to a worker."""

    id: str
    fields: dict[str, str]


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class OncallStore:
    def __init__(self, client: redis.Redis, prefix: str = "operator:", clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.base = f"{prefix}{{oc}}:"
        self.clock = clock
        self._scripts = {
            name: _Script(text)
            for name, text in (
                ("receive", RECEIVE),
                ("budget", BUDGET),
                ("route", ROUTE),
                ("plan", PLAN),
                ("take", TAKE),
                ("claim", CLAIM),
                ("send_claim", SEND_CLAIM),
            )
        }

    @classmethod
    def from_url(cls, url: str, prefix: str = "operator:", clock: Callable[[], float] = time.time) -> OncallStore:
        # No socket_timeout: redis-py would arm a timer per command (see dialogs/redis_store.py).
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30), prefix, clock)

    def key(self, name: str) -> str:
        return self.base + name

    async def _run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        script = self._scripts[name]
        try:
            return await self.client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.client.eval(script.text, len(keys), *keys, *args)

    async def setup(self) -> None:
        """Create both streams' consumer groups (idempotent)."""
        for stream, group in (("ev", EVENTS_GROUP), ("out", SENDERS_GROUP)):
            try:
                await self.client.xgroup_create(self.key(stream), group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # -- receive ------------------------------------------------------------------------

    async def receive(self, events: Sequence[tuple[str, str]]) -> int:
        """Persist (dedupe key, event JSON) pairs not seen before; returns how many were new."""
        if not events:
            return 0
        keys = [self.key("ev"), *(self.key("seen:" + dedupe) for dedupe, _ in events)]
        return int(await self._run("receive", keys, [SEEN_TTL_S, *(data for _, data in events)]))

    # -- streams ------------------------------------------------------------------------

    async def read(self, stream: str, group: str, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer; waits up to `block_ms` for one (0: does not wait)."""
        res: Any = await self.client.xreadgroup(
            group, consumer, {self.key(stream): ">"}, count=count, block=block_ms or None
        )
        return [
            Entry(_s(eid), {_s(k): _s(v) for k, v in fields.items()})
            for _, entries in (res or [])
            for eid, fields in entries
            if fields
        ]

    async def reclaim(self, stream: str, group: str, consumer: str, min_idle_ms: int, count: int = 50) -> list[Entry]:
        """Entries another consumer read and never acknowledged (it died): now ours."""
        res: list[Any] = await self.client.xautoclaim(
            self.key(stream), group, consumer, min_idle_ms, "0-0", count=count
        )
        return [Entry(_s(eid), {_s(k): _s(v) for k, v in fields.items()}) for eid, fields in res[1] if fields]

    async def done(self, stream: str, group: str, *entry_ids: str) -> None:
        """Acknowledge and delete handled entries (one round trip for a whole batch)."""
        if not entry_ids:
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.key(stream), group, *entry_ids)
        pipe.xdel(self.key(stream), *entry_ids)
        await pipe.execute()

    async def failed(self, stream: str, entry_id: str) -> int:
        """Count one failed attempt at an entry; how many so far (kept a day)."""
        key = self.key(f"fails:{stream}")
        pipe = self.client.pipeline(transaction=True)
        pipe.hincrby(key, entry_id, 1)
        pipe.expire(key, 86400)
        count, _ = await pipe.execute()
        return int(count)

    async def load(self, incident_id: str) -> dict[str, Any] | None:
        raw = await self.client.get(self.key("inc:" + incident_id))
        return json.loads(raw) if raw else None

    async def load_many(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        raws = await self.client.mget([self.key("inc:" + i) for i in ids])
        return [json.loads(r) if r else None for r in raws]

    async def update(
        self, ids: Sequence[str], change: Callable[[list[dict[str, Any] | None]], Awaitable[Changes]]
    ) -> Changes:
        """Optimistic transaction: load the incidents (WATCHed), let `change` decide, write it all at once.

        `change` may run more than once (another replica wrote meanwhile): it must not have side
        effects outside the `Changes` it returns.
        """
        keys = [self.key("inc:" + i) for i in ids]
        result: Changes | None = None

        async def attempt(pipe: Any) -> None:
            nonlocal result
            raws = await pipe.mget(keys) if keys else []
            result = await change([json.loads(r) if r else None for r in raws])
            pipe.multi()
            self._write(pipe, result)

        await self.client.transaction(attempt, *keys)
        assert result is not None
        return result

    def _write(self, pipe: Any, ch: Changes) -> None:
        now = self.clock()
        for inc in ch.incidents:
            key = self.key("inc:" + inc["id"])
            if inc["state"] == "resolved":
                pipe.set(key, json.dumps(inc), ex=CLOSED_TTL_S)
                pipe.zrem(self.key("open"), inc["id"])
            else:  # an open incident Alertmanager never resolves (silenced: no RESOLVED comes) ages out
                pipe.set(key, json.dumps(inc), ex=OPEN_TTL_S)
                pipe.zadd(self.key("open"), {inc["id"]: inc["starts_at"]})
            if inc["state"] != "firing":  # no longer waiting for a bundle or budget on any phone
                for number in inc.get("order", []):
                    pipe.zrem(self.key("held:" + number), inc["id"])
        for page in ch.pages:
            pkey = self.key("page:" + page["pid"])
            pipe.hset(pkey, mapping={k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in page.items()})
            pipe.expire(pkey, CLOSED_TTL_S)
            pipe.xadd(self.key("out"), {"p": page["pid"]})
        for member, when in ch.timers.items():
            pipe.zadd(self.key("timers"), {member: when})
        for member in ch.untimers:
            pipe.zrem(self.key("timers"), member)
        for incident_id, entry in ch.audit:
            lkey = self.key("log:" + incident_id)
            pipe.rpush(lkey, json.dumps({"t": now, **entry}))
            pipe.ltrim(lkey, -LOG_KEEP, -1)
            pipe.expire(lkey, CLOSED_TTL_S)
        for number, code in ch.latest.items():
            pipe.set(self.key("latest:" + number), code, ex=CODE_TTL_S)

    async def commit(self, ch: Changes) -> None:
        """Write changes that need no WATCH (pages, timers, audit) in one MULTI/EXEC."""
        pipe = self.client.pipeline(transaction=True)
        self._write(pipe, ch)
        await pipe.execute()

    async def open_ids(self) -> list[str]:
        """Open incidents of the last OPEN_TTL_S (older ones have aged out of the store)."""
        await self.client.zremrangebyscore(self.key("open"), "-inf", self.clock() - OPEN_TTL_S)
        return [_s(m) for m in await self.client.zrange(self.key("open"), 0, -1)]

    async def audit(self, incident_id: str) -> list[dict[str, Any]]:
        return [json.loads(r) for r in await self.client.lrange(self.key("log:" + incident_id), 0, -1)]

    # -- codes --------------------------------------------------------------------------

    async def code_target(self, number: str, code: int) -> dict[str, Any] | None:
        raw = await self.client.hget(self.key("code:" + number), str(code))
        if raw is None:
            return None
        when = await self.client.zscore(self.key("codes:" + number), str(code))
        if when is None or when < self.clock() - CODE_TTL_S:
            return None
        target: dict[str, Any] = json.loads(raw)
        return target

    async def latest_code(self, number: str) -> int | None:
        raw = await self.client.get(self.key("latest:" + number))
        return int(raw) if raw else None

    # -- bundling and budget ------------------------------------------------------------

    async def route(self, number: str, incident_id: str, window_s: float) -> bool:
        """True: page now. False: held for this phone's next bundle (a flush timer is set)."""
        k = self.key
        return bool(
            await self._run(
                "route",
                [k("last:" + number), k("pend:" + number), k("timers"), k("held:" + number)],
                [self.clock(), window_s, incident_id, "flush:" + number],
            )
        )

    async def take_bundle(self, number: str) -> list[str]:
        k = self.key
        ids = await self._run(
            "take", [k("pend:" + number), k("timers"), k("last:" + number)], ["flush:" + number, self.clock()]
        )
        return list(dict.fromkeys(_s(i) for i in ids))

    async def rebundle(self, number: str, ids: Sequence[str], when: float) -> None:
        """Put taken ids back for the phone's next bundle (a flush that failed half-way)."""
        if not ids:
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(self.key("pend:" + number), *ids)
        pipe.zadd(self.key("timers"), {"flush:" + number: when}, nx=True)
        await pipe.execute()

    async def hold(self, number: str, incident_id: str) -> None:
        await self.client.zadd(self.key("held:" + number), {incident_id: self.clock()})

    async def fired(self, fingerprint: str) -> int:
        """How often this alert (label set) started firing in the last 24 h, this time included."""
        key = self.key("fired:" + fingerprint)
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 86400)
        count, _ = await pipe.execute()
        return int(count)

    async def held_count(self, number: str) -> int:
        return int(await self.client.zcard(self.key("held:" + number)))

    async def spend(self, number: str, segments: int, budget: int) -> int:
        """1: within budget (spent). 2: budget reached, send the one notice. 0: hold."""
        hour = int(self.clock() // 3600)
        return int(
            await self._run(
                "budget",
                [self.key(f"used:{number}:{hour}"), self.key(f"notice:{number}:{hour}")],
                [segments, budget, 3700],
            )
        )

    async def plan(
        self, number: str, segments: int, budget: int, ids: Sequence[str], bundle: bool, reuse: int | None
    ) -> tuple[int, int | None]:
        """Spend the budget and take a code in one call: (1, code), (2, None) notice instead, (0, None) hold."""
        hour = int(self.clock() // 3600)
        k = self.key
        target = json.dumps({"ids": list(ids), "bundle": bundle})
        res = await self._run(
            "plan",
            [k(f"used:{number}:{hour}"), k(f"notice:{number}:{hour}"), k("codes:" + number), k("code:" + number)],
            [segments, budget, 3700, self.clock(), CODE_TTL_S, target, "" if reuse is None else reuse],
        )
        return int(res[0]), (int(res[1]) if len(res) > 1 else None)

    async def segments_used(self, number: str) -> int:
        return int(await self.client.get(self.key(f"used:{number}:{int(self.clock() // 3600)}")) or 0)

    # -- timers -------------------------------------------------------------------------

    async def claim_due(self, lease_s: float, limit: int = 100) -> list[str]:
        """Due timers, each leased to this caller (another replica sees it again only after the lease)."""
        now = self.clock()
        return [_s(m) for m in await self._run("claim", [self.key("timers")], [now, now + lease_s, limit])]

    async def untime(self, member: str) -> None:
        await self.client.zrem(self.key("timers"), member)

    async def set_timer(self, member: str, when: float) -> None:
        await self.client.zadd(self.key("timers"), {member: when})

    # -- pages --------------------------------------------------------------------------

    async def page(self, pid: str) -> dict[str, str]:
        raw = await self.client.hgetall(self.key("page:" + pid))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def claim_send(self, pid: str, deadline: float, owner: str) -> tuple[str, dict[str, str]]:
        """(verdict, the page's fields when it is ours to send or check); a send counts an attempt."""
        res = await self._run("send_claim", [self.key("page:" + pid)], [self.clock(), deadline, owner])
        flat = [_s(x) for x in res[1:]]
        return _s(res[0]), dict(zip(flat[::2], flat[1::2], strict=True))

    async def set_page(self, pid: str, **fields: Any) -> None:
        await self.client.hset(self.key("page:" + pid), mapping={k: str(v) for k, v in fields.items()})

    async def sent(self, pid: str, sid: str, check_at: float | None = None) -> None:
        """Twilio took the page as `sid`; with `check_at`, its receipt is looked up then if none came."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.key("page:" + pid), mapping={"state": "sent", "sid": sid})
        pipe.set(self.key("sid:" + sid), pid, ex=CLOSED_TTL_S)
        if check_at is not None:
            pipe.zadd(self.key("timers"), {"poll:" + pid: check_at})
        await pipe.execute()

    async def retry_later(self, pid: str, state: str, when: float, **fields: Any) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.key("page:" + pid), mapping={"state": state, **{k: str(v) for k, v in fields.items()}})
        pipe.zadd(self.key("timers"), {"send:" + pid: when})
        await pipe.execute()

    async def requeue(self, pid: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.key("out"), {"p": pid})
        pipe.zrem(self.key("timers"), "send:" + pid)
        await pipe.execute()

    async def page_of_sid(self, sid: str) -> str | None:
        raw = await self.client.get(self.key("sid:" + sid))
        return _s(raw) if raw else None

    # -- people -------------------------------------------------------------------------

    async def override(self) -> dict[str, Any] | None:
        raw = await self.client.get(self.key("override"))
        return json.loads(raw) if raw else None

    async def set_override(self, number: str, ttl_s: int) -> float:
        until = self.clock() + ttl_s
        await self.client.set(self.key("override"), json.dumps({"number": number, "until": until}), ex=ttl_s)
        return until

    async def ask(self, number: str, action: dict[str, Any]) -> None:
        await self.client.set(self.key("confirm:" + number), json.dumps(action), ex=CONFIRM_TTL_S)

    async def take_question(self, number: str) -> dict[str, Any] | None:
        raw = await self.client.getdel(self.key("confirm:" + number))
        return json.loads(raw) if raw else None

    async def first_time(self, flag: str, ttl_s: int = 30 * 86400) -> bool:
        """True once per flag (e.g. the "no RESOLVED while silenced" warning per phone)."""
        return bool(await self.client.set(self.key("once:" + flag), "1", nx=True, ex=ttl_s))

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass(slots=True)
class Changes:
    """What one decision writes, all in one MULTI/EXEC."""

    incidents: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    timers: dict[str, float]
    untimers: list[str]
    audit: list[tuple[str, dict[str, Any]]]
    latest: dict[str, int]

    @classmethod
    def empty(cls) -> Changes:
        return cls([], [], {}, [], [], {})
