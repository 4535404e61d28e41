"""The start-up fuzzy index finds exactly what the plain rapidfuzz scan finds, in the same order."""

from __future__ import annotations

import random

import pytest
from rapidfuzz import utils

from nlu.fuzzy import FuzzyIndex, close_matches

CHOICES = tuple(
    utils.default_process(w)
    for w in (
        "status", "alerts", "metrics", "logs", "db", "gateway", "silence", "silences", "escalate", "acknowledge",
        "api", "web", "worker", "payments", "checkout", "notifications", "gateway-internal", "cpu", "memory",
        "replication_lag", "p99", "up", "happening", "broken", "a", "ab", "abc",
    )
)  # fmt: skip


def _typed(word: str, rng: random.Random) -> str:
    """``word`` with one or two thumb slips: a letter added, dropped, changed or two swapped."""
    for _ in range(rng.randint(1, 2)):
        at = rng.randrange(len(word) + 1)
        slip = rng.randrange(4)
        letter = rng.choice("aeilmnorstuy-_ 1")
        if slip == 0:
            word = word[:at] + letter + word[at:]
        elif slip == 1 and word:
            word = word[:at] + word[at + 1 :]
        elif slip == 2 and word:
            word = word[:at] + letter + word[at + 1 :]
        elif len(word) > 1:
            at = min(at, len(word) - 2)
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word


@pytest.mark.parametrize("seed", range(4))
def test_index_matches_the_scan(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible typos, not secrets
    index = FuzzyIndex(CHOICES)
    words = [_typed(rng.choice(CHOICES), rng) for _ in range(3000)] + ["", "x" * 45, "STATUS!", "wrkr", "#2"]
    found = 0
    for word in words:
        hits = index.match(word)
        assert hits == close_matches(word, CHOICES, processed=True), word
        found += bool(hits)
    assert found > len(words) // 3  # the slips were mostly close enough to be found


def test_short_and_long_words() -> None:
    index = FuzzyIndex(CHOICES)
    assert index.match("stauts") == [(1, CHOICES.index("status"))]  # a swap in a short word: one edit
    assert index.match("notifcatons") == [(2, CHOICES.index("notifications"))]  # two edits in a long one
    assert index.match("ac") == []  # two letters: exact only
    assert index.match("zzzzzz") == []
