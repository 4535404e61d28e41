"""Turning an SMS into tokens: case, surrounding punctuation and spacing stop mattering.

Only sentence punctuation is stripped from the ends of a word (``STATUS!!``, ``Logs,``);
anything else (quotes, braces, ``$``, ``*``) stays inside the token, so such a word can never
match a service or metric name.
"""

from __future__ import annotations

import re
from typing import Final

# Whitespace (any, including control characters) and list separators split words.
_SPLIT: Final = re.compile(r"[\s,;]+")
# Trailing/leading sentence punctuation, including the lookalikes phones substitute.
_EDGE_PUNCTUATION: Final = ".,:;!?…¡¿"
# An SMS is at most ~1600 characters; nothing useful comes after the first few words, and a
# cap keeps a pasted novel from costing a fuzzy pass per word.
MAX_TOKENS: Final = 24


def clean(word: str) -> str:
    """Lower-case a word or phrase and strip sentence punctuation; a bare ``?`` stays ``?``."""
    lowered = " ".join(word.casefold().split())
    stripped = lowered.strip(_EDGE_PUNCTUATION).strip()
    if not stripped and "?" in lowered:
        return "?"
    return stripped


def tokenize(text: str) -> list[str]:
    """Cleaned, non-empty words of ``text``, at most ``MAX_TOKENS`` of them."""
    words: list[str] = []
    for raw in _SPLIT.split(text):
        word = clean(raw)
        if word:
            words.append(word)
            if len(words) == MAX_TOKENS:
                break
    return words
