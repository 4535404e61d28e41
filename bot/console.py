"""`operator chat`: the conversation at a terminal, through the same pipeline as /sms.

At a terminal: a banner, a `> ` prompt with line editing and history (readline; the
history file is $XDG_STATE_HOME/operator/history, else ~/.operator_history), each reply
after `< ` and a separator, `/quit` (or Ctrl-D) to leave, Ctrl-C to drop the current
line. Library log lines are kept out of the way (warnings and worse only, unless
LOG_LEVEL says otherwise). With stdin not a terminal (a pipe, a script): no banner, no
prompt, one reply per line read, for scripts and tests.

The console is one trusted person at a keyboard (or their script), not an SMS sender:
RATE_LIMIT_PER_MIN, which guards the SMS webhook and Twilio spend, is lifted to
CONSOLE_RATE_LIMIT_PER_MIN, so `cat 25-questions.txt | operator chat` answers every line.

The console reads input in the main thread and runs each message on one event loop
(`asyncio.Runner`), so Ctrl-C interrupts the read or the reply, never a hidden thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.pipeline import Inbound
from bot.security import mask
from bot.services import Services

PROMPT = "> "
LEAVE = frozenset({"/quit", "/exit", "/q"})
HISTORY_LENGTH = 1000
CONSOLE_RATE_LIMIT_PER_MIN = 6000  # a keyboard or a pipe, never a flood worth refusing


def history_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    state = env.get("XDG_STATE_HOME")
    if state:
        return Path(state) / "operator" / "history"
    return Path(env.get("HOME") or Path.home()) / ".operator_history"


def quiet_logging(tty: bool) -> None:
    """No INFO lines between replies (httpx logs every request at INFO); at a terminal, errors
    only (the banner says what the start-up warnings would)."""
    if "LOG_LEVEL" not in os.environ:
        logging.getLogger().setLevel(logging.ERROR if tty else logging.WARNING)
    for name in ("httpx", "httpcore", "hpack", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


class LineEditor:
    """readline with a history file, when there is a terminal and readline exists."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            import readline
        except ImportError:  # e.g. a Python built without it: plain input() still works
            self.readline = None
            return
        self.readline = readline
        readline.set_history_length(HISTORY_LENGTH)
        with contextlib.suppress(OSError):
            readline.read_history_file(path)

    def save(self) -> None:
        if self.readline is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(self.path)
        except OSError as exc:
            print(f"(history not saved: {exc.strerror})", file=sys.stderr)


def render(reply: str, tty: bool) -> str:
    if not tty:
        return reply if reply else "(no reply)"
    lines = (reply or "(no reply)").splitlines() or [""]
    body = "\n".join(["< " + lines[0], *("  " + line for line in lines[1:])])
    return f"{body}\n\x1b[2m{'-' * 40}\x1b[0m"


def banner(number: str, services: Services) -> str:
    monitors = ", ".join(services.monitors.names) or "none configured"
    store = "Redis" if services.settings.redis_url else "in-memory"
    return (
        f"Operator console, texting as {mask(number)} (sessions: {store}; monitors: {monitors}).\n"
        "Type help for commands, /quit or Ctrl-D to leave."
    )


def run(settings: Settings, number: str, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    tty = stdin.isatty() and out.isatty()
    quiet_logging(tty)
    editor = LineEditor(history_path()) if tty else None
    read: Callable[[], str | None] = (lambda: _read_tty(PROMPT)) if tty else (lambda: _read_pipe(stdin))
    with asyncio.Runner() as runner:
        # The console waits for slow answers and is not rate limited like an SMS sender.
        limit = max(settings.rate_limit_per_min, CONSOLE_RATE_LIMIT_PER_MIN)
        services = Services.open(settings.model_copy(update={"rate_limit_per_min": limit}), sms_out=False)
        try:
            if tty:
                print(banner(number, services), file=out, flush=True)
            while True:
                try:
                    line = read()
                except KeyboardInterrupt:  # drop the line being typed, as a shell does
                    print(file=out)
                    continue
                if line is None or line.strip().lower() in LEAVE:
                    break
                if not line.strip():
                    continue
                try:
                    reply = runner.run(services.pipeline.handle(Inbound(number, line, "CH" + uuid.uuid4().hex)))
                except KeyboardInterrupt:
                    print("(interrupted)", file=out, flush=True)
                    continue
                print(render(reply, tty), file=out, flush=True)
        finally:
            runner.run(services.aclose())
            if editor is not None:
                editor.save()
    return 0


def _read_tty(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        print()
        return None


def _read_pipe(stdin: TextIO) -> str | None:
    line = stdin.readline()
    return line.rstrip("\r\n") if line else None
