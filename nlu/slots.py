"""Single-value answers: list choices, yes/no, and names picked from a configured list.

A name (service, metric) is only ever returned as an element of the list it was matched
against, never as the user's text, so nothing typed reaches a query. Words carrying quotes,
braces, ``$``, ``*`` or other non-name characters do not match at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from rapidfuzz import utils

from nlu.fuzzy import close_matches
from nlu.text import clean, tokenize

_ORDINALS: Final = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
ORDINAL_WORDS: Final = frozenset(_ORDINALS)
# "2", "#2", "2nd", "2)"; three digits are plenty for any list we send by SMS.
_NUMBERED: Final = re.compile(r"#?(\d{1,3})(?:st|nd|rd|th|\))?")
_CHOICE_PREFIXES: Final = frozenset({"#", "number", "option", "item", "choice"})

YES_WORDS: Final = frozenset({"y", "yes", "yep", "yeah", "yea", "ya", "yup", "sure", "ok", "okay", "confirm"})
NO_WORDS: Final = frozenset({"n", "no", "nope", "nah", "nay"})

# What a typed service or metric name may look like: ASCII letters and digits plus the
# separators names use. Anything else in the word (quotes, braces, `$`, `*`) means no match.
_NAME_LIKE: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
# A unique prefix this long names a service (``work`` → worker, ``pay`` → payments).
_MIN_PREFIX: Final = 3


def match_choice(text: str, *, upper: int | None = None) -> int | None:
    """A 1-based list choice: ``2``, ``#2``, ``2nd``, ``second``, ``number 2``; None otherwise.

    With ``upper``, choices above it (the list's length) are None, as are 0 and negatives.
    """
    words = tokenize(text)
    if len(words) == 2 and words[0] in _CHOICE_PREFIXES:
        words = words[1:]
    if len(words) != 1:
        return None
    return _choice_word(words[0], upper)


def yes_no_word(token: str) -> bool | None:
    """``match_yes_no`` for one word of ``tokenize``: letters and digits alone are already clean."""
    if token.isalnum():
        return True if token in YES_WORDS else False if token in NO_WORDS else None
    return match_yes_no(token)


def match_yes_no(text: str) -> bool | None:
    """True for yes/y/yep/yeah/…, False for no/n/nope/…, None for anything else."""
    answer = clean(text)
    if answer in YES_WORDS:
        return True
    if answer in NO_WORDS:
        return False
    return None


def match_name(word: str, names: Sequence[str]) -> str | None:
    """The element of ``names`` that ``word`` means: exact, one unique prefix, or a close typo.

    None when nothing is close, when two names are equally close (better to ask than to show
    the wrong service), or when ``word`` holds characters no name has.
    """
    word = clean(word)
    if not names or not _NAME_LIKE.fullmatch(word):
        return None
    processed = _processed(tuple(names))
    query = utils.default_process(word)
    exact = [names[i] for i, p in enumerate(processed) if p == query]
    if exact:
        return exact[0]
    if len(query) >= _MIN_PREFIX:
        prefixed = [names[i] for i, p in enumerate(processed) if p.startswith(query)]
        if len(prefixed) == 1:
            return prefixed[0]
    hits = close_matches(query, processed, processed=True)
    if not hits or (len(hits) > 1 and hits[1][0] == hits[0][0] and processed[hits[1][1]] != processed[hits[0][1]]):
        return None
    return names[hits[0][1]]


@lru_cache(maxsize=64)
def _processed(names: tuple[str, ...]) -> tuple[str, ...]:
    """Names as rapidfuzz compares them; the configured lists rarely change, so cache them."""
    return tuple(utils.default_process(name) for name in names)


def choice_word(word: str) -> int | None:
    """One token as a choice (no upper bound); used while scanning a message's slots."""
    return _choice_word(word, None)


def _choice_word(word: str, upper: int | None) -> int | None:
    numbered = _NUMBERED.fullmatch(word) if word[:1].isdigit() or word[:1] == "#" else None  # the regex's start
    number = int(numbered.group(1)) if numbered else _ORDINALS.get(word)
    if number is None or number < 1 or (upper is not None and number > upper):
        return None
    return number
