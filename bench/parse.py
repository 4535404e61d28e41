"""Parse speed: every corpus text through ``nlu.parse`` with 50 services and 50 metric aliases.

Each text of tests/data/corpus*.tsv (earlier turns included, each with the ``expecting`` a
conversation would pass) is parsed ``--repeat`` times after one warm-up call; a call is timed
with ``perf_counter_ns``. Reported: the p50/p99/max over texts of each text's median call (what
one message costs, robust to the other processes sharing this machine) and the p99 of every raw
call (what the noise adds). The reader's tables are built once before timing, as at start-up.

Run ``python -m bench.parse`` from the repository root (a few seconds); ``--write`` puts its section
into bench/RESULTS.md (bench/run_all.py writes it too, through ``section``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine  # noqa: E402
from bench.report import Options, Section  # noqa: E402
from dialogs.catalog import REGISTRY  # noqa: E402
from nlu import parse  # noqa: E402
from tests.nlu.corpus import CORPUS, load  # noqa: E402

TARGET_US = 150.0
VOCABULARY = REGISTRY.vocabulary
# Real-looking names: the five of the corpus first, so the corpus texts still find theirs.
SERVICES = (
    "api",
    "web",
    "worker",
    "payments",
    "auth",
    "billing",
    "checkout",
    "search",
    "inventory",
    "notifications",
    "email",
    "sms",
    "push",
    "scheduler",
    "cron",
    "gateway-internal",
    "ledger",
    "invoices",
    "refunds",
    "fraud",
    "risk",
    "kyc",
    "onboarding",
    "accounts",
    "profile",
    "sessions",
    "tokens",
    "uploads",
    "media",
    "thumbnails",
    "cdn-purge",
    "catalog",
    "pricing",
    "promotions",
    "cart",
    "orders",
    "shipping",
    "tracking",
    "returns",
    "reviews",
    "recommendations",
    "analytics",
    "events",
    "ingest",
    "exporter",
    "reporter",
    "admin",
    "backoffice",
    "support",
    "chat",
)
METRICS = (
    "cpu",
    "memory",
    "disk",
    "load",
    "up",
    "latency",
    "p50",
    "p95",
    "p99",
    "rps",
    "qps",
    "iops",
    "inodes",
    "swap",
    "net_in",
    "net_out",
    "conntrack",
    "threads",
    "goroutines",
    "heap",
    "gc_pause",
    "fds",
    "sockets",
    "tcp_retrans",
    "queue_depth",
    "queue_age",
    "consumer_lag",
    "replication_lag",
    "cache_hits",
    "cache_misses",
    "evictions",
    "db_conns",
    "db_wait",
    "http_5xx",
    "http_4xx",
    "saturation",
    "temperature",
    "power",
    "fan",
    "ntp_offset",
    "cert_days",
    "pods",
    "restarts",
    "oom_kills",
    "throttling",
    "build_time",
    "deploys",
    "error_budget",
    "apdex",
    "uptime_days",
)
if len(SERVICES) != 50 or len(METRICS) != 50:
    raise SystemExit("the benchmark is stated for 50 services and 50 metric aliases")


def calls() -> list[tuple[str, str | None]]:
    """(text, expecting) for every turn of every corpus row, in corpus order."""
    out: list[tuple[str, str | None]] = []
    for path in sorted(CORPUS.parent.glob("corpus*.tsv")):
        for case in load(path):
            expecting: str | None = None
            for text in (*case.before, case.text):
                out.append((text, expecting))
                intent = parse(text, VOCABULARY, services=SERVICES, metrics=METRICS, expecting=expecting)
                expecting = _next_expecting(intent.command, intent.service, intent.metric, expecting)
    return out


def _next_expecting(command: str | None, service: str | None, metric: str | None, before: str | None) -> str | None:
    if command == "logs":
        return "service" if service is None else "window"
    if command == "metrics" and metric is None:
        return "metric"
    if command is None and before == "service" and service is not None:
        return "window"
    return None


def measure(repeat: int) -> dict[str, Any]:
    texts = calls()
    for text, expecting in texts:  # warm-up: tables built, code paths loaded
        parse(text, VOCABULARY, services=SERVICES, metrics=METRICS, expecting=expecting)
    medians: list[float] = []
    raw: list[float] = []
    clock = time.perf_counter_ns
    for text, expecting in texts:
        samples = []
        for _ in range(repeat):
            started = clock()
            parse(text, VOCABULARY, services=SERVICES, metrics=METRICS, expecting=expecting)
            samples.append((clock() - started) / 1000)
        medians.append(statistics.median(samples))
        raw += samples
    slowest = sorted(zip(medians, texts, strict=True), key=lambda pair: pair[0], reverse=True)[:5]
    return {
        "texts": len(texts),
        "repeat": repeat,
        "p50_us": round(_pct(medians, 50), 1),
        "p99_us": round(_pct(medians, 99), 1),
        "max_us": round(max(medians), 1),
        "raw_p99_us": round(_pct(raw, 99), 1),
        "slowest": [(round(us, 1), text) for us, (text, _) in slowest],
    }


def _pct(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def body(result: dict[str, Any]) -> str:
    verdict = "meets" if result["p99_us"] <= TARGET_US else "MISSES"
    slowest = ", ".join(f"`{t}` {us} µs" for us, t in result["slowest"][:3])
    return "\n".join(
        [
            f"`.venv/bin/python -m bench.parse --repeat {result['repeat']}`: {result['texts']} texts (every turn of "
            "tests/data/corpus*.tsv, each with the `expecting` of its conversation), 50 services and 50 metric "
            f"aliases configured, each text parsed {result['repeat']} times after a warm-up; per text the median call.",
            "",
            "| p50 µs | p99 µs | max µs | p99 of all raw calls µs | target p99 |",
            "|---:|---:|---:|---:|---:|",
            f"| {result['p50_us']} | **{result['p99_us']}** | {result['max_us']} | {result['raw_p99_us']} | "
            f"≤ {TARGET_US:.0f} µs ({verdict}) |",
            "",
            f"Slowest texts: {slowest}.",
        ]
    )


TITLE = "Parse speed (`bench/parse.py`)"


def section(opts: Options, repeat: int = 30) -> Section:
    """This bench's part of RESULTS.md and of the README's summary (bench/run_all.py)."""
    result = measure(repeat)
    row = (
        "parse one SMS, 50 services and 50 metric aliases configured (p99 over the corpus)",
        f"**{result['p99_us']} µs**",
        f"≤ {TARGET_US:.0f} µs",
    )
    return Section(TITLE, body(result), [row], result)


def write(markdown: str, path: Path = ROOT / "bench" / "RESULTS.md") -> None:
    """Replace this bench's section of RESULTS.md (or add it, numbered next, before the raw figures)."""
    lines = path.read_text().split("\n")
    titled = [i for i, line in enumerate(lines) if line.startswith("## ") and line.endswith(TITLE)]
    if titled:
        begin = titled[0]
        end = next((i for i in range(begin + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[begin + 1 : end] = ["", markdown, ""]
    else:
        numbered = [line.split(".", 1)[0][3:] for line in lines if line.startswith("## ") and line[3:4].isdigit()]
        at = next((i for i, line in enumerate(lines) if line.startswith("## Raw figures")), len(lines))
        lines[at:at] = [f"## {len(numbered) + 1}. {TITLE}", "", markdown, ""]
    path.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--write", action="store_true", help="put this section into bench/RESULTS.md")
    args = parser.parse_args()
    result = measure(args.repeat)
    markdown = body(result) + f" Machine: {machine()}."
    print(markdown)
    if args.write:
        write(markdown)
    return 0 if result["p99_us"] <= TARGET_US else 1


if __name__ == "__main__":
    raise SystemExit(main())
