"""What the conversation says to texts that ask no monitor question, and the cues it reads itself.

Small talk gets one friendly line with a hint; an action Operator has no command for gets a
plain "I can't do that (yet)", never an answer that looks as if it acted. A command that
changes something runs only when its own word was typed (not a typo of it).
"""

from __future__ import annotations

import itertools
import re

from dialogs.registry import CommandSpec
from nlu.text import tokenize, worded

SMALL_TALK_HINT = "Text status, alerts or logs <service> when you need me; help lists the rest."
SMALL_TALK = f"Hi! {SMALL_TALK_HINT}"
# Small talk is answered in kind: a "thx" that gets "Hi!" reads as if nobody listened.
_THANKS = frozenset(
    {
        "thanks",
        "thank",
        "thx",
        "thnx",
        "tx",
        "ty",
        "tyvm",
        "ta",
        "cheers",
        "merci",
        "helps",
        "helped",
        "helpful",
        "useful",
        "\U0001f64f",
    }
)
_BYE = frozenset({"bye", "later", "ttyl", "night", "nite", "gn"})
_NOTED = frozenset(
    {
        "ok",
        "okay",
        "k",
        "kk",
        "cool",
        "nice",
        "great",
        "perfect",
        "awesome",
        "sweet",
        "good",
        "got",
        "roger",
        "copy",
        "np",
        "noted",
        "understood",
        "alright",
        "fine",
        "gotcha",
        "brilliant",
        "excellent",
        "\U0001f44d",
        "\U0001f44c",
        "\u2705",
    }
)

# Words that make a text a variation of the last question ("how about web", "memory too").
_CUES = frozenset({"about", "too", "same", "instead", "also", "well"})


def small_talk(text: str) -> str:
    """One line in kind - thanks, goodbye, noted, else hello - then what to text."""
    said = set(tokenize(text)) | set(text)
    opener = (
        "You're welcome."
        if not said.isdisjoint(_THANKS)
        else "Bye for now."
        if not said.isdisjoint(_BYE)
        else "OK."
        if not said.isdisjoint(_NOTED)
        else "Hi!"
    )
    return f"{opener} {SMALL_TALK_HINT}"


def cant_do(verb: str) -> str:
    return f"I can't do that (yet): Operator reads your monitors, it does not {verb}. Send help for what it can do."


def follow_up_cue(text: str) -> bool:
    """Whether ``text`` varies the last question ("what about memory") rather than asking afresh."""
    return not _CUES.isdisjoint(tokenize(text))


def points_back(text: str) -> bool:
    """Whether ``text`` names its object only by pointing ("silence that one", "ack it")."""
    return not _POINTERS.isdisjoint(tokenize(text))


_POINTERS = frozenset({"it", "that", "this", "those", "them"})


def said_exactly(text: str, spec: CommandSpec) -> bool:
    """Whether one of ``spec``'s own words (or two-word phrases) is in ``text`` as typed, not a typo of one."""
    words = {" ".join(w.casefold().split()) for w in (*spec.all_words, *spec.phrases, *spec.ref_words)}
    tokens = [t for t in tokenize(text) if worded(t)]  # "😴 3a": the code is typed
    if spec.codes and tokens and (code := re.fullmatch(r"'?\d{1,4}([a-z]{1,2})'?", tokens[0])):
        return code.group(1) in spec.codes  # a pager reply code ("4a") is typed exactly, never guessed
    return any(t in words for t in tokens) or any(f"{a} {b}" in words for a, b in itertools.pairwise(tokens))
