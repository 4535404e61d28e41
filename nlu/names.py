"""Configured names (services, metrics) as people type them: exact, prefix, typo, or abbreviated.

``NameTable`` is built once per configured list and answers one token in a dict lookup when the
token is a name, a prefix or a known abbreviation, and at worst one rapidfuzz pass (typos).
An abbreviation is how thumbs shorten a word: vowels and doubled letters dropped, first letter
kept (``pymnts`` → payments, ``wrkr`` → worker, ``ath`` → auth). A token that fits two names
equally well fits none: better to ask than to show the wrong service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from rapidfuzz import utils

from nlu.fuzzy import FuzzyIndex

# What a typed name may look like: ASCII letters and digits plus the separators names use.
_NAME_LIKE: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MIN_PREFIX: Final = 3
_VOWELS: Final = frozenset("aeiouy")


def is_abbreviation(token: str, name: str) -> bool:
    """``token`` keeps ``name``'s first letter and is the rest of it with letters left out.

    At least three letters and half the name, so ``ws`` is not ``web-server``; only vowels,
    doubled letters and separators may be left out, with any consonant dropped only at the end
    (``pymnt`` for payments), so ``wok`` is not ``worker`` but ``wrkr`` is.
    """
    if not name or len(token) < _MIN_PREFIX or not len(name) / 2 <= len(token) < len(name) or token[0] != name[0]:
        return False
    # "paymts": most letters kept, first and last among them.
    if 5 * len(token) >= 3 * len(name) and token[-1] == name[-1] and _subsequence(token, name):
        return True
    i = 0
    for position, letter in enumerate(name):
        if i < len(token) and token[i] == letter:
            i += 1
        elif i < len(token) and not (letter in _VOWELS or letter in "._-" or name[position - 1] == letter):
            return False
    return i == len(token)


def _subsequence(token: str, name: str) -> bool:
    letters = iter(name)
    return all(ch in letters for ch in token)


@dataclass(frozen=True, slots=True)
class Abbreviations:
    """Which of ``names`` a token abbreviates (``is_abbreviation``), built once: only names with the
    token's first letter are tried, and only when they hold all of its letters (a cheap test first)."""

    names: tuple[str, ...]
    _by_initial: dict[str, tuple[tuple[int, frozenset[str]], ...]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for initial in {n[:1] for n in self.names}:
            self._by_initial[initial] = tuple((i, frozenset(n)) for i, n in enumerate(self.names) if n[:1] == initial)

    def of(self, token: str) -> list[int]:
        """Indexes into ``names`` of the names ``token`` abbreviates, in order."""
        letters = set(token)
        found = self._by_initial.get(token[:1], ())
        return [i for i, used in found if letters <= used and is_abbreviation(token, self.names[i])]


@dataclass(frozen=True, slots=True)
class NameTable:
    """One configured list of names, with the lookups ``find`` needs precomputed."""

    names: tuple[str, ...]
    extra: dict[str, str] = field(default_factory=dict)  # everyday word → name ("ram" → memory)
    _exact: dict[str, str] = field(default_factory=dict, init=False)
    processed: tuple[str, ...] = field(default=(), init=False)  # as rapidfuzz compares them
    _typos: FuzzyIndex = field(default=FuzzyIndex(()), init=False)
    _abbreviations: Abbreviations = field(default=Abbreviations(()), init=False)
    _prefixed: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False)  # each prefix of 3+ letters

    def __post_init__(self) -> None:
        exact = {utils.default_process(n): n for n in self.names}
        for word, name in self.extra.items():
            exact.setdefault(word, name)
        object.__setattr__(self, "_exact", exact)
        processed = tuple(utils.default_process(n) for n in self.names)
        object.__setattr__(self, "processed", processed)
        object.__setattr__(self, "_typos", FuzzyIndex(processed))
        object.__setattr__(self, "_abbreviations", Abbreviations(processed))
        prefixed: dict[str, list[int]] = {}
        for i, p in enumerate(processed):
            for end in range(_MIN_PREFIX, len(p) + 1):
                prefixed.setdefault(p[:end], []).append(i)
        object.__setattr__(self, "_prefixed", {k: tuple(v) for k, v in prefixed.items()})

    def exact(self, token: str) -> str | None:
        """The name ``token`` spells exactly (or an everyday word for it), else None."""
        return self._exact.get(token)

    def find(self, token: str, typos: list[tuple[int, int]] | None = None) -> str | None:
        """The name ``token`` means: exact, unique prefix, unique abbreviation, or a unique closest typo.

        ``typos``: the names' ``close_matches`` hits for ``token`` when the caller already has them."""
        found = self._exact.get(token)
        if found is not None or not self.names or not _NAME_LIKE.fullmatch(token):
            return found
        if len(token) >= _MIN_PREFIX:
            # A prefix or an abbreviation keeps the first letter: only names starting with it.
            prefixed = self._prefixed.get(token, ())
            if len(prefixed) == 1:
                return self.names[prefixed[0]]
            if prefixed:
                return None
            shortened = self._abbreviations.of(token)
            if len(shortened) == 1:
                return self.names[shortened[0]]
            if shortened:
                return None
        return self.typo(token, typos)

    def typo(self, token: str, hits: list[tuple[int, int]] | None = None) -> str | None:
        """The one name ``token`` is a typo of (see ``nlu.fuzzy``), else None."""
        hits = self._typos.match(token) if hits is None else hits
        if not hits or (len(hits) > 1 and hits[1][0] == hits[0][0]):
            return None
        return self.names[hits[0][1]]
