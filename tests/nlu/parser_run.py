"""The corpus through the parser alone: each turn parsed with the context a conversation gives it.

A conversation keeps what was asked last, the slot an open question waits for, and the last
numbered list; this replays just that, so a follow-up (``how about worker``) is judged by what
the parser handed over. The real conversation is judged in tests/conversations/.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from dialogs.asides import points_back
from dialogs.catalog import REGISTRY
from dialogs.commands import WINDOW_OPTIONS as LOGS_WINDOWS
from nlu import Intent, parse
from tests.nlu.corpus import METRICS, SERVICES, Case, Query, Tally, judge, load

Parse = Callable[[str, str | None, datetime], Intent]
FORMS = {"logs": ("service", "window"), "metrics": ("metric",)}
# The window question's own options ("which window? 15m, 1h, 6h, 24h"), as the corpus writes windows.
WINDOW_OPTIONS = tuple(str(int(window.total_seconds())) for _, window in LOGS_WINDOWS)


@dataclass
class State:
    last: Query | None = None
    pending: Query | None = None  # a started form waiting for a slot
    items: tuple[str, ...] = ()  # the last numbered list's values
    kind: str = ""  # what they are: "alerts", "metric", "service"
    extra: list[Query] = field(default_factory=list)
    offered: tuple[Query, ...] = ()  # the readings just asked about ("logs for api or gateway?")

    def expecting(self) -> str | None:
        if self.pending is not None:
            return _missing(self.pending)
        return "choice" if self.items else None


def _missing(query: Query) -> str | None:
    for slot in FORMS.get(query.command, ()):
        if getattr(query, slot) is None:
            return slot
    return None


def _window(intent: Intent) -> str | None:
    if intent.window_rejected:
        return "rejected"
    return str(int(intent.window.total_seconds())) if intent.window is not None else None


def _takes(command: str | None) -> frozenset[str]:
    """The slots the registry's record for ``command`` takes (help's ``ref`` is the topic)."""
    spec = REGISTRY.get(command)
    return frozenset(s.name for s in spec.slots) if spec is not None else frozenset()


def _query(intent: Intent) -> Query:
    """The intent as the query its command would run: slots the command does not take are left out."""
    takes = _takes(intent.command)
    if intent.command == "alerts":  # a service name narrows an alerts list like any label value
        return Query("alerts", choice=intent.choice, filter=intent.filter or intent.service)
    return Query(
        intent.command or "none",
        service=intent.service if "service" in takes else None,
        window=_window(intent) if "window" in takes else None,
        metric=intent.metric if "metric" in takes else None,
        choice=intent.choice if "choice" in takes else None,
        topic=intent.topic if "ref" in takes else None,
    )


def parser_tally(
    path: Path, now: datetime, services: Sequence[str] = SERVICES, metrics: Sequence[str] = METRICS
) -> Tally:
    """Every row of the corpus at ``path`` through the parser (with these names configured), judged."""

    def parse_in_corpus(text: str, expecting: str | None, now: datetime) -> Intent:
        return parse(text, REGISTRY.vocabulary, services=services, metrics=metrics, expecting=expecting, now=now)

    result = Tally()
    for case in load(path):
        got = run(case, parse_in_corpus, now)
        result.add(case, judge(case.want, got, now, REGISTRY.vocabulary.names), got)
    return result


def run(case: Case, parse: Parse, now: datetime) -> tuple[Query, ...]:
    state = State()
    got: tuple[Query, ...] = ()
    for text in (*case.before, case.text):
        got = turn(state, parse(text, state.expecting(), now), text)
    return got


def turn(state: State, intent: Intent, text: str = "") -> tuple[Query, ...]:
    said = _aside(state, intent, text)
    if said is not None:
        return said
    last = state.last
    if (
        intent.ambiguous
        and intent.service
        and last
        and last.command in intent.ambiguous
        and "service" in _takes(last.command)
    ):
        intent = replace(intent, command=None, ambiguous=())  # "api" after "web logs 15m": logs for api
    if intent.ambiguous:  # asked, numbered: naming one of the readings next picks it
        state.offered = tuple(
            Query(c, service=intent.service if "service" in _takes(c) else None) for c in intent.ambiguous
        )
        return (Query("ask"),)
    offered = [q for q in state.offered if q.command == intent.command]
    state.offered = ()
    if intent.command is not None and len(offered) == 1 and not intent.also:  # "api?" then "the logs one"
        first = replace(offered[0], **{k: v for k, v in asdict(_query(intent)).items() if v is not None})
        return (_start(state, first),)
    if intent.command in ("help", "more"):  # "what does ack do? and show alerts": help, and alerts
        return (Query(intent.command, topic=intent.topic), *(_start(state, _query(also)) for also in intent.also))
    if intent.command == "again":
        return (state.last,) if state.last else (Query("again"),)
    if intent.command is not None:
        first = _query(intent)
        if last and last.command == first.command and _missing(first) and any(first.key()[1:]):
            first = replace(last, **{k: v for k, v in asdict(first).items() if v is not None})  # "go back 6 hrs"
        queries = [_start(state, first)]
        queries += [_start(state, _query(also)) for also in intent.also]
        return tuple(queries)
    if state.pending is not None and not _elsewhere(state.pending, intent):
        filled = _fill(state, intent)  # "web and worker" asked which service: web now, worker too
        return (filled, *(_follow_up(state, part, start=state.pending is None) for part in intent.also))
    state.pending = None  # "actually cpu" while asked which service: the dialog is left
    return tuple(_follow_up(state, part) for part in (intent, *intent.also))  # "web and worker": each


def _aside(state: State, intent: Intent, text: str) -> tuple[Query, ...] | None:
    """What the conversation says instead of running a question: reset, small talk, an action it
    cannot do (with the questions beside it answered), a change pointed at "that one" of a list."""
    if intent.command == "reset":
        state.__init__()  # type: ignore[misc]
        return (Query("reset"),)
    if intent.smalltalk:
        return (Query("smalltalk"),)
    if intent.unsupported:  # "status and restart web": can't do that, and the question answered
        return (Query("unsupported"), *(_start(state, _query(also)) for also in intent.also))
    spec = REGISTRY.get(intent.command)
    pointed = spec is not None and spec.mutating and intent.choice is None and points_back(text)
    if pointed and state.kind == "alerts" and len(state.items) > 1:
        return (Query("ask"),)  # "silence that one" after a list: which one is asked
    return None


def _start(state: State, query: Query) -> Query:
    if query.command == "alerts":
        state.items, state.kind = ("a1", "a2", "a3"), "alerts"
    if query.command == "metrics" and query.metric is None:
        state.items, state.kind = METRICS, "metric"
    state.pending = query if _missing(query) else None
    if query.command == "logs" and query.service is None:
        state.items, state.kind = SERVICES, "service"
    mutating = (spec := REGISTRY.get(query.command)) is not None and spec.mutating
    state.last = query if not state.pending and not mutating else state.last  # "again" never repeats a change
    return query


def _elsewhere(pending: Query, intent: Intent) -> bool:
    """A bare name the pending command does not take: the conversation leaves the dialog."""
    given = [s for s in ("service", "metric") if getattr(intent, s) is not None]
    return bool(given) and not any(s in _takes(pending.command) for s in given)


def _fill(state: State, intent: Intent) -> Query:
    pending = state.pending
    assert pending is not None
    slot = _missing(pending)
    value: object = {"service": intent.service, "metric": intent.metric, "window": _window(intent)}.get(slot or "")
    options = WINDOW_OPTIONS if slot == "window" else state.items  # the window question offers its own four
    if value is None and intent.choice is not None and 1 <= intent.choice <= len(options):
        value = options[intent.choice - 1]
    if value == "rejected":
        return replace(pending, window="rejected")  # "Windows go from 1m to 7d": asked again
    if value is None:
        return Query("ask")  # "Didn't get that": re-asked, nothing run
    filled = {"service": intent.service, "metric": intent.metric, "window": _window(intent)}
    filled = {k: v for k, v in filled.items() if v not in (None, "rejected") and k in _takes(pending.command)}
    query = replace(pending, **{**filled, slot: value}) if slot else pending
    return _start(state, query)


def _follow_up(state: State, intent: Intent, *, start: bool = True) -> Query:
    """What a text without a command word asks; ``start=False`` while a question is still open (the
    conversation names that part for the next text instead of starting it)."""
    last = state.last
    if not start:
        state = replace(state, items=state.items)  # a copy: nothing started, nothing remembered
    if intent.choice is not None and state.items and intent.service is None and intent.metric is None:
        if state.kind == "metric" and intent.choice <= len(state.items):
            return _start(state, Query("metrics", metric=state.items[intent.choice - 1]))
        return Query("alerts", choice=intent.choice) if state.kind == "alerts" else Query("ask")
    window = _window(intent)
    if window == "rejected":  # "Windows go from 1m to 7d" about the last question
        return (
            replace(last, window="rejected") if last is not None and "window" in _takes(last.command) else Query("ask")
        )
    if intent.metric is not None:
        if last is not None and last.command == "metrics":  # "now": as things are, the window dropped
            return _start(
                state, replace(last, metric=intent.metric, window=window or (None if intent.current else last.window))
            )
        return _start(state, Query("metrics", metric=intent.metric, window=window))
    if intent.service is not None:
        if last is not None and last.command == "logs":
            return _start(state, replace(last, service=intent.service, window=window or last.window))
        return _start(state, Query("logs", service=intent.service, window=window))
    if window is not None and last is not None and last.command in ("logs", "metrics"):
        return _start(state, replace(last, window=window))
    if window is not None or intent.choice is not None:
        return Query("ask")  # "A window for what?", "Nothing to pick from": asked, nothing run
    return Query("none")
