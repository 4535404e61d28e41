"""A real exchange: `operator serve` against the real stack (bench/stack.py), one scripted conversation.

Prometheus, Alertmanager, node-exporter, PostgreSQL, pgBouncer and HAProxy are real servers on
loopback; Loki is the local fake (it cannot run here) serving generated error lines; the alerts
beyond Prometheus's own test rule are posted to Alertmanager's API. Every message is a signed
Twilio webhook to a real `operator serve` process; the replies are printed exactly as sent
(first pages; `more` fetches the next), and written into README.md between the
`<!-- exchange:start -->` and `<!-- exchange:end -->` markers.

Run: .venv/bin/python bench/exchange.py [--no-readme]   (about 30 s)
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import OPERATOR, ROOT, free_port, operator_env, senders, signed_form, spawn, twilio_form
from bench.report import Options, Section
from bench.stack import busy_stack
from tests.phone import reply_text

README = ROOT / "README.md"
START, END = "<!-- exchange:start -->", "<!-- exchange:end -->"
CONVERSATION = ["lgos", "wbe", "1h", "6h", "stauts", "alerts", "2", "db", "more", "gateway", "metrics cpu", "reset"]


def transcript(base: str, number: str, messages: list[str], tag: str = "exchange") -> list[tuple[str, str]]:
    """(message, reply) for each message, in order; MessageSids are unique per `tag` and position."""
    out = []
    with httpx.Client(timeout=30) as client:
        for i, text in enumerate(messages):
            sig, body = signed_form(twilio_form(number, text, f"SM{tag}{i:024d}"))
            r = client.post(
                base + "/sms",
                content=body,
                headers={"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"},
            )
            r.raise_for_status()
            out.append((text, reply_text(r.text)))
    return out


def render(pairs: list[tuple[str, str]]) -> str:
    lines = []
    for sent, reply in pairs:
        lines.append(f"> {sent}")
        first, *rest = reply.splitlines() or [""]
        lines.append(f"< {first}")
        lines += [f"  {line}" for line in rest]
    return "\n".join(lines)


def run() -> str:
    number = senders(1)[0]
    with busy_stack() as stack, tempfile.TemporaryDirectory(prefix="bench-exchange-") as tmp:
        env = operator_env(AUTHORIZED_NUMBERS=number, PYTHONPATH=str(ROOT), TZ="UTC", **stack.env())
        port = free_port()
        proc = spawn("operator", [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)], Path(tmp), port, env)
        try:
            return render(transcript(proc.base, number, CONVERSATION))
        finally:
            proc.stop()


def update_readme(text: str) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"{START}\nRecorded by `bench/exchange.py` on {stamp}: `operator serve` against real Prometheus, "
        "Alertmanager, node-exporter, PostgreSQL, pgBouncer and HAProxy on loopback; Loki is a local fake "
        "with generated error lines, and four of the alerts were posted to Alertmanager's API. Replies as "
        f"sent (times UTC):\n\n```\n{text}\n```\n{END}"
    )
    readme = README.read_text()
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        README.write_text(head + block + rest.split(END, 1)[1])
        print(f"updated {README}", file=sys.stderr)


def section(opts: Options) -> Section:
    text = run()
    if opts.readme:
        update_readme(text)
    body = (
        "`.venv/bin/python bench/exchange.py`: one scripted conversation with `operator serve` against the "
        "real stack of `bench/stack.py` (Loki faked); also written into README.md.\n\n```\n" + text + "\n```"
    )
    return Section("A real exchange (`bench/exchange.py`)", body, [], {"transcript": text})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args()
    text = run()
    print(text)
    if not args.no_readme:
        update_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
