"""Per-message overhead: `operator serve` answering signed `help` vs two reference apps.

    full        `operator serve` (1 worker): signature, allow-list, rate limit, idempotency, lock,
                session load/save (two Lua scripts in Redis), NLU, state machine, TwiML
    (a) bare    a Quart route returning the same TwiML
    (b) checked a Quart route with RequestValidator and one Redis GET + SET

All three behind hypercorn, one process each, loaded by wrk (-t1 -c16) on loopback. wrk cannot
sign (HMAC-SHA1) in its Lua, so Python pre-signs N requests from many senders with unique
MessageSids and the wrk script cycles through them from a file (Redis is flushed before each
run of the full app, so no request is a duplicate). Rounds alternate the servers; medians.

Run: .venv/bin/python bench/overhead.py [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    OPERATOR,
    PYTHON,
    ROOT,
    WrkResult,
    flush_redis,
    free_port,
    median,
    operator_env,
    redis_server,
    senders,
    signed_form,
    spawn,
    twilio_form,
    wrk,
)
from bench.report import Options, Section

SENDERS = 500


def write_bodies(path: Path, count: int) -> None:
    numbers = senders(SENDERS)
    stamp = int(time.time() * 1000)
    with path.open("w") as out:
        for i in range(count):
            sig, body = signed_form(twilio_form(numbers[i % SENDERS], "help", f"SM{stamp:013x}{i:019x}"))
            out.write(f"{sig}\t{body}\n")


def run(duration_s: int, rounds: int, warmup_s: int = 3) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        work = Path(tmp)
        bodies = work / "bodies.txt"
        # Enough unique messages for the fastest server's run: ~3k req/s at most here.
        write_bodies(bodies, max(20_000, 3_500 * duration_s))
        with redis_server(work) as url:
            env = operator_env(
                REDIS_URL=url,
                AUTHORIZED_NUMBERS=",".join(senders(SENDERS)),
                RATE_LIMIT_PER_MIN="1000000",
                PYTHONPATH=str(ROOT),
            )
            procs = {
                "full": spawn(
                    "full", [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(p := free_port())], work, p, env
                ),
                "bare": spawn(
                    "bare", [PYTHON, str(ROOT / "bench/refservers.py"), "bare", str(q := free_port())], work, q, env
                ),
                "checked": spawn(
                    "checked",
                    [PYTHON, str(ROOT / "bench/refservers.py"), "checked", str(r := free_port())],
                    work,
                    r,
                    env,
                ),
            }
            try:
                results: dict[str, list[WrkResult]] = {name: [] for name in procs}
                for proc in procs.values():  # warm-up: imports, pools, caches
                    flush_redis(url)
                    wrk(proc.base + "/sms", bodies, warmup_s)
                for i in range(rounds):
                    order = list(procs) if i % 2 == 0 else list(reversed(procs))
                    for name in order:
                        flush_redis(url)
                        res = wrk(procs[name].base + "/sms", bodies, duration_s)
                        results[name].append(res)
                        print(
                            f"round {i + 1} {name:8s} {res.rps:8.0f} req/s  p50 {res.p50_ms:6.2f} ms  "
                            f"p99 {res.p99_ms:6.2f} ms  errors {res.errors}",
                            flush=True,
                        )
            finally:
                for proc in procs.values():
                    proc.stop()
    summary: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        summary[name] = {
            "rps": median([r.rps for r in runs]),
            "p50_ms": median([r.p50_ms for r in runs]),
            "p99_ms": median([r.p99_ms for r in runs]),
            "errors": sum(r.errors for r in runs),
        }
    full, bare, checked = summary["full"], summary["bare"], summary["checked"]
    ratios = {
        "full/(a)": full["rps"] / bare["rps"],
        "full/(b)": full["rps"] / checked["rps"],
        "(b)/(a)": checked["rps"] / bare["rps"],
        "p99 full/(b)": full["p99_ms"] / checked["p99_ms"],
    }
    return {
        "summary": summary,
        "ratios": ratios,
        "duration_s": duration_s,
        "rounds": rounds,
        "command": f"wrk -t1 -c16 -d{duration_s}s --latency -s <pre-signed bodies>.lua",
    }


LABELS = {
    "bare": "(a) bare Quart route, same TwiML",
    "checked": "(b) RequestValidator + Redis GET/SET",
    "full": "full `operator serve` pipeline (`help`)",
}


def section(opts: Options) -> Section:
    over = run(opts.duration, opts.rounds)
    s, r = over["summary"], over["ratios"]  # type: ignore[index]
    lines = [
        f"`.venv/bin/python bench/overhead.py --duration {opts.duration} --rounds {opts.rounds}`: each server behind "
        f"hypercorn (one process), `{over['command']}`, {opts.rounds} alternating rounds, medians. Requests are "
        "pre-signed in Python (wrk's Lua cannot HMAC) from 500 senders with unique MessageSids; Redis is flushed "
        "before each run of the full app.",
        "",
        "| server | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
    ]
    for name in ("bare", "checked", "full"):
        v = s[name]  # type: ignore[index]
        lines.append(f"| {LABELS[name]} | {v['rps']:.0f} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['errors']:.0f} |")
    lines += [
        "",
        f"Ratios: full/(a) **{r['full/(a)']:.2f}**, full/(b) **{r['full/(b)']:.2f}** (target ≥ 0.9), "
        f"(b)/(a) **{r['(b)/(a)']:.2f}**; p99 full/(b) **{r['p99 full/(b)']:.2f}** (target ≤ 1.5).",
    ]
    row = (
        "`help` through the whole pipeline vs signature check + one Redis GET/SET",
        f"**{r['full/(b)']:.2f}×** req/s, p99 {r['p99 full/(b)']:.2f}×",
        "≥ 0.9×, p99 ≤ 1.5×",
    )
    return Section("Per-message overhead (`bench/overhead.py`)", "\n".join(lines), [row], over)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    out = run(args.duration, args.rounds)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
