"""Slot filling: start a command's form, take answers to its open question, run it when complete.

An answer that fills nothing is a miss: the question is asked again with its options, and after
``MAX_MISSES`` in a row the dialog resets and says so. A number picks from the offered options.
"""

from __future__ import annotations

from dialogs.answer import Answer
from dialogs.dispatch import Dispatcher, remember
from dialogs.forms import Asking, Forms
from dialogs.prompts import Prompts
from dialogs.query import Query
from dialogs.registry import CommandSpec
from dialogs.session import IDLE
from dialogs.turn import WINDOW_LIMITS, Turn, query_of

MAX_MISSES = 3


class SlotFilling:
    def __init__(self, forms: Forms, prompts: Prompts, dispatcher: Dispatcher) -> None:
        self.forms = forms
        self.prompts = prompts
        self.dispatcher = dispatcher

    async def ask(self, turn: Turn, spec: CommandSpec, query: Query) -> Answer:
        """Ask ``query``: through its form when the command has one (missing slots are asked), else run it."""
        if spec.name in self.forms.commands:
            turn.session.draft = query
            turn.session.last_command = spec.name
            return await self._advance(turn)
        answer = await self.dispatcher.run(turn.ctx, spec, query)
        remember(turn.session, answer)
        return answer

    async def fill(self, turn: Turn, asking: Asking) -> Answer:
        """An answer to the open question: fill the draft, or count a miss and ask again."""
        session, intent = turn.session, turn.intent
        draft = session.draft
        assert draft is not None  # an open question always has its draft (Session.loads keeps it so)
        filled = draft.merged(query_of(intent, asking.command))
        if filled.get(asking.slot.name) is None and intent.choice is not None:
            value = self.prompts.picked(asking.slot, intent.choice)
            if value is not None:
                filled = filled.with_slot(asking.slot.name, value)
        if filled == draft:
            session.misses += 1
            if session.misses >= MAX_MISSES:
                session.clear()
                return Answer("Still not sure what you meant, so I reset. Send help for commands.")
            why = WINDOW_LIMITS if intent.window_rejected else "Didn't get that."
            return Answer(f"{why} {self.prompts.prompt(draft, asking.slot)}")
        session.misses = 0
        session.draft = filled
        return await self._advance(turn)

    async def _advance(self, turn: Turn) -> Answer:
        session = turn.session
        draft = session.draft
        assert draft is not None
        state = await self.forms.advance(draft, session.state)
        asking = self.forms.asking(state)
        if asking is None:  # every required slot filled: run it
            session.state, session.draft = IDLE, None
            session.show_list([], "")
            answer = await self.dispatcher.run(turn.ctx, self.dispatcher.registry[draft.command], draft)
            remember(session, answer)
            return answer
        if not self.prompts.options(asking.slot) and asking.slot.none_configured:
            session.clear()
            return Answer(asking.slot.none_configured)
        session.state = state
        session.show_list([], "")  # the question's options replace any older numbered list
        return Answer(self.prompts.prompt(draft, asking.slot))
