"""``parse``: one SMS → an ``Intent`` (a command and the slots found beside it).

The first word(s) name the command; every other word is tried, in this order, as a window
(which may span words: ``last 2 hours``), after ``help`` the command asked about, filler
(``show me the``), a list choice, a yes/no, and a name (service or metric, whichever the
command cares about first). What fits nothing is reported in ``unknown`` so the bot can say
"Did you mean …?" instead of guessing. Without a command word every word is a slot: that is
how bare follow-ups (``6h``, ``2``, ``yes``, ``wbe``) arrive.

``expecting`` is what the dialog just asked for. An answer of that kind wins over a command
alias (``api`` while asked for a service is the service, not the gateway command), except
that an exact ``reset``/``help`` alias always escapes, and a typo of a name never shadows an
exact command: ``status`` typed while asked for a service leaves the dialog.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from nlu import asides
from nlu.codes import read_code
from nlu.commands import exact_command, match_command
from nlu.slots import choice_word, match_name, match_yes_no
from nlu.text import tokenize
from nlu.vocabulary import STOPWORDS, Vocabulary
from nlu.windows import scan_window


@dataclass(frozen=True, slots=True)
class Intent:
    """What one message asks for; every field but ``command`` is an optional slot."""

    command: str | None
    service: str | None = None
    window: timedelta | None = None
    window_rejected: str | None = None
    choice: int | None = None
    yes: bool | None = None
    metric: str | None = None
    topic: str | None = None
    ambiguous: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    smalltalk: bool = False  # a greeting, thanks or acknowledgement: one short line back
    unsupported: str | None = None  # the verb of an action Operator cannot perform ("restart")
    also: tuple[Intent, ...] = ()  # further questions in the same text ("status and alerts")


@dataclass(slots=True)
class _Draft:
    """The mutable draft ``parse`` fills before freezing it into an ``Intent``."""

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

    def freeze(self) -> Intent:
        return Intent(
            command=self.command,
            service=self.service,
            window=self.window,
            window_rejected=self.window_rejected,
            choice=self.choice,
            yes=self.yes,
            metric=self.metric,
            topic=self.topic,
            ambiguous=self.ambiguous,
            unknown=tuple(self.unknown),
        )


def parse(
    text: str,
    vocabulary: Vocabulary,
    *,
    services: Sequence[str] = (),
    metrics: Sequence[str] = (),
    expecting: str | None = None,
) -> Intent:
    """Read one SMS with ``vocabulary``'s commands. Never raises for any ``str``; see the module docstring."""
    coded = read_code(text, vocabulary)  # a pager reply code ("4s 2h", "7aa", "log 4") comes first
    if coded is not None:
        command, code, rest = coded
        slots = parse(rest, vocabulary, services=services, metrics=metrics) if rest else Intent(command=None)
        return dataclasses.replace(slots, command=command, choice=code, also=())
    words = tokenize(text)
    if not words:
        return Intent(command=None)
    answering = _answers_question(words[0], words, vocabulary, services, metrics, expecting)
    # Small talk or an action we cannot do, unless the text answers the open question ("ok" to a yes/no).
    if expecting != "yes_no" and not answering:
        aside = _aside(words, vocabulary)
        if aside is not None:
            return aside
    if not answering:
        parts = asides.split_questions(words)
        if len(parts) > 1:
            read = [parse(" ".join(p), vocabulary, services=services, metrics=metrics) for p in parts]
            for i in range(1, len(read)):  # "metrics cpu and memory": a bare name asks what came before
                if read[i].command is None and (read[i].metric or read[i].service) and not read[i].unknown:
                    read[i] = dataclasses.replace(read[i], command=read[i - 1].command)
            if all(r.command is not None and not r.also for r in read):
                return dataclasses.replace(read[0], also=tuple(read[1:]))
    return _one(words, vocabulary, services, metrics, expecting)


def _aside(words: list[str], vocabulary: Vocabulary) -> Intent | None:
    """Small talk or an action we cannot perform, unless the text starts with a command word."""
    known = vocabulary.alias_to_command
    if words[0] in known or " ".join(words[:2]) in known:
        return None
    if asides.is_smalltalk(words):
        return Intent(command=None, smalltalk=True)
    verb = asides.unsupported_verb(words, set(known))
    return Intent(command=None, unsupported=verb) if verb is not None else None


def _one(
    words: list[str], vocabulary: Vocabulary, services: Sequence[str], metrics: Sequence[str], expecting: str | None
) -> Intent:
    while words and words[0] in STOPWORDS and words[0] not in ("a", "an"):  # "show me logs"; "an hour"
        words.pop(0)
    draft = _Draft()
    if words and not _answers_question(words[0], words, vocabulary, services, metrics, expecting):
        words = words[_take_command(words, draft, vocabulary) :]
    _fill_slots(words, draft, vocabulary, services, metrics, expecting)
    return draft.freeze()


def _answers_question(
    first: str,
    words: list[str],
    vocabulary: Vocabulary,
    services: Sequence[str],
    metrics: Sequence[str],
    expecting: str | None,
) -> bool:
    """Whether the first word answers what the dialog asked, and so is not a command."""
    command = exact_command(first, vocabulary)
    if command in vocabulary.escape:
        return False
    if expecting == "service":
        names = services
    elif expecting == "metric":
        names = metrics
    elif expecting == "choice":
        return choice_word(first) is not None
    elif expecting == "window":
        return scan_window(words, 0) is not None
    elif expecting == "yes_no":
        return match_yes_no(first) is not None
    else:
        return False
    if any(first == name.casefold() for name in names):  # the asked-for name beats an alias: "api"
        return True
    # A typo of a name never shadows an exact command word.
    return command is None and match_name(first, names) is not None


def _take_command(words: list[str], draft: _Draft, vocabulary: Vocabulary) -> int:
    """Fill the command from the leading word(s); return how many words it used."""
    for length in vocabulary.phrase_lengths:  # "start over" before "start"
        if len(words) >= length:
            command, _ = match_command(" ".join(words[:length]), vocabulary)
            if command is not None:
                draft.command = command
                return length
    draft.command, draft.ambiguous = match_command(words[0], vocabulary)
    if draft.command is not None or draft.ambiguous:
        return 1
    return 0  # no command: every word is a slot (a bare "6h", "2", "yes", "wbe")


def _fill_slots(
    words: list[str],
    draft: _Draft,
    vocabulary: Vocabulary,
    services: Sequence[str],
    metrics: Sequence[str],
    expecting: str | None,
) -> None:
    metric_first = draft.command == "metrics" or (draft.command is None and expecting == "metric")
    i = 0
    while i < len(words):
        found = scan_window(words, i)
        if found is not None:
            i += found.consumed
            if draft.window is None and draft.window_rejected is None:
                draft.window = found.duration
                draft.window_rejected = found.text if draft.window is None else None
            else:
                draft.unknown.append(found.text)  # a second window: report it, don't pick silently
            continue
        word = words[i]
        i += 1
        if draft.command == "help" and draft.topic is None:
            draft.topic = match_command(word, vocabulary)[0]
            if draft.topic is not None:
                continue
        if not _fill_one(word, draft, services, metrics, metric_first):
            draft.unknown.append(word)


def _fill_one(word: str, draft: _Draft, services: Sequence[str], metrics: Sequence[str], metric_first: bool) -> bool:
    """Put ``word`` in the first empty slot it fits; False when it fits none."""
    if word in STOPWORDS:
        return True
    choice = choice_word(word)
    if choice is not None and draft.choice is None:
        draft.choice = choice
        return True
    yes = match_yes_no(word)
    if yes is not None and draft.yes is None:
        draft.yes = yes
        return True
    for slot in ("metric", "service") if metric_first else ("service", "metric"):
        if getattr(draft, slot) is None:
            name = match_name(word, metrics if slot == "metric" else services)
            if name is not None:
                setattr(draft, slot, name)
                return True
    return False
