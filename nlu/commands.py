"""Which command a word (or two-word phrase) names: exact alias first, then typo tolerance.

When the closest aliases belong to different commands at the same edit distance, the word is
ambiguous and the caller should ask rather than guess. In this vocabulary ``repet`` is one
edit from ``repeat`` (again) and from ``reset``: guessing wrong would clear a conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlu.fuzzy import close_matches
from nlu.text import clean
from nlu.vocabulary import Vocabulary

# Ties within this many edits between different commands are ambiguous. Distances are whole
# edits, so 0 means "equally close": one edit nearer is a clear enough winner to act on.
AMBIGUITY_MARGIN = 0


def exact_command(word: str, vocabulary: Vocabulary) -> str | None:
    """The command ``word`` is an exact alias of (after case/punctuation cleaning), else None."""
    return vocabulary.alias_to_command.get(clean(word))


def match_command(word: str, vocabulary: Vocabulary) -> tuple[str | None, tuple[str, ...]]:
    """``(command, ())`` for a known or mistyped alias, ``(None, candidates)`` when ambiguous.

    ``(None, ())`` means the word is no command at all. A word with a space is matched against
    the multi-word aliases (``start over``), others against single-word ones.
    """
    word = clean(word)
    v = vocabulary
    command = v.alias_to_command.get(word)
    if command is not None:
        return command, ()
    if word in v.never_fuzzy or not word[:1].isalpha():  # "6h", "#2": no alias starts that way
        return None, ()
    if " " in word:
        return _closest(word, v.phrase_aliases, v.phrase_commands, v.names)
    return _closest(word, v.word_aliases, v.word_commands, v.names)


def _closest(
    word: str, aliases: Sequence[str], commands: Sequence[str], order: Sequence[str]
) -> tuple[str | None, tuple[str, ...]]:
    hits = close_matches(word, aliases)
    if not hits:
        return None, ()
    best = hits[0][0]
    tied = {commands[index] for distance, index in hits if distance <= best + AMBIGUITY_MARGIN}
    if len(tied) == 1:
        return tied.pop(), ()
    # Stable, predictable order for the "status or stats?" question: help order.
    return None, tuple(c for c in order if c in tied)
