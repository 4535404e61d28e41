"""Reading a whole on-call text: which command it means, with which slots, or that it means none.

A ``Reader`` is built once per vocabulary and configured names (``reader_for`` caches it), so a
message costs a tokenize, a dict lookup per word, a phrase scan over the few words left, and a
rapidfuzz pass only for a word no table knows (a typo). Steps, in order:

1. emoji-only, small talk, "drop it" (``nah``, ``skip it``) and, inside a question, its answer;
2. an action we cannot perform (``restart web``) unless the vocabulary has that command;
3. two questions joined by ``and``/``,``/``then`` (each part must name a command on its own);
4. one question: windows, then phrases (``load balancer``, ``slow queries``), then each word
   (command word, state word, service, metric, choice, typo of any of them), then votes:
   a command's name counts 4, its other words and phrases 2-3, a metric 3 for ``metrics``;
   a service in logs phrasing (``worker errors``, ``errors for api``) is logs for that service,
   also when the service is called like a command (``api``); state words (``down``, ``ok``)
   mean ``status`` only when nothing else is named. A tie is ``ambiguous`` (ask, never guess);
5. nothing matched: the closest example phrase by rapidfuzz ``token_sort_ratio``, if close.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from rapidfuzz import fuzz, process, utils

from nlu import lexicon
from nlu.fuzzy import close_matches
from nlu.names import NameTable
from nlu.slots import choice_word, match_yes_no
from nlu.text import FILLERS, drop_fillers, tokenize
from nlu.windows import scan_window

NAME_WEIGHT: Final = 4  # "logs", "db": the command's own name
WORD_WEIGHT: Final = 2  # "errors", "firing", "locks": one of its words
TYPO_WEIGHT: Final = 1  # a word that is only close to one of a command's words
TROUBLE_WEIGHT: Final = 1  # "errors", "failing": logs, unless something else is named
METRIC_WEIGHT: Final = 3  # "mem", "disk": a metric is a metrics question
PHRASE_CUTOFF: Final = 88  # token_sort_ratio for a whole text against an example phrase
# "500s", "5xx", "502": the gateway's numbers, or a service's errors when a service is named.
_HTTP_ERRORS: Final = re.compile(r"[45](?:\d\d|xx)s?")
# Words that make a bare name a follow-up to the last answer ("what about api", "web too?").
_FOLLOW_UP: Final = frozenset({"about", "too", "also", "same", "instead", "try", "well", "and", "now", "then"})
_DROP: Final = frozenset({"nah", "nvm", "nevermind", "skip", "forget", "scratch", "abort", "stop", "cancel",
                          "reset", "clear", "never", "mind", "it", "that", "ugh", "oh", "ah", "no", "thanks",
                          "over", "start", "leave", "drop", "this", "the", "question", "please", "pls", "and", "eh",
                          "meh", "oops", "sorry", "wait", "hmm", "actually"})
_DROP_CORE: Final = frozenset({"nah", "nvm", "nevermind", "skip", "forget", "scratch", "abort", "stop", "cancel",
                               "reset", "clear", "never", "drop", "leave"})


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
    bare: bool = False  # the command is implied by a metric alone ("mem"), no metrics word said
    weak: bool = False  # status read from state words only ("what's up"): not a question of its own

    def slotted(self, but: str = "") -> bool:
        """Whether any slot (other than ``but``) is filled."""
        slots = ("service", "window", "window_rejected", "choice", "yes", "metric")
        return any(getattr(self, s) is not None for s in slots if s != but)


@dataclass(frozen=True, slots=True)
class Reader:
    """The tables for one vocabulary and one set of configured names (see the module docstring)."""

    order: tuple[str, ...]  # command names, help order
    names: frozenset[str]
    words: Mapping[str, tuple[str, ...]]  # word → the commands it belongs to
    phrases: tuple[tuple[tuple[str, ...], str], ...]  # (phrase words, command), longest first
    examples: tuple[str, ...]  # every phrase as text, for the rapidfuzz fallback
    example_commands: tuple[str, ...]
    fuzzy_words: tuple[str, ...]  # words a typo may land on (4+ letters: shorter ones only exact)
    fuzzy_commands: tuple[tuple[str, ...], ...]
    escape: frozenset[str]
    mutating: frozenset[str]
    services: NameTable
    metrics: NameTable
    whole: Mapping[str, str]  # multi-word words of one command, as one string ("start over")
    whole_keys: tuple[str, ...]
    keep: frozenset[str]  # never dropped as filler: names and command words
    slot_names: Mapping[str, frozenset[str]]  # command → the names it takes (logs: services; metrics: metrics)

    # -- the whole text ------------------------------------------------------------------------

    def read(self, text: str, expecting: str | None = None, now: datetime | None = None) -> Reading:
        tokens = tokenize(text)
        if not tokens:
            return Reading()
        if all(not any(ch.isalnum() for ch in t) and t != "?" for t in tokens):
            return self._emoji("".join(tokens))
        content = drop_fillers(tokens, self.keep)
        polite = [t for t in tokens if t not in lexicon.POLITE or t in self.keep]
        if expecting is not None:
            answer = self._answer(tokens, content, expecting, now)
            if answer is not None:
                return answer
        if self._is_drop(tokens):
            return Reading(command="reset") if "reset" in self.names else Reading(unknown=tokens)
        if self._is_smalltalk(tokens):
            return Reading(smalltalk=True)
        whole = self.whole.get(" ".join(tokens)) or self.whole.get(" ".join(content))
        if whole is None and 1 < len(tokens) <= 3:  # "strat over": a mistyped multi-word word
            hits = close_matches(" ".join(tokens), self.whole_keys)
            if hits and (len(hits) == 1 or hits[1][0] > hits[0][0]):
                whole = self.whole[self.whole_keys[hits[0][1]]]
                if whole in self.mutating:
                    return Reading(ambiguous=(whole,))
        if whole is not None:  # "start over", "never mind": a word of the vocabulary
            return Reading(command=whole)
        unsupported = self._unsupported(polite)
        if unsupported is not None:
            return Reading(unsupported=unsupported)
        framed = self._help_frame(tokens)
        if framed is not None:
            return framed
        parts = self._split(tokens, now)
        if len(parts) > 1:
            readings = [self._one(p, now) for p in parts]
            if all(r.command is not None and not r.ambiguous and not r.weak for r in readings):
                first, *rest = readings
                first.also = rest
                return first
        reading = self._one(tokens, now)
        if reading.bare and reading.command == "metrics" and not reading.metrics and not reading.slotted(but="metric"):
            # Only a metric was named: a bare slot, like a bare service. The conversation asks
            # the last question again with it ("metrics cpu 1h" then "how about load?" keeps the
            # hour), or metrics for it when there was none.
            reading.command = None
        return reading

    def _help_frame(self, tokens: list[str]) -> Reading | None:
        """``what does metrics do``: help about the command named in the middle."""
        if "help" not in self.names:
            return None
        for head, tails in lexicon.HELP_FRAMES:
            if tuple(tokens[: len(head)]) == head and tokens[-1] in tails and len(tokens) > len(head) + 1:
                middle = tokens[len(head) : -1]
                named = [c for t in middle for c in self.words.get(t, ()) if t in self.names or len(middle) == 1]
                if len(set(named)) <= 1:
                    return Reading(command="help", topic=named[0] if named else None)
        return None

    def _emoji(self, text: str) -> Reading:
        for ch in text:
            command = lexicon.EMOJI.get(ch)
            if command in self.names:
                return Reading(command=command)
        return Reading(smalltalk=True)

    def _answer(self, tokens: list[str], content: list[str], expecting: str, now: datetime | None) -> Reading | None:
        """The reply to an open question, when the text is one (an escape command never is)."""
        first = content[0] if content else tokens[0]
        if self._exact_commands(first) & self.escape and first not in (self.services.names + self.metrics.names):
            return None
        if expecting == "yes_no":
            yes = match_yes_no(" ".join(content)) if len(content) <= 2 else None
            yes = yes if yes is not None else match_yes_no(first)
            return Reading(yes=yes) if yes is not None else None
        if self._is_drop(tokens):
            return None
        reading = self._one(tokens, now)
        wanted = {"service": reading.service, "metric": reading.metric, "choice": reading.choice,
                  "window": reading.window or reading.window_rejected}.get(expecting)
        if expecting == "service" and reading.service is None:
            found = next((s for t in content if (s := self.services.find(t)) is not None), None)
            if found is not None:
                reading.service, wanted = found, found
        if expecting == "metric" and reading.metric is None:
            found = next((m for t in content if (m := self.metrics.find(t)) is not None), None)
            if found is not None:
                reading.metric, wanted = found, found
        if wanted is None:
            return None
        if expecting == "metric" and reading.service == reading.metric:  # "load" asked for a metric
            reading.service = None
        if expecting == "service" and reading.metric == reading.service:
            reading.metric = None
        # A command word typed in full leaves the question ("status" while asked for a service),
        # unless that word is the very name being asked for ("api" as a service).
        if reading.command is not None and reading.command != "logs" and not reading.ambiguous:
            named = any(self._exact_commands(t) for t in content) and not any(
                t == reading.service or t == reading.metric for t in content)
            if named:
                return None
        reading.command, reading.ambiguous = None, ()
        return reading

    def _is_drop(self, tokens: Sequence[str]) -> bool:
        """``nah``, ``skip it``, ``never mind``, ``forget it``, ``stop it``: drop the question (a bare
        ``stop`` is the carrier's opt-out and never reaches here)."""
        if len(tokens) == 1 and tokens[0] in lexicon.CARRIER_WORDS:
            return False
        return all(t in _DROP for t in tokens) and any(t in _DROP_CORE for t in tokens)

    def _is_smalltalk(self, tokens: Sequence[str]) -> bool:
        said = [t for t in tokens if t not in lexicon.SMALLTALK_NEUTRAL and any(ch.isalnum() for ch in t)]
        if not said:  # "are you there?", "you alive?"
            return any(t in ("you", "u", "bot") for t in tokens)
        return all(t in lexicon.SMALLTALK for t in said)

    def _unsupported(self, content: Sequence[str]) -> str | None:
        """The verb, when the text opens with an action Operator cannot perform."""
        words = list(content)
        while words and words[0] in lexicon.POLITE:
            words.pop(0)
        if not words:
            return None
        first = words[0]
        two = " ".join(words[:2])
        if two in lexicon.UNSUPPORTED_PHRASES:
            return two
        if first not in lexicon.UNSUPPORTED_VERBS or (len(words) == 1 and first in lexicon.CARRIER_WORDS):
            return None
        commands = self._exact_commands(first)
        if commands and not (commands & self.escape and len(words) > 1):
            return None  # the vocabulary has this command ("ack" once it exists)
        return first

    def _split(self, tokens: list[str], now: datetime | None) -> list[list[str]]:
        """Parts between joiners that are not inside a window ("an hour and a half")."""
        parts: list[list[str]] = [[]]
        i = 0
        while i < len(tokens):
            found = scan_window(tokens, i, now)
            if found is not None:
                parts[-1].extend(tokens[i : i + found.consumed])
                i += found.consumed
                continue
            if tokens[i] in lexicon.JOINERS:
                parts.append([])
            else:
                parts[-1].append(tokens[i])
            i += 1
        return [p for p in parts if any(t not in FILLERS or t in self.keep for t in p)]

    # -- one question ----------------------------------------------------------------------------

    def _one(self, tokens: list[str], now: datetime | None) -> Reading:
        reading = Reading()
        votes: dict[str, int] = {}
        rest = self._windows(tokens, reading, now)
        named: set[str] = set()
        rest = self._phrases(rest, votes, named)
        state = False
        dual: str | None = None  # a service also spelled like a command word ("api")
        http_errors = 0
        state_metric: str | None = None  # "up": a metric only next to a metrics word
        for token in rest:
            if token in lexicon.STATE_WORDS:
                state = True
                if token in self.names:  # "status" itself: a name "help status" can be about
                    named.add(token)
                state_metric = state_metric or self.metrics.exact(token)
                continue
            if token in FILLERS and token not in self.keep:
                continue
            if _HTTP_ERRORS.fullmatch(token):
                http_errors += 1
                continue
            commands = self.words.get(token, ())
            service = self.services.exact(token)
            if service is not None and commands:
                dual = service
                continue
            if commands:
                if token in self.names:
                    named.add(token)
                if reading.choice is None and "more" in commands:  # "more on 2": item 2, not the next page
                    votes["more"] = votes.get("more", 0) + 1
                    continue
                weight = NAME_WEIGHT if token in self.names else WORD_WEIGHT
                if token in lexicon.TROUBLE_WORDS:
                    weight = TROUBLE_WEIGHT
                for command in commands:
                    votes[command] = votes.get(command, 0) + weight
                continue
            if not self._slot(token, reading):
                state = self._typo(token, reading, votes, named) or state
        if state_metric is not None and reading.metric is None and "metrics" in votes:
            reading.metric = state_metric
        return self._decide(reading, votes, state, dual, http_errors, named, tokens)

    def _windows(self, tokens: list[str], reading: Reading, now: datetime | None) -> list[str]:
        rest: list[str] = []
        i = 0
        while i < len(tokens):
            found = scan_window(tokens, i, now)
            if found is None:
                rest.append(tokens[i])
                i += 1
                continue
            i += found.consumed
            if reading.window is None and reading.window_rejected is None:
                reading.window = found.duration
                reading.window_rejected = found.text if reading.window is None else None
            else:
                reading.unknown.append(found.text)  # a second window: report it, don't pick silently
        return rest

    def _phrases(self, tokens: list[str], votes: dict[str, int], named: set[str]) -> list[str]:
        """Vote for each phrase found whole in ``tokens`` and take its words out (longest first)."""
        rest = list(tokens)
        for words, command in self.phrases:
            if len(words) > len(rest):
                continue
            at = _find(rest, words)
            if at >= 0:
                votes[command] = votes.get(command, 0) + WORD_WEIGHT + len(words) - 1
                if command == "help":
                    named.add(command)
                # The phrase's words are used up, except a name inside it ("disk left": the metric).
                kept = self.slot_names.get(command, frozenset())
                rest[at : at + len(words)] = [w for w in words if w in kept]
        return rest

    def _slot(self, token: str, reading: Reading) -> bool:
        """Fill the first empty slot ``token`` names exactly; False when it names none."""
        service = self.services.exact(token)
        if service is not None and reading.service is None:
            reading.service = service
            return True
        metric = self.metrics.exact(token)
        if metric is not None:
            if reading.metric is None:
                reading.metric = metric
            elif metric != reading.metric and metric not in reading.metrics:
                reading.metrics.append(metric)  # "cpu, memory": a second metrics question
            return True
        choice = choice_word(token)
        if choice is not None and reading.choice is None:
            reading.choice = choice
            return True
        yes = match_yes_no(token)
        if yes is not None and reading.yes is None:
            reading.yes = yes
            return True
        return False

    def _typo(self, token: str, reading: Reading, votes: dict[str, int], named: set[str]) -> bool:
        """A word no table knows exactly: a mistyped/abbreviated name or command word, or unknown.

        True when it is a typo of a state word (``stauts``), which only says "is it OK?".
        """
        if not token[:1].isalpha() or token in lexicon.CARRIER_WORDS:
            reading.unknown.append(token)
            return False
        hits = close_matches(token, self.fuzzy_words)
        best = hits[0][0] if hits else None
        commands = {c for d, i in hits if d == best for c in self.fuzzy_commands[i]}
        if len(commands) == 1:
            command = commands.pop()
            word = self.fuzzy_words[next(i for d, i in hits if d == best)]
            if word in lexicon.STATE_WORDS:
                return True
            if word in self.names:
                named.add(command)
            votes[command] = votes.get(command, 0) + (TYPO_WEIGHT if word not in self.names else NAME_WEIGHT - 1)
            return False
        if reading.service is None:
            service = self.services.find(token)
            if service is not None:
                reading.service = service
                return False
        if reading.metric is None:
            metric = self.metrics.find(token)
            if metric is not None:
                reading.metric = metric
                return False
        if len(commands) > 1:
            reading.ambiguous = tuple(c for c in self.order if c in commands)
            return False
        reading.unknown.append(token)
        return False

    def _decide(self, reading: Reading, votes: dict[str, int], state: bool, dual: str | None,
                http_errors: int, named: set[str], tokens: list[str]) -> Reading:
        if reading.metric is not None and "metrics" in self.names:
            reading.bare = "metrics" not in votes  # "mem", "how about load?": only the metric was named
            votes["metrics"] = votes.get("metrics", 0) + METRIC_WEIGHT
        service = reading.service or dual
        if http_errors:
            for command in ("logs",) if reading.service else ("logs", "gateway") if dual else ("gateway",):
                if command in self.names:
                    votes[command] = votes.get(command, 0) + WORD_WEIGHT * http_errors
        if dual is not None and not votes and _FOLLOW_UP & set(tokens):  # "what about api": a slot
            reading.service = reading.service or dual
            return reading
        if dual is not None:
            if reading.service is None and "logs" in self.names:
                reading.service = dual
                votes["logs"] = votes.get("logs", 0) + WORD_WEIGHT
            for command in self.words.get(dual, ()):
                votes[command] = votes.get(command, 0) + WORD_WEIGHT
        if "help" in votes and len(votes) > 1 and "help" not in named:  # "cpu usage": not help
            del votes["help"]
        if "help" in votes and "help" in named and named - {"help"}:  # "help status": a name, state word or not
            return Reading(command="help", topic=next(c for c in self.order if c in named and c != "help"))
        if "help" in votes and len(votes) > 1:  # "how do i use logs": help about logs
            spelled = [c for c in self.words.get(dual or "", ()) if c != "help"]  # "help api": the word's command
            topic = spelled[0] if spelled else max((c for c in votes if c != "help"), key=lambda c: votes[c])
            return Reading(command="help", topic=topic)
        if not votes:
            if reading.ambiguous or reading.slotted():
                return reading
            if state and "status" in self.names:
                reading.command = "status"
                # Only "up"/"ok"-like words: fine alone ("we good?"), too weak to be a second question.
                reading.weak = not any("status" in self.words.get(t, ()) for t in tokens)
                return reading
            return self._closest_example(reading, tokens)
        ranked = sorted(votes, key=lambda c: (-votes[c], self.order.index(c) if c in self.order else 99))
        top = ranked[0]
        if len(ranked) > 1 and votes[ranked[1]] == votes[top]:
            tied = {c for c in ranked if votes[c] == votes[top]}
            if "more" in tied and reading.choice is not None:
                tied.discard("more")
            if len(tied) > 1:
                reading.ambiguous = tuple(c for c in self.order if c in tied)
                return reading
        if top in self.mutating and len(ranked) > 1 and top not in named:  # only a clear name changes things
            reading.ambiguous = tuple(c for c in self.order if c in ranked[:2])
            return reading
        if top == "more" and reading.choice is not None:  # "more on 2": that item
            return reading
        reading.command = top
        if top != "metrics":
            reading.metric, reading.metrics = None, []
        if top == "metrics" and reading.metrics:
            reading.also = [Reading(command="metrics", metric=m, window=reading.window) for m in reading.metrics]
        if service is not None and top != "logs" and reading.service == dual and dual is not None:
            reading.service = None
        if top == "help" and reading.topic is None:
            return reading
        return reading

    def _closest_example(self, reading: Reading, tokens: list[str]) -> Reading:
        if not self.examples or not reading.unknown:
            return reading
        found = process.extractOne(" ".join(tokens), self.examples, scorer=fuzz.token_sort_ratio,
                                   processor=utils.default_process, score_cutoff=PHRASE_CUTOFF)
        if found is not None:
            command = self.example_commands[found[2]]
            return Reading(ambiguous=(command,)) if command in self.mutating else Reading(command=command)
        return reading

    def _exact_commands(self, token: str) -> frozenset[str]:
        return frozenset(self.words.get(token, ()))


def _find(tokens: Sequence[str], words: tuple[str, ...]) -> int:
    """Index where ``words`` occur consecutively in ``tokens``, else -1."""
    first = words[0]
    for i in range(len(tokens) - len(words) + 1):
        if tokens[i] == first and tuple(tokens[i : i + len(words)]) == words:
            return i
    return -1


def build_reader(
    words: Mapping[str, Sequence[str]],
    phrases: Mapping[str, Sequence[str]],
    escape: frozenset[str],
    services: Sequence[str],
    metrics: Sequence[str],
    mutating: frozenset[str] = frozenset(),
) -> Reader:
    """A ``Reader`` for these commands (help order; each with its words and phrases) and names.

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
    fuzzy = tuple(w for w in word_commands if len(w) >= 4 and w.isalpha())
    metric_words = {w: m for m in metrics for w in lexicon.METRIC_WORDS.get(m, ())}
    names = frozenset(order)
    keep = frozenset(word_commands) | {utils.default_process(s) for s in (*services, *metrics)}
    return Reader(
        order=order,
        names=names,
        words={w: tuple(c) for w, c in word_commands.items()},
        phrases=tuple(phrase_list),
        examples=tuple(" ".join(p) for p, _ in phrase_list),
        example_commands=tuple(c for _, c in phrase_list),
        fuzzy_words=fuzzy,
        fuzzy_commands=tuple(tuple(word_commands[w]) for w in fuzzy),
        escape=escape,
        mutating=mutating,
        services=NameTable(tuple(services)),
        metrics=NameTable(tuple(metrics), metric_words),
        keep=keep - {"the"},
        whole=whole,
        whole_keys=tuple(whole),
        slot_names={"logs": frozenset(utils.default_process(s) for s in services),
                    "metrics": frozenset({utils.default_process(m) for m in metrics} | set(metric_words))},
    )


@lru_cache(maxsize=16)
def cached_reader(
    words: tuple[tuple[str, tuple[str, ...]], ...],
    phrases: tuple[tuple[str, tuple[str, ...]], ...],
    escape: frozenset[str],
    services: tuple[str, ...],
    metrics: tuple[str, ...],
    mutating: frozenset[str] = frozenset(),
) -> Reader:
    """``build_reader`` once per (vocabulary, names): configured lists change only on restart."""
    return build_reader(dict(words), dict(phrases), escape, services, metrics, mutating)
