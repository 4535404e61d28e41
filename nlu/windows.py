"""Time windows as people text them, always a span that ends now.

Durations: ``15m``, ``90 min``, ``2 hrs``, ``1.5h``, ``1h30m``, ``last hour``, ``last 15`` (a bare
number of 5 or more after last/past is minutes), ``an hour``,
``half an hour``, ``an hour and a half``, ``two hours``, ``thirty mins``, ``a couple of hours``.
Clock anchors: ``since 2am``, ``since 14:00``, ``since 8:30``, ``since noon``, ``since midnight``,
``today`` (since 00:00 of today), ``yesterday`` / ``since yesterday`` (since 00:00 of yesterday:
the whole of yesterday plus today so far — a window always ends now, so that is the honest
reading). A clock time later than now means that time yesterday (``since 11pm`` at 01:00 is
two hours). Clock times are read in the time zone of the ``now`` the caller passes; the bot
passes UTC, the zone on-call logs and dashboards use. ``overnight`` is not a window: nobody
agrees when a night starts.

Windows are bounded (``WINDOW_MIN`` … ``WINDOW_MAX``): a window outside the limits is still
recognised (``90d``, ``2 weeks``, ``30s``) so the bot can say "Windows go from 1m to 7d", and
``WindowMatch.out_of_range`` says which limit it broke; it is never returned as a duration.

Cost: one regex or dict lookup per token, no allocation beyond the match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final, Literal

from nlu.text import tokenize

WINDOW_MIN: Final = timedelta(minutes=1)
WINDOW_MAX: Final = timedelta(days=7)

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_UNITS: Final = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * _DAY),
    **dict.fromkeys(("fortnight", "fortnights"), 14 * _DAY),
    # Recognised only so that "3 months" is refused as too long instead of ignored.
    **dict.fromkeys(("mo", "month", "months"), 30 * _DAY),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 365 * _DAY),
}
# Units that stand alone after "last"/"past" ("last hour"); single letters never do.
_WORD_UNITS: Final = frozenset(u for u in _UNITS if len(u) > 1)
_NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18,
    "twenty": 20, "thirty": 30, "forty": 40, "fortyfive": 45, "forty-five": 45, "fifty": 50,
    "sixty": 60, "ninety": 90, "couple": 2, "half": 0.5,
}  # fmt: skip
_PREFIXES: Final = frozenset({"last", "lst", "past", "previous", "prev"})  # "lst": thumbs at night
# Digits are capped so a 400-digit "number" is not a window (and never overflows timedelta).
_NUMBER: Final = r"\d{1,6}(?:\.\d{1,3})?"
_AMOUNT: Final = re.compile(_NUMBER)
_COMPACT: Final = re.compile(rf"(?:{_NUMBER}[a-z]{{1,7}})+")  # 15m, 2hrs, 1h30m
_COMPACT_PART: Final = re.compile(rf"({_NUMBER})([a-z]{{1,7}})")
# 2am, 2:30pm, 14:00, 8:30 (a bare "2" is a list choice, never a clock time).
_CLOCK: Final = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)?")
_CLOCK_WORDS: Final = {"midnight": time(0), "noon": time(12), "midday": time(12)}
# "last 15", "past 30": a bare number after last/past is minutes (5 and up: "last 2" says nothing).
_BARE_MINUTES: Final = re.compile(r"[5-9]|[1-9]\d{1,2}")
_HTTP_STATUS: Final = re.compile(r"[45]\d\ds")
_DAY_WORDS: Final = {"today": 0, "yesterday": 1}
_SINCE: Final = frozenset({"since", "from"})  # "from 02:00" is since 02:00 (never "logs from web")

# Every word a window may start with, other than a digit.
_STARTERS: Final = frozenset(_DAY_WORDS) | _SINCE | _PREFIXES | _WORD_UNITS | frozenset(_NUMBER_WORDS)

OutOfRange = Literal["too short", "too long"]


@dataclass(frozen=True, slots=True)
class WindowMatch:
    """A window found in a token list: its length in seconds, its words, and how many it used."""

    seconds: float
    text: str
    consumed: int

    @property
    def out_of_range(self) -> OutOfRange | None:
        """Which limit the window breaks, if any."""
        if self.seconds < WINDOW_MIN.total_seconds():
            return "too short"
        if self.seconds > WINDOW_MAX.total_seconds():
            return "too long"
        return None

    @property
    def duration(self) -> timedelta | None:
        """The window as a duration, or None when it is outside ``WINDOW_MIN`` … ``WINDOW_MAX``."""
        if self.out_of_range is None:
            return timedelta(seconds=round(self.seconds))
        return None


def windows_in(tokens: Sequence[str], now: datetime | None = None) -> list[tuple[int, WindowMatch]]:
    """Every window in ``tokens`` from left to right, each with the index it starts at (a window's
    words are not looked at again: "last 2 hours" is one window, not also "2 hours")."""
    found: list[tuple[int, WindowMatch]] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        match = scan_window(tokens, i, now) if word[:1].isdigit() or word in _STARTERS else None
        if match is None:
            i += 1
            continue
        found.append((i, match))
        i += match.consumed
    return found


def window_positions(tokens: Sequence[str], now: datetime | None = None) -> frozenset[int]:
    """The indexes of ``tokens`` that are words of a window ("an hour and a half": all four)."""
    return frozenset(i for start, found in windows_in(tokens, now) for i in range(start, start + found.consumed))


def scan_window(tokens: Sequence[str], start: int, now: datetime | None = None) -> WindowMatch | None:  # noqa: C901, PLR0911, PLR0912 - a small parser: one return per window form
    """The window that begins at ``tokens[start]``, if one does (inside the limits or not)."""
    if start >= len(tokens):
        return None
    word = tokens[start]
    if not word[:1].isdigit() and word not in _STARTERS:
        return None  # most words: no window starts here (checked first, every word of every text comes here)
    if word in _DAY_WORDS or word in _SINCE:
        return _anchored(tokens, start, now)
    i = start
    if word in _PREFIXES:
        i += 1
        if i < len(tokens) and tokens[i] in _WORD_UNITS:  # "last hour"
            return _duration(tokens, start, i + 1, 1.0, tokens[i])
        bare = _BARE_MINUTES.fullmatch(tokens[i]) if i < len(tokens) else None
        if bare and (i + 1 == len(tokens) or tokens[i + 1] not in _UNITS):  # "last 15": minutes
            return _found(tokens, start, i + 1, int(bare.group()) * _MINUTE)
    if i >= len(tokens):
        return None
    word = tokens[i]
    if word in _WORD_UNITS and _and_a_half(tokens, i + 1):  # "hour and a half"
        return _duration(tokens, start, i + 1, 1.0, word)
    if _HTTP_STATUS.fullmatch(word):  # "500s", "502s" are HTTP errors, not 500 seconds
        return None
    compact = _compact_seconds(word)
    if compact is not None:
        return _found(tokens, start, i + 1, compact)
    amount = _amount(word)
    if amount is None:
        return None
    i += 1
    if word in ("a", "an") and i < len(tokens) and tokens[i] == "couple":  # "a couple of hours"
        word, amount, i = "couple", 2.0, i + 1
    if word == "half" and i < len(tokens) and tokens[i] in ("a", "an"):  # "half an hour"
        i += 1
    if word == "couple" and i < len(tokens) and tokens[i] == "of":  # "a couple of hours"
        i += 1
    if _and_a_half(tokens, i):  # "two and a half hours"
        amount, i = amount + 0.5, i + 3
    if i < len(tokens) and tokens[i] in _UNITS and (tokens[i] in _WORD_UNITS or word[0].isdigit()):
        return _duration(tokens, start, i + 1, amount, tokens[i])
    return None


def parse_window(text: str, now: datetime | None = None) -> timedelta | None:
    """The whole of ``text`` as a window within the limits, else None (``"last 2 hours"`` → 2h)."""
    found = match_window(text, now)
    return found.duration if found is not None else None


def match_window(text: str, now: datetime | None = None) -> WindowMatch | None:
    """The whole of ``text`` as a window, inside the limits or not; None when it is not all window."""
    tokens = [t for t in tokenize(text) if t not in _FILLER]
    found = scan_window(tokens, 0, now)
    if found is None or found.consumed != len(tokens):
        return None
    return found


# Words around a window that change nothing ("for the last hour", "in the past day").
_FILLER: Final = frozenset({"the", "for", "in", "over", "during", "within", "from"})


def _found(tokens: Sequence[str], start: int, end: int, seconds: float) -> WindowMatch:
    return WindowMatch(seconds=seconds, text=" ".join(tokens[start:end]), consumed=end - start)


def _duration(tokens: Sequence[str], start: int, end: int, amount: float, unit: str) -> WindowMatch:
    if _and_a_half(tokens, end):  # "an hour and a half"
        amount, end = amount + 0.5, end + 3
    return _found(tokens, start, end, amount * _UNITS[unit])


def _and_a_half(tokens: Sequence[str], i: int) -> bool:
    return tuple(tokens[i : i + 3]) == ("and", "a", "half")


def _anchored(tokens: Sequence[str], start: int, now: datetime | None) -> WindowMatch | None:
    """``today``, ``yesterday``, ``since <clock time | today | yesterday | midnight>`` (or ``from``)."""
    now = now or datetime.now(UTC)
    since = tokens[start] in _SINCE
    i = start + 1 if since else start
    if since and i < len(tokens) and tokens[i] == "the":  # "since the 1:40am deploy"
        i += 1
    # "since the deploy at 1:30": a few words naming an event, then the time it happened.
    at_clock = next((j + 1 for j in range(i, min(i + 3, len(tokens) - 1)) if tokens[j] == "at"), None)
    if since and at_clock is not None and all(t.isalpha() for t in tokens[i : at_clock - 1]):
        i = at_clock
    if i >= len(tokens):
        return None
    word = tokens[i]
    if word in _DAY_WORDS:
        midnight = datetime.combine(now.date(), time(0), now.tzinfo) - timedelta(days=_DAY_WORDS[word])
        return _found(tokens, start, i + 1, (now - midnight).total_seconds())
    if not since:
        return None
    end = i + 1
    at = _CLOCK_WORDS.get(word)
    if at is None:
        meridiem = tokens[end] if end < len(tokens) and tokens[end] in ("am", "pm") else ""  # "2 am"
        hour = _NUMBER_WORDS.get(word)
        if meridiem and isinstance(hour, int) and word not in ("a", "an", "couple"):  # "since two a.m."
            word = str(hour)
        at = _clock(word + meridiem)
        end += bool(meridiem)
    if at is None:
        return None
    then = datetime.combine(now.date(), at, now.tzinfo)
    if then > now:
        then -= timedelta(days=1)
    return _found(tokens, start, end, (now - then).total_seconds())


def _clock(word: str) -> time | None:
    """``2am``, ``2:30pm``, ``14:00``; None for a bare number or an impossible time."""
    found = _CLOCK.fullmatch(word)
    if found is None:
        return None
    hour_text, minute_text, meridiem = found.groups()
    if minute_text is None and meridiem is None:
        return None
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _amount(word: str) -> float | None:
    if _AMOUNT.fullmatch(word):
        return float(word)
    return _NUMBER_WORDS.get(word)


def _compact_seconds(word: str) -> float | None:
    if not word[:1].isdigit() or not _COMPACT.fullmatch(word):
        return None
    total = 0.0
    for amount, unit in _COMPACT_PART.findall(word):
        if unit not in _UNITS:
            return None
        total += float(amount) * _UNITS[unit]
    return total
