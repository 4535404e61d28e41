"""The time a log line was written, read from the line itself. Pure functions, no I/O.

Recognised (searched near the start of the line, first match wins):
    {"time"|"ts"|"timestamp"|"@timestamp": ISO string or epoch s/ms/us/ns, ...}   JSON lines
    2026-11-30T06:12:01.123Z, 2026-11-30 06:12:01,123 +02:00                      ISO 8601 / RFC 3339
    [30/Nov/2026:06:12:01 +0000]                                                  apache/nginx access
    [Mon Nov 30 06:12:01.123456 2026]                                             apache error
    2026/11/30 06:12:01                                                           nginx error
    Nov 30 06:12:01                                                               syslog (no year)
A time without a zone is this machine's local time, as the program that wrote it saw it.
A syslog time without a year is put in the latest year that is not in the future.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
HEAD = 120  # a timestamp further into the line is part of the message, not its time

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s?(Z|[+-]\d{2}:?\d{2})?"
)
_APACHE = re.compile(r"\[(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")
_APACHE_ERROR = re.compile(r"\[[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (\d{4})\]")
_NGINX = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_SYSLOG = re.compile(r"^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\b")

JSON_TIME_KEYS = ("time", "ts", "timestamp", "@timestamp", "t")
JSON_MESSAGE_KEYS = ("msg", "message", "error", "err")
JSON_LEVEL_KEYS = ("level", "severity", "lvl", "log.level")


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    digits = text.replace(":", "")
    sign = -1 if digits[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5])))


def _fraction(text: str | None) -> int:
    return int((text or "0").ljust(6, "0")[:6])


def _aware(moment: datetime, zone: timezone | None) -> datetime:
    return moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()  # naive = local


def epoch_time(value: float) -> datetime:
    """Seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by size."""
    for scale in (1, 1e3, 1e6, 1e9):
        if abs(value) / scale < 1e11:  # 1e11 s is the year 5138: the unit must be smaller
            return datetime.fromtimestamp(value / scale, UTC)
    raise ValueError("epoch out of range")


def _json_time(value: object) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return epoch_time(float(value))
    if isinstance(value, str):
        match = _ISO.match(value)
        if match:
            return _iso(match)
        try:
            return epoch_time(float(value))
        except ValueError:
            return None
    return None


def _iso(m: re.Match[str]) -> datetime:
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    return _aware(datetime(y, mo, d, h, mi, s, _fraction(m.group(7))), _zone(m.group(8)))


def json_fields(line: str) -> dict[str, object] | None:
    """The object of a JSON line, or None when the line is not one."""
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def json_time(data: dict[str, object]) -> datetime | None:
    for key in JSON_TIME_KEYS:
        if key in data:
            try:
                found = _json_time(data[key])
            except (ValueError, OverflowError, OSError):
                found = None
            if found is not None:
                return found
    return None


def text_time(line: str, now: datetime) -> tuple[datetime, str] | None:
    """The time of a plain-text line and the line without a leading timestamp, or None
    (a continuation line, a stack frame, ...)."""
    head = line[:HEAD]
    try:
        if m := _ISO.search(head):
            moment = _iso(m)
        elif m := _APACHE.search(head):
            day, year, h, mi, s = (int(m.group(i)) for i in (1, 3, 4, 5, 6))
            moment = datetime(year, _MONTHS[m.group(2).lower()], day, h, mi, s, tzinfo=_zone(m.group(7)))
        elif m := _APACHE_ERROR.search(head):
            moment = _aware(
                datetime(
                    int(m.group(7)),
                    _MONTHS[m.group(1).lower()],
                    int(m.group(2)),
                    int(m.group(3)),
                    int(m.group(4)),
                    int(m.group(5)),
                    _fraction(m.group(6)),
                ),
                None,
            )
        elif m := _NGINX.search(head):
            y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
            moment = _aware(datetime(y, mo, d, h, mi, s), None)
        elif m := _SYSLOG.match(head):
            moment = _syslog(m, now)
        else:
            return None
    except (KeyError, ValueError):  # "Feb 30", an unknown month: not a time after all
        return None
    # The reply shows its own short time: drop a timestamp that opens the line.
    message = line[m.end() :].lstrip(" \t-|:]") if m.start() <= 1 else line
    return moment, message or line


def _syslog(m: re.Match[str], now: datetime) -> datetime:
    month, day = _MONTHS[m.group(1).lower()], int(m.group(2))
    clock = (int(m.group(3)), int(m.group(4)), int(m.group(5)))
    moment = _aware(datetime(now.year, month, day, *clock), None)
    if moment > now + timedelta(days=1):  # December's lines read in January
        moment = _aware(datetime(now.year - 1, month, day, *clock), None)
    return moment
