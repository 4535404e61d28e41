"""Turning an SMS into tokens: case, surrounding punctuation and spacing stop mattering.

Only sentence punctuation is stripped from the ends of a word (``STATUS!!``, ``Logs,``), and a
pair of double quotes around a whole word (``"status"``); anything else (a lone quote, braces,
``$``, ``*``) stays inside the token, so such a word can never match a service or metric name.
Apostrophes go (``what's`` → ``whats``, ``how's`` → ``hows``),
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
_APOSTROPHE_CHARS: Final = "'’‘`"
_APOSTROPHES: Final = str.maketrans("", "", _APOSTROPHE_CHARS)
# Invisible format characters phones and pastes slip in (zero-width space/joiners, bidi marks,
# BOM, soft hyphen): they carry no meaning, so "\u200bstatus" is "status".
_INVISIBLE: Final = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Texting shorthand and dropped g's, read as the word they stand for before anything else looks
# at a text (the registry's words and phrases go through the same ``tokenize``, so both sides
# agree). Only spellings that mean one thing in an on-call text: never a service-like word.
SHORTHAND: Final = {
    **dict.fromkeys(("wat", "wht", "wut", "wot", "wtf", "wth"), "what"),
    **dict.fromkeys(("wats", "wuts", "whatz"), "whats"),
    "r": "are", "ur": "your", "abt": "about", "thru": "through", "rly": "really", "sth": "something",
    "smth": "something", "nxt": "next", "moar": "more",
    **dict.fromkeys(("yday", "yest", "ystrdy", "yesterdy", "yestarday"), "yesterday"),
    **dict.fromkeys(("midnite", "midnght"), "midnight"),
    **dict.fromkeys(("lsat", "lats"), "last"),
    **dict.fromkeys(("sicne", "snce", "sinse"), "since"), "cal": "call",
    **dict.fromkeys(("frist", "fisrt"), "first"), **dict.fromkeys(("secnd", "seocnd"), "second"),
    **dict.fromkeys(("thrid", "thrd"), "third"),
    "a.m": "am", "p.m": "pm",
    **dict.fromkeys(("qry", "qury"), "query"),
    **dict.fromkeys(("qrys", "qries", "querys", "queires", "quries"), "queries"),
    **{f"{stem}in": f"{stem}ing" for stem in (
        "go", "look", "do", "happen", "run", "work", "break", "fail", "crash", "throw", "burn", "melt",
        "spik", "error", "pag", "fir", "alert", "act", "hold", "block", "lagg", "wait", "hang",
    )},
}  # fmt: skip
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
        "overnight", "tonight", "lately", "recently", "recent", "latest", "but", "long", "actually",
        "service", "services", "svc", "back", "ago", "go",
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
    for raw in _SPLIT.split(_normalised(text)):
        word = raw.strip(_EDGE_PUNCTUATION)
        if not word:
            if "?" not in raw:
                continue
            word = "?"
        if len(word) > 2 and word[0] in _QUOTES and word[-1] in _QUOTES:  # '"status"': the word quoted
            word = clean(word[1:-1])
        if word.endswith("%") and word[:-1].isalpha():  # "cpu%": the metric, not a new word
            word = word[:-1]
        if "-" in word or "_" in word:
            word = _SUFFIX.sub("", word) or word  # "process-wise", "auth-service", "worker-svc": the name
        if word:
            words.append(SHORTHAND.get(word, word))
            if len(words) == MAX_TOKENS:
                break
    if any(len(w) == 1 for w in words):
        words = _spelled(words)
    return words if _CHOICE_PREFIXES.isdisjoint(words) and _CHOICE_NOUNS.isdisjoint(words) else _choices(words)


def _normalised(text: str) -> str:
    """``text`` with joiners as ``and``, and what ``clean`` does to each word done once to all of it
    (case and apostrophes are per letter); each step only when its characters are there."""
    text = _INVISIBLE.sub("", text)
    if "," in text:
        text = _COMMA.sub(" and ", text)
    if "/" in text or "&" in text or "+" in text:
        text = _JOINER.sub(" and ", text)
    text = text.casefold()
    for apostrophe in _APOSTROPHE_CHARS:
        if apostrophe in text:
            text = text.replace(apostrophe, "")
    return text


_QUOTES: Final = frozenset('"“”«»')
# A suffix that adds nothing to the name before it.
_SUFFIX: Final = re.compile(r"(?<=[a-z0-9])[-_](?:wise|service|svc|srv|level)$")
# "number five", "option 2": a list choice said in words, read as "#5" ("alert four": "alert #4").
_CHOICE_PREFIXES: Final = frozenset({"number", "option", "item", "choice", "no", "#"})
_CHOICE_NOUNS: Final = frozenset({"alert", "alerts", "incident", "page"})
_CARDINALS: Final = {
    w: n for n, w in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"), 1)
}


def _choices(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        if out and out[-1] in _CHOICE_PREFIXES and (word in _CARDINALS or (word.isdigit() and len(word) <= 3)):
            out[-1] = f"#{_CARDINALS.get(word, word)}"
        elif out and out[-1] in _CHOICE_NOUNS and word in _CARDINALS:
            out.append(f"#{_CARDINALS[word]}")
        else:
            out.append(word)
    return out


def _spelled(words: list[str]) -> list[str]:
    """``A P I``, ``d b``: a name spelled out letter by letter, read as the name."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        joined = "".join(run)
        if len(run) >= 3 or (len(run) == 2 and not set(joined) & set("aiur")):
            out.append(joined)
        else:
            out.extend(run)
        run = []
        if word:
            out.append(word)
    return out


def worded(token: str) -> bool:
    """Whether ``token`` has a letter or digit (not an emoji or punctuation alone); most are all letters."""
    return token.isalnum() or any(ch.isalnum() for ch in token)


def drop_fillers(tokens: Sequence[str], keep: Collection[str] = ()) -> list[str]:
    """``tokens`` without fillers, keeping every word in ``keep``; all of them if nothing is left."""
    content = [t for t in tokens if t not in FILLERS or t in keep]
    return content if content else list(tokens)
