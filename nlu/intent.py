"""``parse``: one SMS → an ``Intent`` (what it asks for, or that it is small talk, an action we
cannot perform, or two questions at once).

How a text is read is ``nlu.reader``'s docstring. What fits nothing is reported in ``unknown``
so the bot can say "Did you mean …?" instead of guessing; two commands that fit equally come
back in ``ambiguous`` (ask, never guess). Without a command every word is a slot: that is how
bare follow-ups (``6h``, ``2``, ``yes``, ``wbe``, ``how about worker``) arrive.

``expecting`` is what the dialog just asked for. An answer of that kind wins over a command
word (``api`` while asked for a service is the service, not the gateway command), except that
an exact escape word (``reset``, ``help``) always escapes and a command word typed in full
(``status``) leaves the dialog. ``now`` anchors ``since 2am`` and ``today`` (default: UTC now).

Cost: the reader's tables are built once per (commands, services, metrics) and cached; a
message is a tokenize, a dict lookup per word and, for a word no table knows, one rapidfuzz pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from nlu.reader import Reader, build_reader
from nlu.tables import Reading
from nlu.vocabulary import Vocabulary

# Readers built so far, by (vocabulary, services, metrics). The vocabulary is kept alive in the
# value, so its id is never reused while cached; configured names change only on restart.
_READERS: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[Vocabulary, Reader]] = {}
_MAX_READERS = 16


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
    filter: str | None = None  # narrows an alerts list: a severity ("crit") or a label value ("api-1")
    current: bool = False  # "now"/"atm" said: a follow-up asks as things are, not over the last window
    either: tuple[str, ...] = ()  # "mem or dsk?": two things of one kind offered, which one is for the sender to say


def parse(
    text: str,
    vocabulary: Vocabulary,
    *,
    services: Sequence[str] = (),
    metrics: Sequence[str] = (),
    expecting: str | None = None,
    now: datetime | None = None,
) -> Intent:
    """Read one SMS with ``vocabulary``'s commands. Never raises for any ``str``; see the module docstring."""
    return _freeze(reader_for(vocabulary, services, metrics).read(text, expecting, now), services, metrics)


def reader_for(vocabulary: Vocabulary, services: Sequence[str], metrics: Sequence[str]) -> Reader:
    """The reader for this vocabulary and these names, built on first use."""
    key = (id(vocabulary), tuple(services), tuple(metrics))
    cached = _READERS.get(key)
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    reader = build_reader(
        vocabulary.commands,
        vocabulary.phrases,
        vocabulary.escape,
        services,
        metrics,
        vocabulary.mutating,
        vocabulary.codes,
        vocabulary.ref_words,
    )
    if len(_READERS) >= _MAX_READERS:
        _READERS.pop(next(iter(_READERS)))
    _READERS[key] = (vocabulary, reader)
    return reader


def _yours(found: str | None, names: Sequence[str]) -> str | None:
    """The caller's own list element (by identity): the cached reader may hold an equal copy."""
    return None if found is None else next((n for n in names if n == found), None)


def _freeze(reading: Reading, services: Sequence[str], metrics: Sequence[str]) -> Intent:
    return Intent(
        command=reading.command,
        service=_yours(reading.service, services),
        window=reading.window,
        window_rejected=reading.window_rejected,
        choice=reading.choice,
        yes=reading.yes,
        metric=_yours(reading.metric, metrics),
        topic=reading.topic,
        ambiguous=reading.ambiguous,
        unknown=tuple(reading.unknown),
        smalltalk=reading.smalltalk,
        unsupported=reading.unsupported,
        also=tuple(_freeze(r, services, metrics) for r in reading.also),
        filter=reading.filter,
        current=reading.current,
        either=reading.either,
    )
