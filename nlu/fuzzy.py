"""Typo tolerance shared by command, service and metric matching.

Thumb typos are mostly one swapped, missing, doubled or wrong letter, so the measure is the
optimal-string-alignment edit distance (a transposition costs 1: ``stauts`` → ``status`` is
one edit, where plain Levenshtein or a ratio would count two). How many edits a word may carry
grows with its length, so short words need an exact or near-exact match and ``banana`` or
``asdf`` never land on a command.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    shorter = min(len(a), len(b))
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
