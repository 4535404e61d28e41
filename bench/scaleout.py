"""Scale-out: two `operator serve` processes, one Redis, many senders texting at once.

Each sender has a service of its own (svc000, svc001, ...; a fake Loki holds one marker
error line per service) and fires its messages concurrently, alternating between the two
processes, while other senders do the same - as a load balancer without affinity and a
fast-typing engineer would produce:

    burst    `logs <own svc> 1h`, `logs <own svc> 6h`, `logs <own svc> 24h`, all at once,
             plus a replay of the first two MessageSids (Twilio may deliver a webhook twice)
    then     `again` (repeats this sender's last question) and `2h` (its last question over 2h)

Counted, per run:
    lost        a message without its answer: HTTP error, empty reply, "busy", or a reply
                that does not answer what was asked (wrong window, no marker line)
    crossed     a reply naming another sender's service (or marker), or `again`/`2h` answered
                with another sender's question
    duplicated  Loki range queries beyond one per distinct MessageSid (a replayed SID that ran
                again), plus replays whose reply differs from the original's
    overlapped  Loki queries of one sender in flight at the same time: the per-sender lock
                lets a sender's messages through one at a time, so this must stay 0

`--broken lock` runs the same workload against `bench/broken_store.py` with the lock's NX and the
duplicate check removed (duplicated and overlapped must then be non-zero); `--broken keys` with
keys that forget the sender (crossed must then be non-zero): the counters can count. Then the same
workload against one process, for throughput (messages/s) as a ratio.

Run: .venv/bin/python bench/scaleout.py [--senders 200] [--concurrency 8] [--broken lock|keys]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    OPERATOR,
    PYTHON,
    ROOT,
    Proc,
    flush_redis,
    free_port,
    operator_env,
    redis_server,
    senders,
    signed_form,
    spawn,
    twilio_form,
)
from bench.report import Options, Section
from tests.fakes.loki import Entry, LokiFake
from tests.fakes.server import Reply, Request
from tests.phone import reply_text

BURST = ("1h", "6h", "24h")  # windows of the concurrent burst; the first two are also replayed
REPLAYED = 2
FOLLOW_UPS = ("again", "2h")
DISTINCT_PER_SENDER = len(BURST) + len(FOLLOW_UPS)  # MessageSids, and so Loki range queries
MESSAGES_PER_SENDER = DISTINCT_PER_SENDER + REPLAYED
QUERY_DELAY_S = 0.02  # each Loki query takes this long, so unserialised messages do overlap
_SERVICE = re.compile(r"svc\d{3}")


def service_of(i: int) -> str:
    return f"svc{i:03d}"


class TrackingLoki(LokiFake):
    """A fake Loki that notices two queries for one service in flight at once."""

    def __init__(self, entries: list[Entry]) -> None:
        super().__init__(entries)
        self.overlaps = 0
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        for key in (("GET", "/loki/api/v1/query_range"), ("GET", "/loki/api/v1/query")):
            self.routes[key] = self._tracked(self.routes[key])

    def _tracked(self, handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
        def tracked(req: Request) -> Reply:
            found = _SERVICE.search(req.query.get("query", [""])[0])
            service = found[0] if found else ""
            # One message asks range and count together: an overlap is another message's query.
            key = f"{service}:{req.path}"
            with self._lock:
                if self._in_flight[key]:
                    self.overlaps += 1
                self._in_flight[key] += 1
            try:
                time.sleep(QUERY_DELAY_S)
                return handler(req)
            finally:
                with self._lock:
                    self._in_flight[key] -= 1

        return tracked

    def range_queries(self) -> int:
        return sum(1 for r in self.requests if r.path == "/loki/api/v1/query_range")


@dataclass
class Sent:
    sid: str
    body: str
    reply: str | None  # None: no answer (HTTP error, transport failure)


async def post(client: httpx.AsyncClient, base: str, number: str, body: str, sid: str) -> Sent:
    sig, form = signed_form(twilio_form(number, body, sid))
    try:
        r = await client.post(
            base + "/sms",
            content=form,
            headers={"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"},
        )
        return Sent(sid, body, reply_text(r.text) if r.status_code == 200 else None)
    except httpx.HTTPError:
        return Sent(sid, body, None)


def answers(reply: str | None, service: str, window: str) -> bool:
    """`reply` answers `logs <service> <window>`: the header and the service's marker line."""
    return bool(reply) and reply.startswith(f"{service}, last {window}: ") and f"ERROR {service} marker" in reply  # type: ignore[union-attr]


def crossed(reply: str | None, service: str) -> bool:
    return bool(reply) and bool(set(_SERVICE.findall(reply)) - {service})  # type: ignore[arg-type]


async def sender_run(
    client: httpx.AsyncClient,
    bases: list[str],
    i: int,
    number: str,
    run_id: str,
    gate: asyncio.Semaphore,
    rng: random.Random,
) -> Counter[str]:
    service, tally = service_of(i), Counter[str]()
    sids = [f"SM{run_id}{i:05d}{k}" for k in range(len(BURST))]
    jitter = [rng.random() * 0.005 for _ in range(len(BURST) + REPLAYED)]

    async def fire(k: int, body: str, sid: str, delay: float) -> Sent:
        await asyncio.sleep(delay)
        return await post(client, bases[(i + k) % len(bases)], number, body, sid)

    async with gate:
        burst = [fire(k, f"logs {service} {w}", sids[k], jitter[k]) for k, w in enumerate(BURST)]
        # Replays of the first two SIDs, through the other process, while the originals run.
        burst += [fire(k + 1, f"logs {service} {BURST[k]}", sids[k], jitter[len(BURST) + k]) for k in range(REPLAYED)]
        sent = await asyncio.gather(*burst)
        tally["messages"] += len(sent)
        originals, replays = sent[: len(BURST)], sent[len(BURST) :]
        for s, window in zip(originals, BURST, strict=True):
            tally["crossed"] += crossed(s.reply, service)
            tally["lost"] += not answers(s.reply, service, window)
        for k, s in enumerate(replays):
            tally["crossed"] += crossed(s.reply, service)
            tally["lost"] += not answers(s.reply, service, BURST[k])
            tally["replay_differs"] += s.reply != originals[k].reply
        # The session now holds one of the three questions (whichever ran last): `again` must
        # repeat one of them, for this sender; a bare window re-asks it for this sender.
        again = await post(client, bases[i % len(bases)], number, FOLLOW_UPS[0], f"SM{run_id}{i:05d}a")
        two_hours = await post(client, bases[(i + 1) % len(bases)], number, FOLLOW_UPS[1], f"SM{run_id}{i:05d}w")
        tally["messages"] += len(FOLLOW_UPS)
        for s, ok in (
            (again, any(answers(again.reply, service, w) for w in BURST)),
            (two_hours, answers(two_hours.reply, service, "2h")),
        ):
            tally["crossed"] += crossed(s.reply, service)
            tally["lost"] += not ok
    tally["distinct_sids"] += DISTINCT_PER_SENDER
    return tally


async def workload(bases: list[str], count: int, concurrency: int, run_id: str) -> tuple[Counter[str], float]:
    gate = asyncio.Semaphore(concurrency)  # senders at once; each has five messages in flight
    rng = random.Random(42)
    limits = httpx.Limits(max_connections=concurrency * 8, max_keepalive_connections=concurrency * 8)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        start = time.perf_counter()
        tallies = await asyncio.gather(
            *(sender_run(client, bases, i, n, run_id, gate, rng) for i, n in enumerate(senders(count)))
        )
        elapsed = time.perf_counter() - start
    total = Counter[str]()
    for t in tallies:
        total.update(t)
    return total, elapsed


def run(count: int = 200, concurrency: int = 8, *, broken: str | None = None, single: bool = True) -> dict[str, object]:
    """Both runs (two processes, then one unless `single` is False); `broken` names a broken store."""
    now = time.time_ns()
    entries = [
        Entry({"service": service_of(i)}, now - 30 * 10**9, f"ERROR {service_of(i)} marker line") for i in range(count)
    ]
    serve = [PYTHON, str(ROOT / "bench/broken_store.py")] if broken else [OPERATOR]
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp, TrackingLoki(entries) as loki:
        work = Path(tmp)
        with redis_server(work) as url:
            env = operator_env(
                REDIS_URL=url,
                AUTHORIZED_NUMBERS=",".join(senders(count)),
                LOKI_URL=loki.url,
                LOG_SERVICES=",".join(service_of(i) for i in range(count)),
                RATE_LIMIT_PER_MIN="1000",
                PYTHONPATH=str(ROOT),
                SMS_PAGE_SEGMENTS="4",
                BENCH_BROKEN=broken or "",
            )
            procs: list[Proc] = []
            try:
                for name in ("a", "b"):
                    port = free_port()
                    procs.append(
                        spawn(name, [*serve, "serve", "--host", "127.0.0.1", "--port", str(port)], work, port, env)
                    )
                bases = [p.base for p in procs]
                asyncio.run(workload(bases, 4, 2, f"warm{now:x}"))  # warm-up: pools, imports
                results = {}
                for label, targets in (("two", bases), ("one", bases[:1]))[: 2 if single else 1]:
                    flush_redis(url)
                    before, overlaps_before = loki.range_queries(), loki.overlaps
                    tally, elapsed = asyncio.run(workload(targets, count, concurrency, f"{label}{now:x}"))
                    queries = loki.range_queries() - before
                    extra = max(0, queries - tally["distinct_sids"])
                    results[label] = {
                        "processes": len(targets),
                        "senders": count,
                        "messages": tally["messages"],
                        "lost": tally["lost"],
                        "crossed": tally["crossed"],
                        "duplicated": extra + tally["replay_differs"],
                        "overlapped": loki.overlaps - overlaps_before,
                        "logs_queries": queries,
                        "seconds": round(elapsed, 3),
                        "messages_per_s": round(tally["messages"] / elapsed, 1),
                    }
                    print(label, results[label], flush=True)
            finally:
                for p in procs:
                    p.stop()
    out: dict[str, object] = {
        "results": results,
        "concurrency": concurrency,
        "broken_store": broken,
        "messages_per_sender": MESSAGES_PER_SENDER,
    }
    if "one" in results:
        out["throughput_two_vs_one"] = round(results["two"]["messages_per_s"] / results["one"]["messages_per_s"], 3)  # type: ignore[operator]
    return out


CONTROL_SENDERS = 50
COLUMNS = ("lost", "crossed", "duplicated", "overlapped")


def section(opts: Options, count: int = 200, concurrency: int = 8) -> Section:
    real = run(count, concurrency)
    controls = {kind: run(CONTROL_SENDERS, concurrency, broken=kind, single=False) for kind in ("lock", "keys")}
    lines = [
        f"`.venv/bin/python bench/scaleout.py --senders {count} --concurrency {concurrency}`: two `operator serve` "
        f"processes, one private Redis, a fake Loki answering after {QUERY_DELAY_S * 1000:.0f} ms. {count} senders, "
        f"{concurrency} bursting at a time; each fires `logs <own service> 1h/6h/24h` at once plus replays of two "
        "of those MessageSids, alternating between the processes, then `again` and `2h`. Every reply must answer "
        "its own question for its own service. Control runs (`--broken lock|keys`, "
        f"{CONTROL_SENDERS} senders) serve `bench/broken_store.py`: the store without the lock's NX and the replay "
        "check, and with keys that forget the sender; their non-zero counts show the counters can count.",
        "",
        "| store | processes | senders | messages | lost | crossed | duplicated | overlapped | seconds | messages/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = [("real", v) for v in real["results"].values()]  # type: ignore[union-attr]
    runs += [(f"broken: {kind}", c["results"]["two"]) for kind, c in controls.items()]  # type: ignore[index]
    for store, v in runs:
        cells = [
            store,
            *(str(v[k]) for k in ("processes", "senders", "messages", *COLUMNS, "seconds", "messages_per_s")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Throughput two processes vs one: **{real['throughput_two_vs_one']}×**. On this 2-core machine "
        "the load generator, the request signing and the fake Loki share the cores with both servers, so "
        "this measures correctness under spread load more than capacity.",
    ]
    two = real["results"]["two"]  # type: ignore[index]
    lock, keys = (controls[k]["results"]["two"] for k in ("lock", "keys"))  # type: ignore[index]
    row = (
        f"{count} senders, concurrent + replayed messages over two replicas: lost / crossed / duplicated / overlapped",
        "**" + " / ".join(str(two[c]) for c in COLUMNS) + "** (broken-store controls: "
        f"{lock['duplicated']} duplicated, {lock['overlapped']} overlapped; {keys['crossed']} crossed)",
        "0 / 0 / 0 / 0",
    )
    return Section("Scale-out (`bench/scaleout.py`)", "\n".join(lines), [row], {"real": real, "controls": controls})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8, help="senders bursting at once")
    parser.add_argument("--broken", choices=["lock", "keys"], help="serve bench/broken_store.py (control run)")
    args = parser.parse_args()
    print(json.dumps(run(args.senders, args.concurrency, broken=args.broken), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
