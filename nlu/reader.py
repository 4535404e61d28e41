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

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, cast

from nlu import lexicon
from nlu.fuzzy import close_matches
from nlu.question import QuestionReader, find_run, inflected
from nlu.slots import choice_word, match_yes_no
from nlu.tables import Reading, build_tables
from nlu.text import FILLERS, drop_fillers, tokenize, worded
from nlu.windows import scan_window, window_positions

# Where a sentence ends inside a text ("Thanks. Could you ..."), not inside "a.m." or "1.5h".
# The first look-behind only makes most spaces fail at once (it is implied by the rest).
_SENTENCE_END: Final = re.compile(
    r"(?<=[.?!])(?<![ap]\.m\.)(?<![ap]m\.)(?:(?<=[a-z0-9)\]'\"][.?!])|(?<=[.?!][.?!]))\s+", re.IGNORECASE
)
# Clause boundaries inside a sentence, to find hedges said aside.
_CLAUSE: Final = re.compile(r"[,;]\s*")
_PARTS: Final = re.compile(r"[,;]|[.?!]\s")
_WORD: Final = re.compile(r"[a-z0-9'’]+")
# A pager reply code: the alert's number and a one- or two-letter action ("4a", "7aa", "4s").
_CODE: Final = re.compile(r"'?(\d{1,4})([a-z]{1,2})'?")
# "502s" are HTTP errors, never a silence of alert 502.
_HTTP_PLURAL: Final = re.compile(r"[45]\d\ds")
# fmt: off
_DROP_CORE: Final = frozenset(
    {"nah", "nvm", "nevermind", "skip", "forget", "scratch", "scrap", "abort", "stop", "cancel", "reset", "clear",
     "never", "drop", "leave", "nm"}
)
# The core words plus the filler around them ("ugh, never mind that question").
_DROP: Final = _DROP_CORE | frozenset(
    {"it", "that", "ugh", "oh", "ah", "no", "thanks", "over", "start", "this", "the", "question", "please",
     "pls", "and", "eh", "meh", "oops", "sorry", "wait", "hmm", "actually", "about", "mind", "all", "everything",
     "what", "i", "said", "asked", "just", "of", "you", "ok", "okay", "whole", "thing", "plz"}
)
# fmt: on
# What may stand between names listed as the answer to "which service?" ("web and worker both pls").
_LIST_WORDS: Final = frozenset({"both", "pls", "plz", "please", "thanks", "thx"})
_HELP_TAILS: Final = frozenset(tail for _, tails in lexicon.HELP_FRAMES for tail in tails)
# A question pointing back at what a sentence before it told ("more about that", "details on it").
_BACK_REFERENCES: Final = frozenset(
    (prep, ref) for prep in ("about", "on", "of", "with", "for") for ref in ("that", "it", "this", "those", "them")
)
# Unions of lexicon sets, made once rather than per word.
_TALK: Final = lexicon.SMALLTALK | lexicon.SMALLTALK_NEUTRAL
_TALK_OR_ACK: Final = _TALK | lexicon.ACK_EMOJI
_THANKS_OR_ACK: Final = lexicon.THANKS | lexicon.ACK_EMOJI


class Reader(QuestionReader):
    """Reads a whole text (see the module docstring)."""

    __slots__ = ()

    def read(self, text: str, expecting: str | None = None, now: datetime | None = None) -> Reading:  # noqa: C901, PLR0911, PLR0912 - the reading pipeline in order (codes, asides, answers, commands)
        self.memo.clear()
        text = asked_sentences(text)
        tokens = _without_pleas(self._joined(tokenize(text)))
        if not tokens:
            return Reading()
        if not any(worded(t) or t == "?" for t in tokens):
            return self._emoji("".join(tokens))
        content = drop_fillers(tokens, self.keep)
        polite = [t for t in tokens if t not in lexicon.POLITE or t in self.keep]
        spoken = [t for t in tokens if worded(t)]
        coded = self._code(spoken, now) if spoken else None  # "4a", "😴 3a": explicit, also inside a question
        if coded is not None:
            return coded
        if expecting is not None:
            answer = self._answer(tokens, content, expecting, now)
            if answer is not None:
                return answer
        if self._is_drop(tokens):
            return Reading(command="reset") if "reset" in self.names else Reading(unknown=tokens)
        if self._is_smalltalk(tokens) or self._news(tokens, text):
            return Reading(smalltalk=True)
        either = self._either(tokens)
        if either:  # "mem or dsk?", "2 or 3": which one is for the engineer to say
            return Reading(unknown=list(content), either=either)
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
        if len(parts) > 1 and any(set(self.words.get(p[0], ())) & self.mutating for p in parts):
            parts = [[self._change_named(p[0]), *p[1:]] for p in parts]  # "ack 3 + sil 4 1h"
        acting = self._acting(parts, now) if parts and parts != [tokens] else None
        if acting is not None:
            return acting
        framed = self._help_frame(parts[0]) if len(parts) > 1 else None
        if framed is not None:  # "What does ack actually do? Does it stop the paging for everyone?"
            named = [self._one(p, now) for p in parts[1:] if any(t in self.names for t in p)]
            framed.also = [r for r in named if r.command and r.command not in self.mutating and not r.ambiguous]
            return framed  # a question named beside it is answered too ("what does ack do? and show alerts")
        if len(parts) > 1:
            readings = [self._one(p, now) for p in parts]
            _share_command(readings, self.by_number)
            readings = _merged(readings, parts, self.mutating)
            if _all_bare(readings) or all(r.command is not None and not r.ambiguous and not r.weak for r in readings):
                first, *rest = readings
                first.also = rest
                return first
        reading = self._one(tokens, now)
        reading.current = reading.window is None and not lexicon.NOW_WORDS.isdisjoint(tokens)
        if reading.command == "again" and (reading.service or reading.metric or reading.window):
            reading.command = None  # "cpu again but 6h": the last question with what changed
        if reading.bare and reading.command == "metrics" and not reading.metrics and not reading.slotted(but="metric"):
            # Only a metric was named: a bare slot, like a bare service. The conversation asks
            # the last question again with it ("metrics cpu 1h" then "how about load?" keeps the
            # hour), or metrics for it when there was none.
            reading.command = None
        return reading

    def _code(self, tokens: list[str], now: datetime | None) -> Reading | None:
        """A pager reply code (``4a``, ``7aa``, ``4s 2h``) or a reference word and number (``log 4``)."""
        code = _CODE.fullmatch(tokens[0])
        if code is not None and code.group(2) in self.codes and not _HTTP_PLURAL.fullmatch(tokens[0]):
            if len(tokens) == 1 and scan_window(tokens, 0, now) is not None:  # "45s" alone is a window
                return None
            command, choice, rest = self.codes[code.group(2)], int(code.group(1)), tokens[1:]
        elif len(tokens) > 1 and tokens[0] in self.ref_words and (number := choice_word(tokens[1])) is not None:
            command, choice, rest = self.ref_words[tokens[0]], number, tokens[2:]
        else:
            return None
        more = [choice_word(t) for t in rest if t not in lexicon.JOINERS]
        if rest and all(n is not None for n in more):  # "4a and 5": the same to each item named
            return Reading(command=command, choice=choice, also=[Reading(command=command, choice=n) for n in more])
        joined = bool(rest) and rest[0] in lexicon.JOINERS
        rest = [t for t in rest if t not in lexicon.JOINERS] if joined else rest
        then = self._code(rest, now) if rest and _CODE.fullmatch(rest[0]) else None
        if then is not None:  # "5a 5s 1h": two codes, each its own change
            return Reading(command=command, choice=choice, also=[then, *then.also])
        if joined and rest:  # "ack 3 + sil 4 1h": a second change, its command's name cut short
            rest = [self._change_named(rest[0]), *rest[1:]]
        reading = self._one(rest, now) if rest else Reading()  # "4s 2h": the duration after the code
        if joined and reading.command in self.mutating and reading.choice is not None and not reading.ambiguous:
            return Reading(command=command, choice=choice, also=[reading])
        reading.command, reading.choice, reading.ambiguous, reading.also = command, choice, (), []
        return reading

    def _change_named(self, token: str) -> str:
        """The one command that changes something whose name ``token`` begins (``sil``: silence),
        where a change was just named exactly; else ``token``."""
        if token in self.words or len(token) < 3:
            return token
        named = sorted((n for n in self.order if n in self.mutating and n.startswith(token)), key=len)
        return named[0] if named and all(n.startswith(named[0]) for n in named) else token  # silence(all)

    def _help_frame(self, tokens: list[str]) -> Reading | None:
        """``what does metrics do``: help about the command named in the middle."""
        if "help" not in self.names:
            return None
        while len(tokens) > 2 and tokens[-1] in ("exactly", "precisely", "again", "actually", "here"):
            tokens = tokens[:-1]  # "what does escalate do exactly?"
        named = [t for t in tokens if t in self.names and t not in ("help", "more", "again")]  # "one more question"
        if "how" in tokens and {"use", "work", "works", "syntax"} & set(tokens) and len(set(named)) == 1:
            return Reading(command="help", topic=named[0])  # "How I use the silence command?"
        if tokens[-1] not in _HELP_TAILS:
            return None
        for head, tails in lexicon.HELP_FRAMES:
            at = find_run(tokens, head)  # "sorry if this is silly, but how does metrics work?"
            if at >= 0 and tokens[-1] in tails and len(tokens) > at + len(head) + 1:
                middle = tokens[at + len(head) : -1]
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

    def _answer(self, tokens: list[str], content: list[str], expecting: str, now: datetime | None) -> Reading | None:  # noqa: C901 - one branch per kind of answer the open question may expect
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
        narrowed = self._one_service(tokens, now) if expecting == "service" else tokens
        either = self._either(tokens)
        if narrowed is None or either:  # "web or worker idk", "2 or 3": which one is asked again
            return Reading(unknown=list(content), either=either)
        reading = self._one(narrowed, now)
        if reading.command in self.mutating or set(reading.ambiguous) & self.mutating:
            return None  # "silnce 1 for 2h" after a list: a change asked for (and confirmed), not a pick
        wanted = {
            "service": reading.service,
            "metric": reading.metric,
            "choice": reading.choice,
            "window": reading.window or reading.window_rejected,
        }.get(expecting)
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
        if expecting == "service" and reading.service is None and reading.metric is not None:
            return None  # "actually cpu" while asked which service: a metrics question instead
        # A command word typed in full leaves the question ("status" while asked for a service),
        # unless that word is the very name being asked for ("api" as a service).
        if reading.command is not None and reading.command != "logs" and not reading.ambiguous:
            named = any(self._exact_commands(t) for t in content) and not any(
                t == reading.service or t == reading.metric for t in content
            )
            if named:
                return None
        reading.command, reading.ambiguous = None, ()
        return reading

    def _one_service(self, tokens: list[str], now: datetime | None) -> list[str] | None:
        """The answer to "which service?": one service, or a list of names ("web and worker",
        "logs web api 1h", "what about web and api": each of them). Several said otherwise ("web
        or worker") is None, unless the first clause names one ("payments, since the checkout
        alert fired": the rest says why)."""
        if len({s for t in tokens if (s := self.services.exact(t))}) < 2:
            return tokens
        windows = window_positions(tokens, now)
        parts: list[list[str]] = [[]]
        for i, token in enumerate(tokens):
            if token in lexicon.JOINERS:
                parts.append([])
            elif i not in windows:
                parts[-1].append(token)
        listed = parts if len(parts) == 1 else parts[1:]  # the first part may frame it ("what about web")
        if "or" not in tokens and all(self._listed(t) for part in listed for t in part):
            return tokens
        first = {s for t in self._split(tokens, now)[0] if (s := self.services.exact(t))}
        if len(first) != 1:
            return None
        return [t for t in tokens if self.services.exact(t) in (None, *first)]

    def _either(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Two things of one kind with "or" between them ("pymnts or auth", "mem or dsk", "2 or 3"),
        as the names they stand for; () when there are none."""
        if "or" not in tokens:
            return ()
        kinds = (self.services.find, self.metrics.find, choice_word)
        pairs = [(tokens[i - 1], tokens[i + 1]) for i in range(1, len(tokens) - 1) if tokens[i] == "or"]
        for a, b in pairs:
            for kind in kinds:
                first, second = kind(a), kind(b)
                if first is not None and second is not None:
                    return (str(first), str(second))
        return ()

    def _listed(self, token: str) -> bool:
        """A word of a list of services: a name, a word of the command that takes them, or filler."""
        return (
            self.services.exact(token) is not None
            or token in _LIST_WORDS
            or "logs" in self.words.get(token, ())
            or (token in FILLERS and token not in self.keep)
        )

    def _is_drop(self, tokens: Sequence[str]) -> bool:
        """``nah``, ``skip it``, ``never mind``, ``forget it``, ``stop it``: drop the question (a bare
        ``stop`` is the carrier's opt-out and never reaches here)."""
        if len(tokens) == 1 and tokens[0] in lexicon.CARRIER_WORDS:
            return False
        return all(t in _DROP for t in tokens) and any(t in _DROP_CORE for t in tokens)

    def _is_smalltalk(self, tokens: Sequence[str]) -> bool:
        said = False
        for t in tokens:
            if t in lexicon.SMALLTALK_NEUTRAL or not worded(t):
                continue
            if t not in lexicon.SMALLTALK:
                return False  # most texts: their first word says something
            said = True
        return said or any(t in ("you", "u", "bot") for t in tokens)  # "are you there?", "you alive?"

    def _unsupported(self, content: Sequence[str]) -> str | None:
        """The verb, when the text opens with an action Operator cannot perform."""
        words = list(content)
        while words and (words[0] in lexicon.POLITE or not worded(words[0])):
            words.pop(0)  # "pls", "🤬": what opens the text before the verb
        if not words:
            return None
        first = words[0]
        two = " ".join(words[:2])
        if two in lexicon.UNSUPPORTED_PHRASES:
            return two
        if self._phrase_at(words, 0) or (first in ("run", "rerun", "redo", "try", "do") and "again" in words):
            return None  # "run that (exact query) again": a phrase of a command we have, not an action
        if any((first, particle) in lexicon.PARTICLE_VERBS for particle in words[1:5]):
            return f"{first} {next(p for p in words[1:5] if (first, p) in lexicon.PARTICLE_VERBS)}"  # "take api-3 out"
        first = self._action_verb(words)
        if first not in lexicon.UNSUPPORTED_VERBS or (len(words) == 1 and first in lexicon.CARRIER_WORDS):
            return None
        if first in lexicon.SEND_VERBS and lexicon.SEND_TARGETS.isdisjoint(words[1:]):
            return None  # "kindly share the database status": send it here, which is what Operator does
        commands = self._exact_commands(first)
        if first in self.names or commands & self.mutating:
            return None  # the vocabulary has this action ("ack" once it exists, "mute" for silence)
        if commands and len(words) == 1:
            return None  # a word of a question alone ("page?" asks about pages)
        return first  # "page bob", "clear the cache": an action, though its word also asks something

    def _acting(self, parts: list[list[str]], now: datetime | None) -> Reading | None:
        """A part asking for an action we cannot do ("please do the needful and restart auth", "hey,
        restart web pls"): said plainly, with the text's questions answered alongside ("status and
        restart web"), never read as a question about what it names."""
        verbs = [(i, verb) for i, part in enumerate(parts) if len(part) > 1 and (verb := self._unsupported(part))]
        if not verbs:
            return None
        at, verb = verbs[0]
        asked = [r for i, part in enumerate(parts) if i != at and (r := self._one(part, now)).command and not r.weak]
        return Reading(unsupported=verb, also=[a for r in asked for a in (r, *r.also)])

    def _action_verb(self, words: Sequence[str]) -> str:
        """The verb of a text opening with ``words``, as the action table spells it."""
        first = words[0]
        if first in lexicon.LIGHT_VERBS:  # "make a rollback of web": the action is the noun after
            noun = next((w for w in words[1:3] if w not in ("a", "an", "the")), first)
            return noun if noun in lexicon.UNSUPPORTED_VERBS else first
        if first.endswith("ing") and first not in self.words:  # "killing pid 42" (not "paged": that is news)
            first = next((stem for stem in inflected(first) if stem in lexicon.UNSUPPORTED_VERBS), first)
        named = self.services.exact(first) is not None or self.metrics.exact(first) is not None
        if first not in lexicon.UNSUPPORTED_VERBS and first not in self.words and not named:
            first = self._unsupported_typo(first)  # "restrat auth": a thumb slip is no question about auth
        return first

    def _unsupported_typo(self, token: str) -> str:
        """The action verb ``token`` is a slip of (``restrat``, ``rollbak``), when it is no everyday
        word and no slip of a command word; else ``token``."""
        known = token in lexicon.STATE_WORDS or token in FILLERS or token in lexicon.SMALLTALK
        if len(token) < 5 or known or self._plain(token):
            return token  # an everyday word ("system")
        key = ("action", token)
        if key not in self.memo:
            self.memo[key] = self._action_slip(token)
        return cast(str, self.memo[key])

    def _action_slip(self, token: str) -> str:
        if any(i < self.near_services for _, i in self._near(token)):
            return token  # a slip of a command word ("stauts")
        hits = self.action_typos.match(token)  # "rstart": start or restart, an action either way
        if hits:
            return self.action_typos.choices[hits[0][1]]
        shortened = self.action_abbreviations.of(token)  # "rollbk": rollback with letters left out
        return self.action_abbreviations.names[shortened[0]] if len(shortened) == 1 else token

    def _joined(self, tokens: list[str]) -> list[str]:
        """``gate way``, ``data base``: two words that are one word of the vocabulary split apart."""
        out: list[str] = []
        for token in tokens:
            if out and out[-1] not in self.keep and token not in self.keep and out[-1] + token in self.words:
                out[-1] += token
            else:
                out.append(token)
        return out

    def _news(self, tokens: Sequence[str], text: str) -> bool:
        """News said in passing, not a question (never with a "?"): thanks or OK with word that
        things are fine (``thx, all good now``, ``all backends green now 👍``), or news opened by
        an interjection or closed by thanks with no word of a question in it (``netops fixed the
        resolver, thanks!``, ``phew ok, it was just the network blip``)."""
        if "?" in text:
            return False
        while len(tokens) > 2 and tokens[-1] in lexicon.VOCATIVES and tokens[-2] in lexicon.THANKS:
            tokens = tokens[:-1]  # "pool drained finally. thx bot": the thanks close it
        if _fine_news(tokens):
            return True
        if tokens[-1] not in lexicon.THANKS and tokens[0] not in lexicon.INTERJECTIONS:
            return False
        return not any(
            t in self.words
            or t in self.keep
            or (t in lexicon.STATE_WORDS and t not in lexicon.SMALLTALK)
            or scan_window(tokens, i)
            for i, t in enumerate(tokens)
        )

    def _phrase_at(self, words: Sequence[str], at: int) -> bool:
        """Whether one of the vocabulary's phrases starts at ``words[at]``."""
        for i in self.phrase_index.get(words[at], ()):
            phrase = self.phrases[i][0]
            if phrase[0] == words[at] and tuple(words[at : at + len(phrase)]) == phrase:
                return True
        return False

    def _split(self, tokens: list[str], now: datetime | None) -> list[list[str]]:
        """Parts between joiners that are not inside a window ("an hour and a half")."""
        parts: list[list[str]] = [[]]
        inside = window_positions(tokens, now)
        for i, token in enumerate(tokens):
            if token in lexicon.JOINERS and i not in inside:
                parts.append([])
            else:
                parts[-1].append(token)
        # Parts that say nothing to look up go: fillers only, or news ("false alarm, resolve 1").
        return [p for p in parts if any(t not in FILLERS or t in self.keep for t in p) and not self._says_nothing(p)]

    def _says_nothing(self, part: Sequence[str]) -> bool:
        """News ("false alarm") or a greeting ("good evening") beside the question: nothing to look up."""
        if tuple(part) in lexicon.NEWS:
            return True
        return all(t in _TALK and t not in self.words for t in part)


def _fine_news(tokens: Sequence[str]) -> bool:
    """Thanks/OK opening, or thanks/thumbs-up closing, around word that things are fine
    ("is everything ok" asks: it opens with neither)."""
    if tokens[0] not in lexicon.SMALLTALK and tokens[-1] not in _THANKS_OR_ACK:
        return False
    rest = [t for t in tokens if t not in _TALK_OR_ACK]
    fine = [t for t in rest if t in lexicon.ALL_FINE]
    # What is fine may be named ("backends green now"): news needs a word saying it is fine.
    return len(fine) == len(rest) or (bool(fine) and len(rest) - len(fine) == 1)


def asked_sentences(text: str) -> str:
    """A long text without the parts that only tell ("Thank you. Could you list the alerts?",
    "I'm seeing errors in the api logs, could you check the database?", "..., I think the alert
    started then"): a sentence or clause that opens like a statement ("I think", "I'm", "sorry")
    and asks nothing, beside one that asks ("?", "could you", "show"). Kept whole otherwise.
    Only the first words of each part are looked at (a cheap split, not a tokenize)."""
    if not _PARTS.search(text):
        return text  # one clause: nothing to leave out (most texts)
    split = [s for s in _SENTENCE_END.split(text.strip()) if s]
    if len(split) == 1:  # one sentence stays, whatever it says; only its clauses may go
        return _asked_clauses(split[0]) if "," in split[0] or ";" in split[0] else split[0]
    sentences = [(s, _words(s), s.rstrip().endswith("?")) for s in split]
    questions = any(q for _, _, q in sentences)
    asked = [(s, w, q) for s, w, q in sentences if q or not _tells(w, narrative=questions)]
    asking = any(q or _opens_request(w) for _, w, q in asked)
    # "It says a gateway server is not up. Can I see more about that?": what "that" is was told before.
    refers = any(pair in _BACK_REFERENCES for _, w, _ in asked for pair in itertools.pairwise(w))
    kept = asked if asking and not refers and len(asked) < len(sentences) else sentences  # news alone stays whole
    joiner = " " if refers else " and "  # "... not up. Can I see more about that?": one question about it
    return joiner.join(_asked_clauses(s) if "," in s or ";" in s else s for s, _, _ in kept)


def _words(text: str) -> list[str]:
    """The words of ``text`` as the reader's tables spell them, without the reader's extras."""
    words = _WORD.findall(text.lower())
    if "'" in text or "’" in text:
        return [w.replace("'", "").replace("’", "") for w in words]
    return words


def _asked_clauses(sentence: str) -> str:
    clauses = [c for c in _CLAUSE.split(sentence) if c.strip()]
    if len(clauses) < 2:
        return sentence
    words = [_words(c) for c in clauses]
    asks = [
        i
        for i, w in enumerate(words)
        if w and (w[0] in lexicon.REQUEST_OPENERS or (i == len(words) - 1 and sentence.rstrip().endswith("?")))
    ]
    if not asks:
        return sentence
    # A statement goes ("I'm seeing errors"), and a guess said after the first clause ("..., I think it started then").
    told = lexicon.CLAUSE_STATEMENT_OPENERS
    kept = [
        c for i, (c, w) in enumerate(zip(clauses, words, strict=True))
        if i in asks or not (_tells(w, openers=told) or (i and _hedges(w)))
    ]  # fmt: skip
    return ", ".join(kept)


def _tells(tokens: Sequence[str], *, narrative: bool = False, openers: frozenset[str] | None = None) -> bool:
    """Whether a sentence (or clause) only tells: it opens like a statement ("I think", "sorry"),
    or, beside a question, it is a story of six words or more that opens with no request."""
    if not tokens:
        return False
    if tuple(tokens[:2]) in lexicon.REQUEST_PAIRS:  # "I need ...", unless it says why ("I want to see whether ...")
        return bool({"whether", "if", "why", "because"} & set(tokens))
    if narrative and len(tokens) >= 6 and tokens[0] not in lexicon.REQUEST_OPENERS:
        return True  # "... again? A fix just went out and I want to see whether the errors went down."
    return tokens[0] in (lexicon.STATEMENT_OPENERS if openers is None else openers)


def _opens_request(tokens: Sequence[str]) -> bool:
    words = [t for t in tokens if t not in lexicon.OPENING_TALK or t in lexicon.REQUEST_OPENERS]
    return bool(words) and (words[0] in lexicon.REQUEST_OPENERS or tuple(words[:2]) in lexicon.REQUEST_PAIRS)


def _hedges(tokens: Sequence[str]) -> bool:
    """``I think the alert started then``, ``not sure which``: a guess said aside, asking nothing."""
    return any(tuple(tokens[: len(h)]) == h for h in lexicon.HEDGES)


def _without_pleas(tokens: list[str]) -> list[str]:
    """``who is on call now? I need help``: a plea beside a question is no question of its own."""
    if "help" not in tokens:
        return tokens
    for plea in lexicon.PLEAS:
        at = find_run(tokens, plea)
        after = tokens[at + len(plea)] if 0 <= at < len(tokens) - len(plea) else ""
        if at >= 0 and len(tokens) > len(plea) + 1 and after not in ("with", "on", "using", "about", "for"):
            return tokens[:at] + tokens[at + len(plea) :]
    return tokens


def _asides(
    pairs: list[tuple[Reading, Sequence[str]]], mutating: frozenset[str]
) -> list[tuple[Reading, Sequence[str]]]:
    """The parts that ask something, without those that only say why or how things went:
    a plea ("I need help"), an alert's firing reported ("payments memory alert just fired"),
    news beside an action ("resolving 4, gateway looks happy again")."""
    asked = [r.command for r, _ in pairs if r.command is not None]
    acting = any(c in mutating for c in asked)

    def aside(reading: Reading, part: Sequence[str]) -> bool:
        others = [c for c in asked if c != reading.command]
        if tuple(part) in lexicon.PLEAS and others:
            return True
        if reading.command == "alerts" and others and reading.choice is None:
            if "it" in part and any(r.choice is not None for r, _ in pairs):  # "alert 3? ... how often it fired"
                return True
            return bool(lexicon.FIRED_NEWS & set(part)) and not lexicon.QUESTION_WORDS & set(part)
        fine = [t for t in part if t in lexicon.ALL_FINE]
        return acting and reading.command not in mutating and bool(fine) and len(part) - len(fine) <= 2

    kept = [(r, p) for r, p in pairs if not aside(r, p)]
    return kept or pairs


def _merged(readings: list[Reading], parts: Sequence[Sequence[str]], mutating: frozenset[str]) -> list[Reading]:
    """Parts of one question said twice merged: ``I forgot the syntax for alerts, help?`` is help
    about alerts; ``how are the replicas, any lag?`` one db question; ``api logs, errors only``
    one logs question (parts of one command that say no slot two ways are one question, unless
    both name the command: ``logs web 6h and logs`` asks for logs of another service)."""
    pairs = _asides(list(zip(readings, parts, strict=True)), mutating)
    readings = [r for r, _ in pairs]
    acts = [r for r in readings if r.command in mutating and r.choice is None]
    picked = [r for r in readings if r.command == "alerts" and r.choice is not None and not r.filter]
    if len(acts) == 1 and len(picked) == 1 and len(readings) == 2:  # "I take the alert 2, ack": ack 2
        acts[0].choice = picked[0].choice
        return acts
    if any(r.command == "reset" for r in readings) and any(r.command not in (None, "reset") for r in readings):
        pairs = [(r, p) for r, p in pairs if r.command != "reset"]  # "nevermind, what's firing?": the question
    helps = [r for r, _ in pairs if r.command == "help"]
    if helps:
        others = {r.command for r, _ in pairs if r.command not in (None, "help")}
        topic = next((r.topic for r in helps if r.topic), None) or (others.pop() if len(others) == 1 else None)
        helps[0].topic = topic
        return [helps[0]]
    kept: list[tuple[Reading, Sequence[str]]] = []
    for reading, part in pairs:
        same = next(
            (k for k, p in kept if _compatible(k, reading) and not (k.command in p and reading.command in part)), None
        )
        if same is None:
            kept.append((reading, part))
            continue
        for slot in _SLOTS:  # "web throwing 502s, show its logs 15m": one logs question with both slots
            if getattr(same, slot) is None:
                setattr(same, slot, getattr(reading, slot))
    return [r for r, _ in kept]


_SLOTS: Final = ("service", "window", "window_rejected", "choice", "metric", "topic", "filter")


def _compatible(a: Reading, b: Reading) -> bool:
    """Whether ``a`` and ``b`` can be one question: the same command, no slot said two ways."""
    if a.command is None or a.command != b.command or a.ambiguous or b.ambiguous or a.also or b.also:
        return False
    if a.metrics or b.metrics or a.services or b.services:
        return False
    return all(getattr(a, s) is None or getattr(b, s) is None or getattr(a, s) == getattr(b, s) for s in _SLOTS)


def _all_bare(readings: Sequence[Reading]) -> bool:
    """``web and worker``, ``mem and disk`` after an answer: each part only a name, all of one kind.
    They ask the last question again for each (the conversation knows which question that was),
    so each is left without a command."""

    def dual(r: Reading) -> bool:  # "api" alone: logs for api or the gateway; among names, a name
        return r.service is not None and r.command is None and r.metric is None and r.choice is None

    if any((r.command is not None and not r.bare) or (r.ambiguous and not dual(r)) for r in readings):
        return False
    if any(r.unknown or r.guessed for r in readings):
        return False
    kinds = {("service" if r.service else "metric" if r.metric else "") for r in readings}
    if len(kinds) != 1 or "" in kinds:
        return False
    for r in readings:
        r.command, r.ambiguous = None, ()
    return True


def _share_command(readings: Sequence[Reading], numbered: frozenset[str] = frozenset()) -> None:
    """``logs api 1h and web``: a part that only names a service (or a metric) asks the other
    part's question for it - with its window, unless it has its own - instead of being dropped;
    ``ack 7 and 8``: a bare number does the other part's ``numbered`` command to that item."""
    commands = {r.command for r in readings if r.command is not None}
    if len(commands) > 1:
        return
    command = commands.pop() if commands else None
    for r in readings:
        named: object = r.service if command == "logs" else r.metric if command == "metrics" else None
        if command in numbered and r.choice is not None and not r.slotted(but="choice"):
            named = r.choice
        settled = not r.ambiguous or command in r.ambiguous  # "logs web and api 15m": api is a service here
        if r.command is None and named is not None and settled and not (r.unknown or r.guessed):
            r.command, r.bare, r.ambiguous = command, False, ()
    # "metrics cpu 1h and memory", "cpu + load last 6h": the one window said is every part's.
    windows = {r.window for r in readings if r.window is not None}
    if len(windows) == 1:
        window = windows.pop()
        for r in readings:
            if r.command == command and r.window is None and (r.service or r.metric):
                r.window = window


def build_reader(
    words: Mapping[str, Sequence[str]],
    phrases: Mapping[str, Sequence[str]],
    escape: frozenset[str],
    services: Sequence[str],
    metrics: Sequence[str],
    mutating: frozenset[str] = frozenset(),
    codes: Mapping[str, str] | None = None,
    ref_words: Mapping[str, str] | None = None,
) -> Reader:
    """A ``Reader`` for these commands (help order; each with its words and phrases) and names.

    ``mutating`` commands change something: one that is only one of two readings (a tie, or
    words of another command beside its own) is a question, never a guess. A typo of one is
    read as that command: the conversation, which has the text as typed, confirms it first.
    """
    return build_tables(
        words, phrases, escape, services, metrics, mutating, kind=Reader, codes=codes, ref_words=ref_words
    )
