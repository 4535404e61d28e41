"""Typo tolerance shared by command, service and metric matching.

Thumb typos are mostly one swapped, missing, doubled or wrong letter, so the measure is the
optimal-string-alignment edit distance (a transposition costs 1: ``stauts`` → ``status`` is
one edit, where plain Levenshtein or a ratio would count two). How many edits a word may carry
grows with its length, so short words need an exact or near-exact match and ``banana`` or
``asdf`` never land on a command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from rapidfuzz import process, utils
from rapidfuzz.distance import OSA

# The most edits any match may carry; the per-pair limit below is usually tighter.
MAX_EDITS: Final = 2
# Beyond this a token is not a mistyped name but a paste or noise: skip the fuzzy pass.
MAX_FUZZY_LEN: Final = 40


def allowed_edits(a: str, b: str) -> int:
    """Edits tolerated between two processed words, set by the shorter one.

    1–2 letters (``m``, ``db``, ``gw``): exact only, a single edit turns them into anything.
    3–6 letters: one edit (``lgos``, ``hlep``, ``wbe``). 7 and more: two (``databse``).
    """
    return edits_for(min(len(a), len(b)))


def edits_for(shorter: int) -> int:
    """Edits tolerated when the shorter word has ``shorter`` letters (see ``allowed_edits``)."""
    if shorter <= 2:
        return 0
    if shorter <= 6:
        return 1
    return MAX_EDITS


def close_matches(word: str, choices: Sequence[str], *, processed: bool = False) -> list[tuple[int, int]]:
    """``(distance, index)`` of every choice within its allowed edits of ``word``, best first.

    Both sides go through ``utils.default_process`` (case, punctuation), which rapidfuzz 3
    only applies when asked; ``processed`` says the choices already went through it (tables
    built once), which spares processing each choice again on every call.
    """
    query = utils.default_process(word)
    if not query or len(query) > MAX_FUZZY_LEN:
        return []
    found = process.extract(
        query,
        choices,
        scorer=OSA.distance,
        processor=None if processed else utils.default_process,
        score_cutoff=MAX_EDITS,
        limit=None,
    )
    hits = [
        (int(distance), int(index))
        for choice, distance, index in found
        if distance <= allowed_edits(query, choice if processed else utils.default_process(choice))
    ]
    hits.sort()
    return hits


@dataclass(frozen=True, slots=True)
class FuzzyIndex:
    """``close_matches`` over a fixed list of processed choices, built once at start-up: the same
    hits in the same order as ``close_matches(word, choices, processed=True)``, for less.

    A word of up to six letters may carry one edit, and a choice one edit away shares the word
    itself or one of its one-letter deletions with the choice's (a substitution or swap deletes to
    the same string on both sides; an extra letter deletes to the other word): a few dict lookups
    instead of a scan. Longer words scan only the choices of a length that can match.
    """

    choices: tuple[str, ...]
    # the choice, and each choice with one letter deleted → the indexes of those choices
    _near: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False)
    # query length → (choices of a length that can match, their indexes in ``choices``)
    _by_length: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        near: dict[str, list[int]] = {}
        for i, choice in enumerate(self.choices):
            for key in {choice, *_deletions(choice)}:
                near.setdefault(key, []).append(i)
        self._near.update({key: tuple(found) for key, found in near.items()})
        lengths = {len(c) for c in self.choices}
        for size in range(_ONE_EDIT_LONGEST + 1, MAX_FUZZY_LEN + 1):
            fits = {n for n in lengths if abs(n - size) <= edits_for(min(n, size))}
            picked = [i for i, c in enumerate(self.choices) if len(c) in fits]
            self._by_length[size] = (tuple(self.choices[i] for i in picked), tuple(picked))

    def match(self, word: str) -> list[tuple[int, int]]:
        """``(distance, index)`` of every choice within its allowed edits of ``word``, best first."""
        query = utils.default_process(word)
        if not query or len(query) > MAX_FUZZY_LEN:
            return []
        if len(query) <= _ONE_EDIT_LONGEST:
            near = self._near
            found = set(near.get(query, ()))
            for key in _deletions(query):
                found.update(near.get(key, ()))
            hits = [
                (distance, i)
                for i in found
                if (distance := OSA.distance(query, self.choices[i])) <= allowed_edits(query, self.choices[i])
            ]
        else:
            choices, indexes = self._by_length[len(query)]
            scanned = process.extract(
                query, choices, scorer=OSA.distance, processor=None, score_cutoff=MAX_EDITS, limit=None
            )
            hits = [(int(d), indexes[at]) for choice, d, at in scanned if d <= allowed_edits(query, choice)]
        hits.sort()
        return hits


# Up to this many letters a word carries at most one edit (``edits_for``).
_ONE_EDIT_LONGEST: Final = 6


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]
