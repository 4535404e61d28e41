"""Segments per answer: Operator's replies against the seed design's emoji rendering of the same facts.

Every row comes from a real run: `operator serve` answers `status`, `alerts`, `logs web 1h`, `db`
and `gateway` against the real stack of bench/stack.py (real Prometheus, Alertmanager, PostgreSQL,
pgBouncer, HAProxy; a fake Loki; one monitor pointed at a closed port so status has a DOWN line),
paged at SMS_PAGE_SEGMENTS=2 as it ships; `more` fetches the rest. Operator's column counts the
pages it sent. The seed column renders the same lines the seed design's way - an emoji heading,
ticks and crosses or bullets per line, one message - so one character outside GSM-7 makes the
whole message UCS-2: 70/67 units a segment instead of 160/153.

Run: .venv/bin/python -m bench.segments   (about 30 s: it starts the stack)
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OPERATOR, ROOT, free_port, operator_env, senders, spawn
from bench.exchange import transcript
from bench.report import Options, Section
from bench.stack import busy_stack
from bot.sms import segment_info
from tests.fakes.server import closed_port_url

QUESTIONS = {
    "status": "status (7 monitors, 1 down)",
    "alerts": "alerts (5 firing)",
    "logs web 1h": "logs web 1h",
    "db": "db (PostgreSQL + pgBouncer)",
    "gateway": "gateway (HAProxy, 3 backends)",
}
HEADINGS = {
    "status": "📊 System Status",
    "alerts": "🚨 Alerts",
    "logs web 1h": "📜 Logs: web (last 1h)",
    "db": "🐘 Database",
    "gateway": "🌐 API Gateway",
}
_MARKER = re.compile(r"\n\((\d+)/(\d+)( MORE)?\)$")


@dataclass(frozen=True)
class Row:
    name: str
    pages: list[str]  # as Operator sent them
    seed: str  # the same facts, seed style, one message


def seed_line(line: str) -> str:
    """One line of an answer the seed way: ✅/❌ for health, 🔴/🟠 for severity, • otherwise."""
    if re.search(r"\bDOWN\b", line):
        return "❌ " + line.replace(" DOWN:", ":")
    if re.search(r"\bok\b \d+ms$", line):
        return "✅ " + line.replace(" ok ", ": ")
    if re.match(r"\d+ CRIT ", line):
        return "🔴 " + line
    if re.match(r"\d+ WARN ", line):
        return "🟠 " + line
    return "• " + line


def seed_style(question: str, text: str) -> str:
    head, *lines = text.splitlines()
    return "\n".join([HEADINGS[question], seed_line(head), *map(seed_line, lines)])


def whole(pages: list[str]) -> str:
    return "\n".join(_MARKER.sub("", page) for page in pages)


def ask_all(base: str, number: str) -> list[Row]:
    rows, asked = [], 0

    def ask(text: str) -> str:
        nonlocal asked
        asked += 1
        return transcript(base, number, [text], tag=f"segments{asked:04d}")[0][1]

    for question, name in QUESTIONS.items():
        pages = [ask(question)]
        while (m := _MARKER.search(pages[-1])) and m[3] and len(pages) < 10:
            pages.append(ask("more"))
        rows.append(Row(name, pages, seed_style(question, whole(pages))))
    return rows


def run() -> list[Row]:
    number = senders(1)[0]
    with busy_stack() as stack, tempfile.TemporaryDirectory(prefix="bench-segments-") as tmp:
        env = operator_env(
            AUTHORIZED_NUMBERS=number,
            PYTHONPATH=str(ROOT),
            TZ="UTC",
            SMS_PAGE_SEGMENTS="2",
            KONG_ADMIN_URL=closed_port_url(),
            **stack.env(),
        )
        port = free_port()
        proc = spawn("operator", [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)], Path(tmp), port, env)
        try:
            return ask_all(proc.base, number)
        finally:
            proc.stop()


def segment_table(rows: list[Row] | None = None) -> str:
    """The comparison as a Markdown table, one row per answer and a total."""
    rows = rows if rows is not None else run()
    out = [
        "| answer | ours chars | ours encoding | ours segments | seed chars | seed encoding | seed segments | saving |",
        "|---|---:|---|---:|---:|---|---:|---:|",
    ]
    total_ours = total_seed = 0
    for row in rows:
        infos = [segment_info(page) for page in row.pages]
        encoding = "UCS-2" if any(i.encoding == "UCS-2" for i in infos) else "GSM-7"
        ours, seed = sum(i.segments for i in infos), segment_info(row.seed)
        total_ours, total_seed = total_ours + ours, total_seed + seed.segments
        paged = f" ({len(row.pages)} pages)" if len(row.pages) > 1 else ""
        out.append(
            f"| {row.name} | {sum(map(len, row.pages))} | {encoding} | {ours}{paged} | {len(row.seed)} "
            f"| {seed.encoding} | {seed.segments} | {1 - ours / seed.segments:.0%} |"
        )
    out.append(f"| **total** | | | **{total_ours}** | | | **{total_seed}** | **{1 - total_ours / total_seed:.0%}** |")
    return "\n".join(out) + "\n"


def section(opts: Options) -> Section:
    rows = run()
    table = segment_table(rows)
    total = table.strip().splitlines()[-1].split("|")
    ours, seed = total[4].strip(" *"), total[7].strip(" *")
    body = (
        "`.venv/bin/python -m bench.segments`: `status`, `alerts`, `logs web 1h`, `db` and `gateway` asked of "
        "`operator serve` against the real stack of `bench/stack.py`, paged at 2 segments as shipped; the seed "
        "column renders the same lines with the seed design's emoji headings and markers, one message.\n\n" + table
    )
    row = (
        "SMS segments of five typical answers, ours vs the seed design's emoji style",
        f"**{ours}** vs {seed}",
        "fewer",
    )
    return Section(
        "SMS segments (`bench/segments.py`)",
        body,
        [row],
        {"rows": [{"name": r.name, "pages": r.pages, "seed": r.seed} for r in rows]},
    )


if __name__ == "__main__":
    print(segment_table(), end="")
