"""Logging for every `operator` process: one line per record, nothing injected, no credentials.

- Control characters (CR, LF, ESC, NUL, bidi marks, ...) in a record's message and
  arguments are escaped, so text from a request can neither split a line nor drive a terminal.
- Credentials in any URL (`scheme://user:password@host`) are replaced by `***` whatever
  logged it, as a second line of defence behind `SecretUrl`.
- httpx and httpcore log every request URL at INFO; they are held at WARNING.

Cost: one `isprintable()` and one regex search per record, on the final message only.
"""

from __future__ import annotations

import logging
import re

from bot.security import escape_controls

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("httpx", "httpcore", "hpack")  # request URLs at INFO, frames at DEBUG
_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")


def redact(text: str) -> str:
    """`text` with control characters escaped and URL credentials replaced by `***`."""
    return _USERINFO.sub("***@", escape_controls(text))


class SafeFormatter(logging.Formatter):
    """A Formatter whose message part is always one safe line (tracebacks keep their lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = redact(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:
        return _USERINFO.sub("***@", super().formatException(ei))  # type: ignore[arg-type]


def configure_logging(level: str | int = "INFO") -> None:
    """Root handler on stderr with `SafeFormatter`; the chatty HTTP libraries held at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])  # a no-op where handlers exist (pytest)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
