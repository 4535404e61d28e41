"""Texts that ask no question: small talk, actions Operator cannot perform, emoji.

Plain word lists read once; ``aside`` looks at a message's tokens before command matching.
A word the vocabulary has as a command always wins (``ack`` once an ack command exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

# A text made only of these (and ``NEUTRAL``) is small talk: one short line back.
SMALLTALK: Final = frozenset(
    {
        "hi", "hey", "hello", "hiya", "yo", "sup", "howdy", "gm", "morning", "evening", "night", "gn",
        "thanks", "thank", "thx", "ty", "cheers", "ta", "ok", "okay", "k", "kk", "cool", "nice", "great",
        "perfect", "awesome", "sweet", "good", "got", "roger", "np", "lol", "haha", "noted", "alright",
        "gotcha", "bye", "later",
    }
)  # fmt: skip
NEUTRAL: Final = frozenset({"bot", "there", "you", "u", "much", "a", "lot", "it", "so", "very", "mate", "team", "for"})

# Verbs for things Operator cannot do from a phone (yet): "I can't do that (yet)".
UNSUPPORTED: Final = frozenset(
    {
        "restart", "reboot", "rollback", "revert", "kill", "deploy", "redeploy", "scale", "flush", "delete",
        "failover", "mute", "unmute", "bounce", "ack", "acknowledge", "resolve", "silence", "unsilence",
        "escalate", "purge", "truncate", "promote", "drain", "cordon", "exec", "ssh", "fix", "shutdown",
        "disable", "enable", "retry", "terminate", "upgrade", "downgrade", "patch", "snooze", "vacuum",
    }
)  # fmt: skip
UNSUPPORTED_PHRASES: Final = frozenset(
    {"roll back", "turn off", "turn on", "shut down", "spin up", "spin down", "take down", "bring down", "fail over"}
)
# Polite openers before an imperative ("can you restart web", "please reboot worker").
POLITE: Final = frozenset({"please", "pls", "plz", "can", "could", "would", "you", "u", "just", "go", "now", "i",
                           "need", "to", "want", "lets", "let", "us", "we", "kindly"})
# Words between two questions in one text ("status and alerts").
JOINERS: Final = frozenset({"and", "then", "plus", "also"})


def is_smalltalk(tokens: Sequence[str]) -> bool:
    """Greetings, thanks, acknowledgements, or nothing but emoji/symbols."""
    said = [t for t in tokens if t not in NEUTRAL and any(ch.isalnum() for ch in t)]
    if not said:
        return bool(tokens) and "?" not in tokens
    return all(t in SMALLTALK for t in said)


def unsupported_verb(tokens: Sequence[str], is_command: frozenset[str] | set[str]) -> str | None:
    """The verb, when the text opens with an action Operator cannot perform and has no command for."""
    words = list(tokens)
    while words and words[0] in POLITE:
        words.pop(0)
    if not words:
        return None
    two = " ".join(words[:2])
    if two in UNSUPPORTED_PHRASES and two not in is_command:
        return two
    if words[0] in UNSUPPORTED and words[0] not in is_command:
        return words[0]
    return None


def split_questions(tokens: Sequence[str]) -> list[list[str]]:
    """The parts of ``tokens`` between joiners (one part when there is no joiner)."""
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in JOINERS:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]
