"""Time windows: ``15m``, ``90 min``, ``2 hours``, ``1.5h``, ``1h30m``, ``last hour``, ``an hour``.

Windows are bounded (``WINDOW_MIN`` … ``WINDOW_MAX``): a window outside the limits is still
recognised as a window (so the bot can say why it was refused) but never returned as a
duration. ``45s`` is such a window: below a minute there is nothing useful to query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from nlu.text import tokenize
from nlu.vocabulary import STOPWORDS

WINDOW_MIN: Final = timedelta(minutes=1)
WINDOW_MAX: Final = timedelta(days=7)

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_UNITS: Final = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * _DAY),
    # Recognised only so that "3 months" is refused as too long instead of ignored.
    **dict.fromkeys(("mo", "month", "months"), 30 * _DAY),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 365 * _DAY),
}
# Units that stand alone after "last"/"past" ("last hour"); single letters never do.
_WORD_UNITS: Final = frozenset(u for u in _UNITS if len(u) > 2)
_NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "half": 0.5,
}  # fmt: skip
_PREFIXES: Final = frozenset({"last", "past", "previous"})
# Digits are capped so a 400-digit "number" is not a window (and never overflows timedelta).
_NUMBER: Final = r"\d{1,6}(?:\.\d{1,3})?"
_AMOUNT: Final = re.compile(_NUMBER)
_COMPACT: Final = re.compile(rf"(?:{_NUMBER}[a-z]{{1,7}})+")  # 15m, 2hrs, 1h30m
_COMPACT_PART: Final = re.compile(rf"({_NUMBER})([a-z]{{1,7}})")


@dataclass(frozen=True, slots=True)
class WindowMatch:
    """A window found in a token list: its length in seconds, its words, and how many it used."""

    seconds: float
    text: str
    consumed: int

    @property
    def duration(self) -> timedelta | None:
        """The window as a duration, or None when it is outside ``WINDOW_MIN`` … ``WINDOW_MAX``."""
        if WINDOW_MIN.total_seconds() <= self.seconds <= WINDOW_MAX.total_seconds():
            return timedelta(seconds=self.seconds)
        return None


def scan_window(tokens: Sequence[str], start: int) -> WindowMatch | None:
    """The window that begins at ``tokens[start]``, if one does (inside the limits or not)."""
    i = start
    if i < len(tokens) and tokens[i] in _PREFIXES:
        i += 1
        if i < len(tokens) and tokens[i] in _WORD_UNITS:  # "last hour"
            return _found(tokens, start, i + 1, _UNITS[tokens[i]])
    if i >= len(tokens):
        return None
    word = tokens[i]
    compact = _compact_seconds(word)
    if compact is not None:
        return _found(tokens, start, i + 1, compact)
    amount = _amount(word)
    if amount is None:
        return None
    i += 1
    if word == "half" and i < len(tokens) and tokens[i] in ("a", "an"):  # "half an hour"
        i += 1
    if i < len(tokens) and tokens[i] in _UNITS and (tokens[i] in _WORD_UNITS or word[0].isdigit()):
        return _found(tokens, start, i + 1, amount * _UNITS[tokens[i]])
    return None


def parse_window(text: str) -> timedelta | None:
    """The whole of ``text`` as a window within the limits, else None (``"last 2 hours"`` → 2h)."""
    tokens = [t for t in tokenize(text) if t not in STOPWORDS or t in _NUMBER_WORDS]
    found = scan_window(tokens, 0)
    if found is None or found.consumed != len(tokens):
        return None
    return found.duration


def _found(tokens: Sequence[str], start: int, end: int, seconds: float) -> WindowMatch:
    return WindowMatch(seconds=seconds, text=" ".join(tokens[start:end]), consumed=end - start)


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
