"""Words a `LogResult` for SMS: one summary line, then the latest error lines.

    web, last 1h: 37 errors.
    14:02 payment timeout x12
    13:58 db pool exhausted

The text lists about as many lines as were fetched, more than one SMS page holds:
the reply layer cuts it into pages and the user reads the rest with `more`.
Only GSM-7 characters are added here (an ellipsis would switch the whole SMS to UCS-2).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from monitors.base import LogLine, LogResult
from monitors.spans import window_text

MAX_MESSAGE_CHARS = 80
_SPACE = re.compile(r"\s+")


def trim(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One line, whitespace squeezed, cut to `limit` characters with `...`."""
    flat = _SPACE.sub(" ", message).strip()
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def short_time(ts: datetime, now: datetime) -> str:
    """`14:02` for today (in `now`'s zone), `Nov25 14:02` for an older day."""
    zone = now.tzinfo or UTC
    local = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(zone)
    today = (now if now.tzinfo else now.replace(tzinfo=UTC)).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%b%d %H:%M")


def collapse(lines: list[LogLine]) -> list[tuple[LogLine, int]]:
    """Identical messages (after trimming) folded into their newest occurrence, with a count.

    Not only neighbours: a flapping dependency interleaves the same error with others,
    and on a phone "payment timeout x12" says more than twelve scattered copies.
    """
    order: list[str] = []
    newest: dict[str, LogLine] = {}
    counts: dict[str, int] = {}
    for line in lines:  # newest first, so the first one seen keeps its place
        key = trim(line.message)
        if key not in newest:
            order.append(key)
            newest[key] = line
            counts[key] = 0
        counts[key] += 1
    return [(newest[key], counts[key]) for key in order]


def format_logs(result: LogResult, now: datetime) -> str:
    """The SMS text for `logs <service> <window>`."""
    head = f"{result.service}, last {window_text(result.window)}: "
    if result.error_count == 0 and not result.lines:
        return head + ("no errors in the newest part read." if result.partial else "no errors.")
    noun = "error" if result.error_count == 1 else "errors"
    total = f"at least {result.error_count}" if result.partial else str(result.error_count)
    out = [head + f"{total} {noun}."]
    for line, count in collapse(result.lines):
        text = f"{short_time(line.ts, now)} {trim(line.message)}"
        out.append(text + (f" x{count}" if count > 1 else ""))
    return "\n".join(out)
