"""Turning an SMS into tokens: case, surrounding punctuation and spacing stop mattering.

Only sentence punctuation is stripped from the ends of a word (``STATUS!!``, ``Logs,``);
anything else (quotes, braces, ``$``, ``*``) stays inside the token, so such a word can never
match a service or metric name. Apostrophes go (``what's`` → ``whats``, ``how's`` → ``hows``),
and ``&``, ``+``, ``/`` and commas between words read as ``and`` (``status/alerts``).

``drop_fillers`` removes the words that carry no meaning in an on-call text (``show me``,
``pls``, ``the``, ``can you``, ``hey``, ``any chance``) but never one the caller marks as
meaningful (a configured service or metric name, a command word), and never all of them:
a text made only of fillers is returned as it came (``hey`` is a greeting, not nothing).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Final

# Whitespace (any, including control characters) and list separators split words.
_SPLIT: Final = re.compile(r"[\s,;]+")
# "status/alerts", "cpu&mem", "status+alerts": a joiner between two words is a word of its own.
_JOINER: Final = re.compile(r"(?<=[^\s/&+])\s*[/&+]\s*(?=[^\s/&+])|(?<=\s)[&+](?=\s)")
# "alerts, status": a comma between words joins two things like "and" does (not "1,5").
_COMMA: Final = re.compile(r"(?<=\D),|,(?=\D)")
# Trailing/leading sentence punctuation, including the lookalikes phones substitute.
_EDGE_PUNCTUATION: Final = ".,:;!?…¡¿"
_APOSTROPHES: Final = str.maketrans("", "", "'’‘`")
# Invisible format characters phones and pastes slip in (zero-width space/joiners, bidi marks,
# BOM, soft hyphen): they carry no meaning, so "\u200bstatus" is "status".
_INVISIBLE: Final = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# An SMS is at most ~1600 characters; nothing useful comes after the first few words, and a
# cap keeps a pasted novel from costing a fuzzy pass per word.
MAX_TOKENS: Final = 24

# Words that never change what an on-call text asks for. Kept small and boring on purpose:
# a word that might be a name (a service called "check") is protected by ``keep``.
FILLERS: Final = frozenset(
    {
        "show", "me", "the", "pls", "plz", "please", "can", "could", "would", "will", "you", "u", "ya",
        "hey", "any", "chance", "whats", "what", "is", "are", "was", "were", "it", "its", "i", "we", "us",
        "give", "get", "got", "tell", "let", "see", "know", "need", "want", "wanna", "gimme", "lemme",
        "a", "an", "of", "on", "in", "for", "from", "to", "at", "with", "about", "my", "our", "this", "that",
        "there", "theres", "anything", "something", "everything", "just", "quick", "quickly", "rn",
        "right", "now", "so", "um", "uh", "ugh", "hmm", "do", "does", "did",
        "have", "has", "how", "hows", "which", "who", "whos", "why", "list", "current", "currently",
        "like", "some", "and", "then", "also", "too", "well", "as", "same", "try", "instead",
        "only", "one", "ones", "thing", "stuff", "be", "being", "been", "doing", "going",
        "here", "whatever", "real", "check", "look", "looks", "looking", "into", "during", "within", "over",
        "overnight", "tonight", "lately", "recently", "recent", "latest",
    }
)  # fmt: skip


def clean(word: str) -> str:
    """Lower-case a word or phrase and strip sentence punctuation; a bare ``?`` stays ``?``."""
    lowered = " ".join(word.casefold().translate(_APOSTROPHES).split())
    stripped = lowered.strip(_EDGE_PUNCTUATION).strip()
    if not stripped and "?" in lowered:
        return "?"
    return stripped


def tokenize(text: str) -> list[str]:
    """Cleaned, non-empty words of ``text``, at most ``MAX_TOKENS`` of them."""
    words: list[str] = []
    text = _INVISIBLE.sub("", text)
    for raw in _SPLIT.split(_JOINER.sub(" and ", _COMMA.sub(" and ", text))):
        word = clean(raw)
        if word:
            words.append(word)
            if len(words) == MAX_TOKENS:
                break
    return words


def drop_fillers(tokens: Sequence[str], keep: Collection[str] = ()) -> list[str]:
    """``tokens`` without fillers, keeping every word in ``keep``; all of them if nothing is left."""
    content = [t for t in tokens if t not in FILLERS or t in keep]
    return content if content else list(tokens)
