"""Two (or more) questions in one text: "status and alerts", "metrics cpu and memory".

The first is answered as usual; each further one is answered alongside while the whole reply
stays one SMS page, and named plainly for the next text when it does not fit ("(alerts next:
send alerts)"), so no part is dropped silently. A further part that needs a question is asked
only when it is the last (what came after a question would be lost) and no question is open.
A command that changes something is never run alongside: it is named for a text of its own -
unless the text made that very change first, said exactly ("ack 7 and 8": both acknowledged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from dialogs.answer import Answer
from dialogs.asides import said_exactly
from dialogs.dispatch import Dispatcher, remember
from dialogs.filling import SlotFilling
from dialogs.followups import bare, varied
from dialogs.query import Query
from dialogs.registry import CommandSpec, Registry
from dialogs.session import IDLE
from dialogs.turn import Turn, query_of
from nlu import Intent

Pager = Callable[[str], list[str]]  # a whole answer → its SMS pages (at least one)


class SeveralQuestions:
    def __init__(self, registry: Registry, dispatcher: Dispatcher, filling: SlotFilling) -> None:
        self.registry = registry
        self.dispatcher = dispatcher
        self.filling = filling

    async def answer(self, turn: Turn, first: Answer, pager: Pager) -> Answer:
        """``first`` with the text's further questions answered, asked, or named."""
        long_first = len(pager(first.text)) > 1
        texts, left = [first.text], []
        extras = turn.intent.also
        for i, extra in enumerate(extras, 1):
            found = self._query(turn, extra)
            if found is None:
                continue
            spec, query = found
            named = query.service is not None or query.metric is not None  # a bare "logs" is another question
            if first.query is not None and first.query.command == spec.name and query.window is None and named:
                # "errors on api web" after "logs web 1h": web's window came from the last question; api's too
                query = dataclasses.replace(query, window=first.query.window)
            # A change is never made alongside, unless it is the change the text made first, said
            # exactly ("ack 7 and 8"): then the same to each item named.
            again = spec.name == turn.intent.command and said_exactly(turn.text, spec)
            if long_first or turn.session.state != IDLE or (spec.mutating and not again):
                left.append(query.spoken())
                continue
            if any(query.get(s.name) is None for s in spec.required):
                if i < len(extras):
                    left.append(query.spoken())
                    continue
                before = (turn.session.state, turn.session.draft, turn.session.items, turn.session.list_kind)
                asked = (await self.filling.ask(turn, spec, query)).text  # "alerts and web logs"
                if len(pager("\n\n".join([*texts, asked]))) > 1:  # a question behind "more" is never seen
                    turn.session.state, turn.session.draft, turn.session.items, turn.session.list_kind = before
                    left.append(query.spoken())
                    break
                texts.append(asked)
                break
            answer = await self.dispatcher.run(turn.ctx, spec, query)
            if len(pager("\n\n".join([*texts, answer.text]))) > 1:
                left.append(query.spoken())
                continue
            remember(turn.session, answer)
            texts.append(answer.text)
        note = " ".join(f"({q} next: send {q})" for q in left)
        answered = "\n\n".join(texts)
        if note and len(pager(f"{answered}\n{note}")) > 1:  # said up front, never only on a page behind "more"
            return dataclasses.replace(first, text=f"{note}\n{answered}")
        return dataclasses.replace(first, text=answered + (f"\n{note}" if note else ""))

    def _query(self, turn: Turn, extra: Intent) -> tuple[CommandSpec, Query] | None:
        """A further question as a query: ``web and worker`` after an answer asks the last
        question for each; a part naming a command asks that command."""
        if extra.command is None:
            return varied(self.registry, turn.session.last_query, bare(extra), current=extra.current)
        spec = self.registry.get(extra.command)
        return (spec, query_of(extra, spec)) if spec is not None else None
