"""The tables a reader looks words up in, built once per vocabulary and configured names.

``build_tables`` turns the registry's words and phrases (``Vocabulary.commands`` and
``.phrases``) and the configured services and metrics into dicts and tuples, so that reading a
message is a lookup per word; it is start-up work, never done per message. ``Reading`` is the
mutable draft of what a text says, frozen into an ``Intent`` by ``nlu.intent``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from rapidfuzz import utils

from nlu import lexicon
from nlu.fuzzy import FuzzyIndex
from nlu.names import Abbreviations, NameTable
from nlu.text import tokenize

T = TypeVar("T", bound="Tables")


@dataclass(slots=True)
class Reading:
    """What one text (or one part of it) says, before it is frozen into an ``Intent``."""

    command: str | None = None
    service: str | None = None
    window: timedelta | None = None
    window_rejected: str | None = None
    choice: int | None = None
    yes: bool | None = None
    metric: str | None = None
    topic: str | None = None
    ambiguous: tuple[str, ...] = ()
    unknown: list[str] = field(default_factory=list)
    smalltalk: bool = False
    unsupported: str | None = None
    also: list[Reading] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)  # further metrics named beside ``metric``
    services: list[str] = field(default_factory=list)  # further services named beside ``service``
    filter: str | None = None  # what narrows an alerts list: a severity or a label value
    guessed: set[str] = field(default_factory=set)  # slots ("service", "metric") read from a prefix/abbreviation/typo
    bare: bool = False  # the command is implied by a metric alone ("mem"), no metrics word said
    weak: bool = False  # status read from state words only ("what's up"): not a question of its own
    current: bool = False  # "now", "atm": as things are, not over the last question's window
    hint: bool = False  # the metric only from a word that hints at it ("full"): another command's word wins
    either: tuple[str, ...] = ()  # "mem or dsk?": the two names offered with "or" between them

    def slotted(self, but: str = "") -> bool:
        """Whether any slot (other than ``but``) is filled."""
        slots = ("service", "window", "window_rejected", "choice", "yes", "metric")
        return any(getattr(self, s) is not None for s in slots if s != but)


@dataclass(frozen=True, slots=True)
class Tables:
    """The lookups for one vocabulary and one set of configured names."""

    order: tuple[str, ...]  # command names, help order
    rank: Mapping[str, int]  # command name → its place in that order (ties go to the earlier)
    names: frozenset[str]
    words: Mapping[str, tuple[str, ...]]  # word → the commands it belongs to
    phrases: tuple[tuple[tuple[str, ...], str], ...]  # (phrase words, command), longest first
    # phrase word → indexes into `phrases` of the phrases holding it: a text is only checked
    # against phrases that share a word with it (hundreds of phrases, a handful of words).
    phrase_index: Mapping[str, tuple[int, ...]]
    # first word → indexes of the phrases opening with it: a phrase is only looked for when its
    # first word is in the text (most texts' words open no phrase, though many are in one).
    phrase_starts: Mapping[str, tuple[int, ...]]
    examples: tuple[str, ...]  # every phrase as text, for the rapidfuzz fallback
    sorted_examples: tuple[str, ...]  # each example with its words sorted (what token_sort_ratio compares)
    example_commands: tuple[str, ...]
    example_words: tuple[frozenset[str], ...]  # each example's words, to check how much of it a text says
    longest_example: int  # characters: a text far longer cannot read like any example
    most_example_words: int
    # What a typo may land on, all in one index so a word is looked up once: the command words
    # (4+ letters: shorter ones only exact), then from ``near_services`` the services, from
    # ``near_metrics`` the metrics, from ``near_states`` the state words ("hapening").
    near: FuzzyIndex
    near_services: int
    near_metrics: int
    near_states: int
    fuzzy_commands: tuple[tuple[str, ...], ...]  # the commands of each command word in ``near``
    action_typos: FuzzyIndex  # the actions Operator cannot do, of 5+ letters, for a slip at the start of a text
    action_abbreviations: Abbreviations  # the same actions, for one typed with letters left out ("rollbk")
    long_names: Abbreviations  # command names of 5+ letters, which may be typed with letters left out
    escape: frozenset[str]
    mutating: frozenset[str]
    codes: Mapping[str, str]  # pager reply-code suffix → command ("a": ack, so "4a" is ack 4)
    ref_words: Mapping[str, str]  # a word naming a command when a number follows ("log 4": history)
    numbered: frozenset[str]  # commands done to an alert by its number: the changes, and the reference words'
    by_number: frozenset[str]  # commands a bare number beside them repeats ("ack 7 and 8"): codes, reference words
    services: NameTable
    metrics: NameTable
    whole: Mapping[str, str]  # multi-word words of one command, as one string ("start over")
    whole_keys: tuple[str, ...]
    keep: frozenset[str]  # never dropped as filler: names and command words
    slot_names: Mapping[str, frozenset[str]]  # command → the names it takes (logs: services; metrics: metrics)
    # What each word was worked out to be while reading the current text (``_typo``); emptied per text.
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)


def build_tables(
    words: Mapping[str, Sequence[str]],
    phrases: Mapping[str, Sequence[str]],
    escape: frozenset[str],
    services: Sequence[str],
    metrics: Sequence[str],
    mutating: frozenset[str] = frozenset(),
    kind: type[T] = Tables,  # type: ignore[assignment]  # a subclass that reads with the tables
    codes: Mapping[str, str] | None = None,
    ref_words: Mapping[str, str] | None = None,
) -> T:
    """The tables for these commands (help order; each with its words and phrases) and names.

    ``mutating`` commands change something: one that is only one of two readings (a tie, or
    words of another command beside its own) is a question, never a guess. A typo of one is
    read as that command: the conversation, which has the text as typed, confirms it first.
    """
    order = tuple(words)
    word_commands: dict[str, list[str]] = {}
    phrase_list: list[tuple[tuple[str, ...], str]] = []
    whole: dict[str, str] = {}
    for command, spoken in words.items():
        for word in (command, *spoken):
            tokens = tuple(tokenize(word))
            if len(tokens) == 1:
                word_commands.setdefault(tokens[0], [])
                if command not in word_commands[tokens[0]]:
                    word_commands[tokens[0]].append(command)
            elif tokens:
                phrase_list.append((tokens, command))
                whole[" ".join(tokens)] = command
    for command, said in phrases.items():
        phrase_list += [(tuple(tokenize(p)), command) for p in said if len(tokenize(p)) > 1]
        for p in said:
            tokens = tuple(tokenize(p))
            if len(tokens) == 1:
                word_commands.setdefault(tokens[0], []).append(command)
    phrase_list.sort(key=lambda pc: -len(pc[0]))
    # Plain lower-case letters, so already as rapidfuzz's default_process leaves them (see FuzzyIndex).
    fuzzy = tuple(w for w in word_commands if len(w) >= 4 and w.isalpha() and w == utils.default_process(w))
    metric_words = {w: m for m in metrics for w in lexicon.METRIC_WORDS.get(m, ())}
    names = frozenset(order)
    service_table, metric_table = NameTable(tuple(services)), NameTable(tuple(metrics), metric_words)
    # Actions a slip at the start of a text may be (5+ letters; not a word the vocabulary has).
    actions = tuple(
        sorted(v for v in lexicon.UNSUPPORTED_VERBS if len(v) >= 5 and v.isalpha() and v not in word_commands)
    )
    states = tuple(sorted(w for w in lexicon.STATE_WORDS if len(w) >= 5 and w.isalpha()))
    keep = frozenset(word_commands) | {utils.default_process(s) for s in (*services, *metrics)}
    return kind(
        order=order,
        rank={c: i for i, c in enumerate(order)},
        names=names,
        words={w: tuple(c) for w, c in word_commands.items()},
        phrases=tuple(phrase_list),
        phrase_index=_index_words(phrase_list),
        phrase_starts=_index_words([(words[:1], command) for words, command in phrase_list]),
        examples=tuple(utils.default_process(" ".join(p)) for p, _ in phrase_list),  # as rapidfuzz compares them
        sorted_examples=tuple(" ".join(sorted(utils.default_process(" ".join(p)).split())) for p, _ in phrase_list),
        example_commands=tuple(c for _, c in phrase_list),
        example_words=tuple(frozenset(p) for p, _ in phrase_list),
        longest_example=max((len(" ".join(p)) for p, _ in phrase_list), default=0),
        most_example_words=max((len(p) for p, _ in phrase_list), default=0),
        near=FuzzyIndex((*fuzzy, *service_table.processed, *metric_table.processed, *states)),
        near_services=len(fuzzy),
        near_metrics=len(fuzzy) + len(service_table.processed),
        near_states=len(fuzzy) + len(service_table.processed) + len(metric_table.processed),
        fuzzy_commands=tuple(tuple(word_commands[w]) for w in fuzzy),
        action_typos=FuzzyIndex(actions),
        action_abbreviations=Abbreviations(actions),
        long_names=Abbreviations(tuple(n for n in order if len(n) > 4)),
        escape=escape,
        mutating=mutating,
        codes=dict(codes or {}),
        ref_words=dict(ref_words or {}),
        numbered=mutating | frozenset((ref_words or {}).values()),
        by_number=frozenset((codes or {}).values()) | frozenset((ref_words or {}).values()),
        services=service_table,
        metrics=metric_table,
        keep=keep - {"the"},
        whole=whole,
        whole_keys=tuple(whole),
        slot_names={
            "logs": frozenset(utils.default_process(s) for s in services),
            "metrics": frozenset({utils.default_process(m) for m in metrics} | set(metric_words)),
        },
    )


def _index_words(phrases: Sequence[tuple[tuple[str, ...], str]]) -> dict[str, tuple[int, ...]]:
    """Word → the indexes of the phrases holding it, in phrase order."""
    index: dict[str, list[int]] = {}
    for i, (words, _) in enumerate(phrases):
        for word in set(words):
            index.setdefault(word, []).append(i)
    return {word: tuple(found) for word, found in index.items()}
