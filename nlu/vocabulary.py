"""The words Operator understands as commands: a ``Vocabulary`` the caller hands to ``parse``.

``nlu`` owns no command list of its own: the command registry (in ``dialogs``) builds one
``Vocabulary`` from its records at start-up and passes it in, so a command is declared once.
Everything derived here (the flat alias list, the alias → command map, the phrase lengths) is
computed once when the vocabulary is built, so matching an SMS costs a dict lookup and, at
worst, one rapidfuzz pass, however many messages follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

# Carrier keywords (Twilio's default opt-out/opt-in list) and other real words one typo away
# from an alias: they are only ever matched exactly, never read as a typo ("start" is not "stat").
CARRIER_KEYWORDS: Final = frozenset(
    {"start", "stop", "stopall", "unstop", "unsubscribe", "end", "quit", "revoke", "optout", "optin"}
)


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity: a cache key per vocabulary
class Vocabulary:
    """Commands (help order) with their words, plus the lookup tables ``parse`` needs.

    ``commands`` maps each command to its words (the command word first, then synonyms; a
    word with a space is a phrase such as ``start over``). ``phrases`` are example phrases
    people text for a command, matched whole like multi-word words. ``escape`` commands work
    whatever a dialog waits for: an exact word of theirs is never read as a slot answer.
    ``codes`` are pager reply-code suffixes: ``4a`` is the command of ``a`` with choice 4.
    ``ref_words`` name another command when a number follows: ``log 4`` (an alert's history).
    """

    commands: Mapping[str, tuple[str, ...]]
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    escape: frozenset[str] = frozenset()
    mutating: frozenset[str] = frozenset()  # commands that change something: never read from a guess
    never_fuzzy: frozenset[str] = CARRIER_KEYWORDS
    codes: Mapping[str, str] = field(default_factory=dict)  # suffix -> command
    ref_words: Mapping[str, str] = field(default_factory=dict)  # word -> command, when a number follows
    # Derived once in __post_init__.
    names: tuple[str, ...] = field(init=False)
    alias_to_command: Mapping[str, str] = field(init=False)
    word_aliases: tuple[str, ...] = field(init=False)
    word_commands: tuple[str, ...] = field(init=False)
    phrase_aliases: tuple[str, ...] = field(init=False)
    phrase_commands: tuple[str, ...] = field(init=False)
    phrase_lengths: tuple[int, ...] = field(init=False)  # longest first: "start over" before "start"

    def __post_init__(self) -> None:
        pairs = [(w, c) for c, words in self.commands.items() for w in words]
        pairs += [(p, c) for c, phrases in self.phrases.items() for p in phrases]
        table: dict[str, str] = {}
        for word, command in pairs:
            key = " ".join(word.casefold().split())
            if table.setdefault(key, command) != command:
                raise ValueError(f"{word!r} names both {table[key]} and {command}")
        words = tuple(a for a in table if " " not in a)
        phrases = tuple(a for a in table if " " in a)
        derived = {
            "names": tuple(self.commands),
            "alias_to_command": MappingProxyType(table),
            "word_aliases": words,
            "word_commands": tuple(table[a] for a in words),
            "phrase_aliases": phrases,
            "phrase_commands": tuple(table[a] for a in phrases),
            "phrase_lengths": tuple(sorted({len(p.split()) for p in phrases}, reverse=True)),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
