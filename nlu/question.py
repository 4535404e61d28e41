"""One question read word by word: windows, phrases, each word's kind, then votes.

Weights (the module constants) are what make "db status" db and "api errors" logs for api: a
command's own name counts most, its other words and phrases less, a typo of a word least; state
words ("down", "ok") and trouble words ("errors") attach to whatever else is named. A tie is
``ambiguous``: the conversation asks, it never guesses. See ``nlu.reader`` for the whole text.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast

from rapidfuzz import fuzz, process, utils

from nlu import lexicon
from nlu.slots import ORDINAL_WORDS, choice_word, yes_no_word
from nlu.tables import Reading, Tables
from nlu.text import FILLERS
from nlu.windows import windows_in

NAME_WEIGHT: Final = 4  # "logs", "db": the command's own name
WORD_WEIGHT: Final = 2  # "errors", "firing", "locks": one of its words
TYPO_WEIGHT: Final = 1  # a word that is only close to one of a command's words
TROUBLE_WEIGHT: Final = 1  # "errors", "failing": logs, unless something else is named
METRIC_WEIGHT: Final = 3  # "mem", "disk": a metric is a metrics question
PHRASE_CUTOFF: Final = 88  # token_sort_ratio for a whole text against an example phrase
SET_CUTOFF: Final = 75  # token_set_ratio sieve before the word-overlap check
# "500s", "5xx", "502": the gateway's numbers, or a service's errors when a service is named.
_HTTP_ERRORS: Final = re.compile(r"[45](?:\d\d|xx)s?")
# What a label value looks like ("api-1", "checkout", "db_2"): never an emoji or punctuation.
_LABEL: Final = re.compile(r"[a-z0-9][a-z0-9._:-]*")
# Words that make a bare name a follow-up to the last answer ("what about api", "web too?").
_FOLLOW_UP: Final = frozenset({"about", "too", "also", "same", "instead", "try", "well", "and", "now", "then"})


@dataclass(frozen=True, slots=True)
class Typo:
    """What a word no table knows exactly is: votes for commands (and the names said), a slot
    guessed, a tie between commands, a state word, or nothing known (``unknown``)."""

    votes: tuple[tuple[str, int], ...] = ()
    named: tuple[str, ...] = ()
    service: str | None = None
    metric: str | None = None
    more_service: str | None = None  # one more service, when the slot is taken ("web and wrkr")
    more_metric: str | None = None  # one more metric, when the slot is taken ("cpu mem dsk")
    ambiguous: tuple[str, ...] = ()
    state: bool = False
    unknown: bool = False


UNKNOWN: Final = Typo(unknown=True)
STATE: Final = Typo(state=True)
# A second service is only taken from a slip or abbreviation of 4+ letters ("pay" or "car" beside
# a service is an everyday word, not payments or cart); a metric from 3 ("dsk", "mem").
_MORE_SERVICE_MIN: Final = 4
_MORE_METRIC_MIN: Final = 3


class QuestionReader(Tables):
    """Reads one question (one part of a text) against the tables."""

    __slots__ = ()

    def _one(self, tokens: list[str], now: datetime | None) -> Reading:  # noqa: C901 - the slot rules for one question, in the order that settles ties
        reading = Reading()
        votes: dict[str, int] = {}
        rest = self._windows(tokens, reading, now)
        named: set[str] = set()
        rest = self._phrases(rest, votes, named)
        phrased = frozenset(votes)  # commands a whole phrase voted for ("going off")
        state = _says_state(rest)
        typos: dict[str, int] = {}  # votes from typos and other forms of a word (counted in after the loop)
        dual: str | None = None  # a service also spelled like a command word ("api")
        http_errors = 0
        state_metric: str | None = None  # "up": a metric only next to a metrics word
        opener = next((t for t in rest if (t not in FILLERS or t in self.keep) and t not in lexicon.OPENING_TALK), None)
        adverbs = _ordinal_adverbs(rest)
        for at, token in enumerate(rest):
            if at in adverbs:
                continue  # "I'd like to focus on those first": an adverb, not item 1
            if token in lexicon.STATE_WORDS:
                state = True
                if token in self.names:  # "status" itself: a name "help status" can be about
                    named.add(token)
                state_metric = state_metric or self.metrics.exact(token)
                continue
            if token in FILLERS and token not in self.keep:
                continue
            if token[:1] in ("4", "5") and _HTTP_ERRORS.fullmatch(token):
                http_errors += 1
                continue
            commands = self.words.get(token, ())
            service = self.services.exact(token)
            if service is not None and commands:
                dual = service
                continue
            if commands:
                self._vote(token, commands, reading, votes, named)
                continue
            if not self._slot(token, reading):
                state = self._typo(token, reading, typos, named, opens=token == opener) or state
        _count_in(votes, typos)
        if state_metric is not None and reading.metric is None and "metrics" in votes:
            reading.metric = state_metric
        if self._only_paged(votes, rest, phrased) and (state or len(votes) > 1):
            del votes["alerts"]  # "got paged, what's going on?": being paged is why they ask how things are
        decided = self._decide(reading, votes, state, dual, http_errors, named, tokens)
        only_typo = decided.command is not None and votes.get(decided.command, 0) == typos.get(decided.command, 0) > 0
        if only_typo and decided.command not in named:  # "alrts" is a slip of the name itself: strong
            decided.weak = decided.weak or not decided.slotted()  # "its fixed": only a typo of "fired"
        if decided.command == "alerts":
            decided.filter = _alert_filter(tokens, decided.unknown)
        return decided

    def _vote(
        self, token: str, commands: Sequence[str], reading: Reading, votes: dict[str, int], named: set[str]
    ) -> None:
        """A word of the vocabulary: its commands' votes (a name most, a trouble word least)."""
        if token in self.names or (token in lexicon.HELP_NAMES and "help" in commands):
            named.add(token if token in self.names else "help")  # "explain metrics": as strong as "help"
        if reading.choice is None and "more" in commands:  # "more on 2": item 2, not the next page
            votes["more"] = votes.get("more", 0) + 1
            return
        strong = (
            token in self.names or token in lexicon.SUBJECTS or (token in lexicon.SEVERITIES and "alerts" in commands)
        )
        weight = NAME_WEIGHT if strong else WORD_WEIGHT  # "anything critical I should know?": alerts
        if token in lexicon.TROUBLE_WORDS:
            weight = TROUBLE_WEIGHT
        for command in commands:
            votes[command] = votes.get(command, 0) + weight

    def _windows(self, tokens: list[str], reading: Reading, now: datetime | None) -> list[str]:
        rest: list[str] = []
        after = 0
        for start, found in windows_in(tokens, now):
            rest += tokens[after:start]
            after = start + found.consumed
            if reading.window is None and reading.window_rejected is None:
                reading.window = found.duration
                reading.window_rejected = found.text if reading.window is None else None
            else:
                reading.unknown.append(found.text)  # a second window: report it, don't pick silently
        return rest + tokens[after:]

    def _phrases(self, tokens: list[str], votes: dict[str, int], named: set[str]) -> list[str]:
        """Vote for each phrase found whole in ``tokens`` and take its words out (longest first)."""
        rest = list(tokens)
        # Only phrases opening with a word of the text can be in it; kept in phrase order (longest first).
        candidates = sorted({i for token in set(rest) for i in self.phrase_starts.get(token, ())})
        for words, command in (self.phrases[i] for i in candidates):
            if len(words) > len(rest):
                continue
            at = find_run(rest, words)
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
        if service is not None and (reading.service is None or "service" in reading.guessed):
            reading.service = service  # a name said beats one guessed from another word ("pulling": billing?)
            reading.guessed.discard("service")
            return True
        metric = self.metrics.exact(token)
        if metric is not None:
            if reading.metric is None or "metric" in reading.guessed:
                reading.metric = metric  # a name said beats one guessed from another word
                reading.guessed.discard("metric")
                reading.hint = token in lexicon.HINT_METRIC_WORDS  # "pool full": the pool's, not the disk
            elif metric != reading.metric and metric not in reading.metrics:
                reading.metrics.append(metric)  # "cpu, memory": a second metrics question
            return True
        choice = choice_word(token)
        if choice is not None and reading.choice is None:
            reading.choice = choice
            return True
        yes = yes_no_word(token)
        if yes is not None and reading.yes is None:
            reading.yes = yes
            return True
        if service is not None:  # "logs web worker": a second service, asked about too
            if service != reading.service and service not in reading.services:
                reading.services.append(service)
            return True
        return False

    def _typo(
        self, token: str, reading: Reading, votes: dict[str, int], named: set[str], *, opens: bool = True
    ) -> bool:
        """A word no table knows exactly: a mistyped/abbreviated name or command word, or unknown.

        True when it is a typo of a state word (``stauts``), which only says "is it OK?". What the
        word is depends only on the word and on which slots are still open, so a text read part by
        part and then whole works each word out once (``Reader.read`` empties the memo per text).
        """
        key = ("typo", token, opens, not reading.service, not reading.metric)
        typo = self.memo.get(key)
        if typo is None:
            typo = self.memo[key] = self._what_typo(token, opens=opens, service=key[3], metric=key[4])
        typo = cast(Typo, typo)
        for command, weight in typo.votes:
            votes[command] = votes.get(command, 0) + weight
        named.update(typo.named)
        if typo.service is not None:
            reading.service = typo.service
            reading.guessed.add("service")  # a prefix, abbreviation or typo: weaker than a word said
        if typo.metric is not None:
            reading.metric = typo.metric
            reading.guessed.add("metric")
        if typo.more_service is not None and typo.more_service not in (reading.service, *reading.services):
            reading.services.append(typo.more_service)
        if typo.more_metric is not None and typo.more_metric not in (reading.metric, *reading.metrics):
            reading.metrics.append(typo.more_metric)
        if typo.ambiguous:
            reading.ambiguous = typo.ambiguous
        if typo.unknown:
            reading.unknown.append(token)
        return typo.state

    def _what_typo(self, token: str, *, opens: bool, service: bool, metric: bool) -> Typo:  # noqa: PLR0911 - one return per kind of word, in the order that settles ties
        """What ``token`` is a typo of, with the service and metric slots open or not. A typo of a
        command that changes something counts only where a command opens the text (``akc 2``;
        never "netops fixed the resolver", which is no "resolve")."""
        if not token[:1].isalpha() or token in lexicon.CARRIER_WORDS or self._plain(token):
            return UNKNOWN  # an everyday word spelled right is no typo of a name
        variant = self._variant(token, opens=opens)
        if variant is not None:
            return variant
        near = self._near(token)  # every table's typo candidates in one pass
        hits = [(d, i) for d, i in near if i < self.near_services]
        best = hits[0][0] if hits else None
        commands = {c for d, i in hits if d == best for c in self.fuzzy_commands[i]}
        if len(commands) == 1 and not (commands & self.mutating and not opens):
            command = commands.pop()
            word = self.near.choices[next(i for d, i in hits if d == best)]
            if word in lexicon.STATE_WORDS:  # "staus": a slip of status itself is as strong as the word
                return Typo(state=True, named=(word,)) if word in self.names else STATE
            weight = TYPO_WEIGHT if word not in self.names else NAME_WEIGHT - 1
            return Typo(votes=((command, weight),), named=(command,) if word in self.names else ())
        found_service = self._name(token, "services", near) if service else None
        found_metric = self._name(token, "metrics", near) if metric else None
        if found_service is not None and found_metric is not None:  # "cpi": api or cpu? Not a guess to make
            return UNKNOWN
        if found_service is not None:
            return Typo(service=found_service)
        if found_metric is not None:
            return Typo(metric=found_metric)
        if (
            not service
            and len(token) >= _MORE_SERVICE_MIN
            and (more := self._name(token, "services", near)) is not None
        ):
            return Typo(more_service=more)  # "wokrer n paymnts logs": a second service, mistyped
        if not metric and len(token) >= _MORE_METRIC_MIN and (more := self._name(token, "metrics", near)) is not None:
            return Typo(more_metric=more)  # "cpu mem dsk 1h": a third metric, shortened
        if len(commands) > 1:
            return Typo(ambiguous=tuple(c for c in self.order if c in commands))
        if not hits and any(i >= self.near_states for _, i in near):
            return STATE  # "hapening": a state word mistyped, "is it OK?"
        shortened = None if hits else self._shortened(token)  # "gatwy", "mtrcs": a name with vowels left out
        return shortened or UNKNOWN

    def _near(self, token: str) -> list[tuple[int, int]]:
        """``self.near.match(token)``, once per text (a word may be worked out with different slots open)."""
        key = ("near", token)
        if key not in self.memo:
            self.memo[key] = self.near.match(token)
        return cast(list[tuple[int, int]], self.memo[key])

    def _name(self, token: str, table: str, near: list[tuple[int, int]]) -> str | None:
        """The service (or metric) ``token`` names, with the typo hits ``near`` holds; once per text."""
        key = (table, token)
        if key not in self.memo:
            low, high, names = (
                (self.near_services, self.near_metrics, self.services)
                if table == "services"
                else (self.near_metrics, self.near_states, self.metrics)
            )
            self.memo[key] = names.find(token, typos=[(d, i - low) for d, i in near if low <= i < high])
        return cast(str | None, self.memo[key])

    def _decide(  # noqa: C901, PLR0911, PLR0912 - the precedence of readings; split, the order that decides ties scatters
        self,
        reading: Reading,
        votes: dict[str, int],
        state: bool,
        dual: str | None,
        http_errors: int,
        named: set[str],
        tokens: list[str],
    ) -> Reading:
        if (
            reading.metric is not None
            and (reading.service is not None or any(c != "help" for c in votes))  # "usage" is no subject
            and "metrics" not in votes
            and ("metric" in reading.guessed)
        ):
            # "payments err", "repl lag": a service or a command word said, a metric only guessed
            # at from a prefix (a "replication_lag" alias does not make "repl lag" a graph)
            reading.metric = None
        hinted = reading.metric is not None and reading.hint and "metrics" not in votes
        if hinted and any(c not in ("help", "metrics") for c in votes):
            reading.metric = None  # "pool full again??": the db's pool, no disk graph
        if reading.metric is not None and "metrics" in self.names:
            reading.bare = "metrics" not in votes  # "mem", "how about load?": only the metric was named
            votes["metrics"] = votes.get("metrics", 0) + METRIC_WEIGHT
        service = reading.service or dual
        if http_errors:
            for command in ("logs",) if reading.service else ("logs", "gateway") if dual else ("gateway",):
                if command in self.names:
                    votes[command] = votes.get(command, 0) + WORD_WEIGHT * http_errors
        if dual is not None and reading.service is not None and "service" not in reading.guessed:
            if dual != reading.service and dual not in reading.services:  # "logs web api", "errors on api web":
                reading.services.append(dual)  # beside another service's name, "api" is one more service
                at = {self.services.exact(t): i for i, t in reversed(list(enumerate(tokens)))}
                if at.get(dual, len(tokens)) < at.get(reading.service, len(tokens)):  # "api and auth": in order
                    reading.service, reading.services = dual, [reading.service, *reading.services[:-1]]
            dual = None
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
            if state and "service" in reading.guessed and not reading.slotted(but="service"):
                reading.service = None  # "status report": the state word said, not a service guessed at
            if reading.ambiguous or reading.slotted():
                if reading.services and not reading.ambiguous:  # "web api": each name a follow-up
                    reading.also = [Reading(service=s, window=reading.window) for s in reading.services]
                return reading
            if state and "status" in self.names:
                reading.command = "status"
                # Only "up"/"ok"-like words: fine alone ("we good?"), too weak to be a second question.
                reading.weak = "status" not in named and not any("status" in self.words.get(t, ()) for t in tokens)
                return reading
            return self._closest_example(reading, tokens)
        if "again" in votes and not lexicon.THAT & set(tokens) and (len(votes) > 1 or "status" in named):
            del votes["again"]  # "haproxy again", "db again": that command anew ("that query again" repeats)
            if not votes:  # "status again": status is a state word, it has no vote of its own
                votes["status"] = NAME_WEIGHT
        if reading.choice is not None and "alerts" in votes and any(c in self.numbered for c in votes):
            del votes["alerts"]  # "acknowledge alert number two", "history of alert 3": the alert is the object
        ranked = sorted(votes, key=lambda c: (-votes[c], self.rank.get(c, 99)))
        top = ranked[0]
        if len(ranked) > 1 and votes[ranked[1]] == votes[top]:
            tied = {c for c in ranked if votes[c] == votes[top]}
            if "more" in tied and reading.choice is not None:
                tied.discard("more")
            if len(tied) > 1:
                reading.ambiguous = tuple(c for c in self.order if c in tied)
                return reading
        changing = [c for c in ranked if c in self.mutating and c != top]
        if changing and top not in self.mutating:  # "mute alerts": a change was asked for beside a question
            reading.ambiguous = tuple(c for c in self.order if c in (top, changing[0]))
            return reading
        if top in self.mutating and len(ranked) > 1 and top not in named:  # only a clear name changes things
            reading.ambiguous = tuple(c for c in self.order if c in ranked[:2])
            return reading
        if top == "more" and reading.choice is not None:  # "more on 2": that item
            return reading
        reading.command = top
        if top not in ("metrics", "again"):  # "cpu again but 6h" keeps its metric for the follow-up
            reading.metric, reading.metrics = None, []
        if top == "metrics" and reading.metrics:
            reading.also = [Reading(command="metrics", metric=m, window=reading.window) for m in reading.metrics]
        if top == "logs" and reading.services:  # "logs web api 1h": each service's logs, same window
            reading.also = [Reading(command="logs", service=s, window=reading.window) for s in reading.services]
        if service is not None and top != "logs" and reading.service == dual and dual is not None:
            reading.service = None
        if top == "help" and reading.topic is None:
            return reading
        return reading

    def _closest_example(self, reading: Reading, tokens: list[str]) -> Reading:
        """Nothing matched word by word: the example phrase this text is a variant of, if one is close.

        Either the whole text reads like the phrase (``token_sort_ratio``: typos, order), or it
        says all but one of the phrase's words and at most one other (``token_set_ratio`` as a
        first sieve, then that overlap: "what can this do" for "what can you do", "how we
        doing" for "how are we doing"). Two commands found so: ask.
        """
        if not self.examples or len(tokens) < 2:
            return reading
        text = utils.default_process(" ".join(tokens))
        # A text much longer than every example can reach neither the ratio nor the overlap: skip the scans.
        # token_sort_ratio is the ratio of the words sorted: the examples were sorted at start-up.
        found = (
            process.extractOne(
                " ".join(sorted(text.split())),
                self.sorted_examples,
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=PHRASE_CUTOFF,
            )
            if len(text) <= 1.3 * self.longest_example
            else None
        )
        commands = {self.example_commands[found[2]]} if found is not None else set()
        said = set(tokens)
        if not commands and len(said) <= self.most_example_words + 1:
            # Only examples sharing two words with the text can pass the overlap check below.
            shared = Counter(i for t in said for i in self.phrase_index.get(t, ()))
            for i, n in shared.items():
                words = self.example_words[i]
                if n < 2 or fuzz.token_set_ratio(text, self.examples[i], processor=None) < SET_CUTOFF:
                    continue
                if len(said & words) >= max(2, len(words) - 1) and len(said - words) <= 1:
                    commands.add(self.example_commands[i])
        if len(commands) != 1:
            return Reading(ambiguous=tuple(c for c in self.order if c in commands)) if commands else reading
        command = commands.pop()
        return Reading(ambiguous=(command,)) if command in self.mutating else Reading(command=command)

    def _exact_commands(self, token: str) -> frozenset[str]:
        return frozenset(self.words.get(token, ()))

    def _only_paged(self, votes: dict[str, int], tokens: Sequence[str], phrased: frozenset[str]) -> bool:
        """Whether the alerts words said are only about being paged (``got paged``, ``woken by a page``)."""
        if "alerts" not in votes or "alerts" in phrased or not any(t in lexicon.PAGED for t in tokens):
            return False
        return all(t in lexicon.PAGED or "alerts" not in self.words.get(t, ()) for t in tokens)

    def _plain(self, token: str) -> bool:
        """An everyday word, or a form of one ("restarted" is no typo of a "restarts" alias)."""
        return token in lexicon.PLAIN_WORDS or any(
            stem in lexicon.PLAIN_WORDS and stem not in self.words for stem in inflected(token)
        )

    def _shortened(self, token: str) -> Typo | None:
        """The one command name ``token`` abbreviates (never a change: those are typed)."""
        shortened = [self.long_names.names[i] for i in self.long_names.of(token)]
        if len(shortened) != 1 or shortened[0] in self.mutating:
            return None
        return Typo(votes=((shortened[0], NAME_WEIGHT - 1),), named=(shortened[0],))

    def _variant(self, token: str, *, opens: bool = True) -> Typo | None:
        """The command word ``token`` is another form of: inflected (``acking`` → ack, ``resolved``
        → resolve) or, for a short name, two letters swapped (``tpo`` → top; the typo pass only
        looks at words of 4+ letters). None when it is neither, or a change not opening the text."""
        stem = next((stem for stem in inflected(token) if stem in self.words), None)
        if stem is not None and not opens and set(self.words[stem]) & self.mutating:
            return None  # "... who I'm escalating to": a change only where a command opens the text
        if stem is not None:
            weight = NAME_WEIGHT - 1 if stem in self.names else TYPO_WEIGHT
            return Typo(votes=tuple((command, weight) for command in self.words[stem]))
        swapped = [name for name in self.order if len(name) == 3 and _swapped(token, name)] if len(token) == 3 else []
        if len(swapped) == 1:
            return Typo(votes=((swapped[0], NAME_WEIGHT - 1),), named=(swapped[0],))
        return None


def inflected(token: str) -> tuple[str, ...]:
    """The stems ``token`` may be an -ing/-ed/-s form of (``stopping`` → stop, ``resolving`` → resolve)."""
    for suffix in ("ing", "ed"):
        if token.endswith(suffix) and len(token) > len(suffix) + 2:
            stem = token[: -len(suffix)]
            doubled = (stem[:-1],) if len(stem) > 2 and stem[-1] == stem[-2] else ()
            return (stem, *doubled, stem + "e")
    return ()


def _swapped(token: str, word: str) -> bool:
    """``word`` is ``token`` with two neighbouring letters swapped back."""
    if len(token) != len(word) or sorted(token) != sorted(word):
        return False
    diff = [i for i in range(len(token)) if token[i] != word[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1


def _ordinal_adverbs(tokens: Sequence[str]) -> frozenset[int]:
    """Where an ordinal word ("first", "second") is no list choice: in a longer text, neither after
    "the"/"#"/"number" nor before "one"/"alert"/"item" ("the first one", "second alert", "first")."""
    if len([t for t in tokens if t not in FILLERS]) <= 3:
        return frozenset()
    return frozenset(
        i
        for i, t in enumerate(tokens)
        if t in ORDINAL_WORDS
        and not (i and tokens[i - 1] in _CHOICE_BEFORE)
        and not (i + 1 < len(tokens) and tokens[i + 1] in _CHOICE_AFTER)
    )


_CHOICE_BEFORE: Final = frozenset({"the", "#", "number", "no", "item", "option", "choice", "pick", "take", "is"})
_CHOICE_AFTER: Final = frozenset({"one", "alert", "item", "page", "incident", "option", "entry", "line"})


def _count_in(votes: dict[str, int], more: dict[str, int]) -> None:
    for command, count in more.items():
        votes[command] = votes.get(command, 0) + count


def _says_state(tokens: Sequence[str]) -> bool:
    """``what's going on``: a state question in two words that alone are filler."""
    return any(pair in lexicon.STATE_PAIRS for pair in itertools.pairwise(tokens))


def _alert_filter(tokens: Sequence[str], unknown: Sequence[str]) -> str | None:
    """What narrows an alerts list: a severity said anywhere ("any crit alerts"), or the one word
    right after the command's own name that is nothing else ("alerts checkout", "alert api-1");
    never a word of everyday phrasing ("what fired overnight" is all alerts)."""
    for token in tokens:
        if token in lexicon.SEVERITIES:
            return lexicon.SEVERITIES[token]
    for before, after in itertools.pairwise(tokens):
        if before in ("alerts", "alert") and after in unknown and _LABEL.fullmatch(after) and not _everyday(after):
            return after
    return None


def _everyday(word: str) -> bool:
    """A word of everyday phrasing, never a label value to narrow alerts by ("atm", "both")."""
    return word in lexicon.NOT_LABELS or word in lexicon.NOW_WORDS or word in lexicon.PLAIN_WORDS or word in FILLERS


def find_run(tokens: Sequence[str], words: tuple[str, ...]) -> int:
    """Index where ``words`` occur consecutively in ``tokens``, else -1."""
    first = words[0]
    for i in range(len(tokens) - len(words) + 1):
        if tokens[i] == first and tuple(tokens[i : i + len(words)]) == words:
            return i
    return -1
