"""One sender's conversation: the text of a message in, the text of the reply out.

Knows nothing of SMS or HTTP: ``bot/`` hands in the text with a ``Pager`` (how to cut an answer
into SMS pages) and sends back what it gets. Here the text is understood in context (what the
open question asks, the last list shown), then routed to one of: an aside (``asides``: small talk, an
action we cannot do), the open question's slot filling (``filling``), a bare follow-up
(``followups``), or a command from the registry (``dispatch``); further questions in the same
text go to ``several``. Everything that must survive to the next message is written into the
``Session``, including the kept pages ``more`` hands back.

Cost per message: one ``parse`` against a vocabulary built once, at most one machine step, and
the handler's own monitor calls.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from dialogs.answer import Answer
from dialogs.asides import (
    SMALL_TALK,
    SMALL_TALK_HINT,
    cant_do,
    follow_up_cue,
    points_back,
    said_exactly,
    small_talk,
)
from dialogs.catalog import REGISTRY
from dialogs.dispatch import Dispatcher
from dialogs.filling import SlotFilling
from dialogs.followups import FollowUps
from dialogs.forms import Forms
from dialogs.prompts import Prompts
from dialogs.query import Item, Query
from dialogs.registry import CommandSpec, Registry
from dialogs.session import IDLE, Session
from dialogs.several import Pager, SeveralQuestions
from dialogs.turn import WINDOW_LIMITS, Turn, expired_text, query_of
from monitors.registry import Monitors
from nlu import Intent, parse

__all__ = ["SMALL_TALK", "SMALL_TALK_HINT", "Conversation", "Pager", "Reply", "one_page"]


def one_page(text: str) -> list[str]:
    return [text]


@dataclass(frozen=True, slots=True)
class Reply:
    text: str  # the page to send now
    command: str | None = None  # the command the text named, for the service's own metrics


class Conversation:
    def __init__(self, monitors: Monitors, registry: Registry = REGISTRY, *, desk: object | None = None) -> None:
        self.monitors = monitors
        self.registry = registry
        self.forms = Forms(registry)
        self.prompts = Prompts(monitors)
        self.dispatcher = Dispatcher(registry, monitors, desk)
        self.filling = SlotFilling(self.forms, self.prompts, self.dispatcher)
        self.followups = FollowUps(registry, self.filling)
        self.several = SeveralQuestions(registry, self.dispatcher, self.filling)

    def understand(self, text: str, expecting: str | None = None, now: datetime | None = None) -> Intent:
        """``now`` anchors clock windows ("since 2am"): the time the message is answered at."""
        return parse(
            text,
            self.registry.vocabulary,
            services=self.monitors.log_services,
            metrics=self.monitors.metric_names,
            expecting=expecting,
            now=now,
        )

    def expecting(self, session: Session) -> str | None:
        """What the open question asks for (so "api" reads as a service), or "choice" after a list."""
        asking = self.forms.asking(session.state)
        if asking is not None:
            return asking.slot.name
        return "choice" if session.items else None

    async def reply(
        self, session: Session, text: str, *, sender: str, now: datetime, expired: bool = False, pager: Pager = one_page
    ) -> Reply:
        """Answer ``text``; the first page is returned, the rest kept in ``session`` for ``more``."""
        if session.draft is None or self.forms.asking(session.state) is None:
            session.state, session.draft = IDLE, None  # no open question (or one this build has no form for)
        intent = self.understand(text, self.expecting(session), now)
        turn = Turn(session, intent, self.dispatcher.context(session, sender, now), expired, text)
        answer = await self._answer(turn)
        if intent.also:
            answer = await self.several.answer(turn, answer, pager)
        if intent.window_rejected and not answer.text.startswith(WINDOW_LIMITS):  # never a silent re-ask
            answer = dataclasses.replace(answer, text=f"{WINDOW_LIMITS} {answer.text}")
        if answer.is_page:
            return Reply(answer.text, intent.command)
        pages = pager(answer.text)
        session.pages = pages[1:]
        return Reply(pages[0], intent.command)

    async def reply_stateless(self, text: str, *, sender: str, now: datetime, pager: Pager = one_page) -> Reply | None:
        """Answer without the session store, or None when ``text`` needs the conversation's memory.

        Without the session a dialog answer cannot be told from a command ("api" answers
        "which service?" and also means gateway): only a ``stateless`` command that reads the
        same whatever a question could be open is answered.
        """
        intent = self.understand(text, now=now)
        spec = self.registry.get(intent.command)
        if spec is None or not spec.stateless:
            return None
        if any(self.understand(text, slot).command != spec.name for slot in self.forms.slot_names):
            return None
        ctx = self.dispatcher.context(None, sender, now)
        answer = await self.dispatcher.run(ctx, spec, query_of(intent, spec))
        return Reply(pager(answer.text)[0], spec.name)

    def _elsewhere(self, turn: Turn) -> bool:
        """A bare name the open question's command does not take ("actually cpu" while asked
        which service for logs): the engineer changed their mind, the dialog is left."""
        draft = turn.session.draft
        spec = self.registry.get(draft.command if draft else None)
        given = [s for s in ("service", "metric") if getattr(turn.intent, s) is not None]
        return spec is not None and bool(given) and all(spec.slot(s) is None for s in given)

    async def _answer(self, turn: Turn) -> Answer:
        session, intent = turn.session, turn.intent
        spec = self.registry.get(intent.command)
        asking = self.forms.asking(session.state)
        if intent.smalltalk or intent.unsupported:
            line = cant_do(intent.unsupported) if intent.unsupported else small_talk(turn.text)
            if asking is not None and session.draft is not None:  # an aside: the question stays open
                return Answer(f"{line} {self.prompts.prompt(session.draft, asking.slot)}")
            # "thx" between a long answer and "more" leaves its kept pages alone, as a miss does.
            return Answer(line, is_page=not intent.unsupported and not intent.also)
        if asking is not None and session.draft is not None:  # an open question
            if spec is not None and spec.name == "help":
                return Answer(self.prompts.help(session.draft, asking.slot))
            # `more`/`again` mean nothing while a question is open: read them as a miss, re-ask.
            if (spec is None and not self._elsewhere(turn)) or (spec is not None and spec.recalls):
                return await self.filling.fill(turn, asking)
            if spec is not None and spec.name == session.draft.command:
                return await self.filling.fill(turn, asking)
            # A new command abandons the dialog, and the list it offered with it.
            session.state, session.draft = IDLE, None
            session.show_list([], "")
        session.misses = 0
        if spec is None:
            return await self.followups.answer(turn)
        if turn.expired and spec.recalls:
            return Answer(expired_text(session))
        if not spec.available(self.monitors):
            return Answer(spec.configure)
        query = _in_context(turn, spec)
        if spec.mutating:
            held = _held(turn, spec, query)
            if held is not None:
                return held
        return await self.filling.ask(turn, spec, query)


def _in_context(turn: Turn, spec: CommandSpec) -> Query:
    """The query a command's text asks, with what the conversation already settled."""
    session, query = turn.session, query_of(turn.intent, spec)
    offered = [i.query for i in session.items if i.query is not None and i.query.command == spec.name]
    if session.list_kind == "readings" and len(offered) == 1:  # "api?" then "the logs one": logs for api
        return offered[0].merged(query)
    last = session.last_query
    partial = _partial(spec, query) and not turn.intent.window_rejected  # a refused window is asked again
    if last is not None and last.command == spec.name and (follow_up_cue(turn.text) or partial):
        # "what about memory" after "metrics cpu 1h": the same window; "errs, go back 6 hrs"
        # after "logs api 1h": a slot said, the one it needs kept from the question before
        return last.merged(query)
    return query


def _held(turn: Turn, spec: CommandSpec, query: Query) -> Answer | None:
    """A change is never made on a guess: asked back when its word was only close, or when it
    points at "that one" of a list; None when it may run."""
    if _unclear_target(turn, spec, query):  # "silence that one" after a list
        return Answer(f"Which alert? Reply with its page code, like {spec.says[0]}.")
    if not said_exactly(turn.text, spec):
        turn.session.show_list([Item(query.spoken(), query=query)], "readings")
        return Answer(f"Did you mean {query.spoken()}? Reply 1 to do it.")
    return None


def _unclear_target(turn: Turn, spec: CommandSpec, query: Query) -> bool:
    """A change pointed at "that one" while a list of several alerts is shown: which one is not
    known (alone, ``ack`` means the latest page; pointing at the list means one of its items)."""
    session = turn.session
    listed = session.list_kind == "alerts" and len(session.items) > 1
    return listed and query.choice is None and spec.slot("choice") is not None and points_back(turn.text)


def _partial(spec: CommandSpec, query: Query) -> bool:
    """Some slot said, but a required one missing: the rest may come from the last question."""
    said = any(query.get(s.name) is not None for s in spec.slots)
    return said and any(query.get(s.name) is None for s in spec.required)
