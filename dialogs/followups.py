"""Texts with no command word, read against the conversation's memory.

A bare slot (``6h``, ``web``) asks the last question again with it, when that question takes
such a slot; a number (``2``) picks from the last numbered list, running the item's own query
when it has one. Whatever fits nothing gets a short hint, or "Did you mean …?" when two
commands were equally close.
"""

from __future__ import annotations

from dialogs.answer import Answer
from dialogs.dispatch import Dispatcher, remember
from dialogs.oncall_commands import answer_yes_no
from dialogs.query import Query, pick
from dialogs.turn import WINDOW_LIMITS, Turn, expired_text

UNKNOWN = "I don't know that. Try help."


class FollowUps:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def answer(self, turn: Turn) -> Answer:
        session, intent = turn.session, turn.intent
        if intent.window is not None or (intent.service and session.last_query):
            changed = Query("", service=intent.service, window=intent.window)
            rerun = self._rerun(turn, changed)
            if rerun is not None:
                return await self._run(turn, rerun)
            if turn.expired:
                return Answer(expired_text(session))
            return Answer("A window for what? Try: logs api 1h")
        if intent.choice is not None:
            if session.items:
                return await self._pick(turn, intent.choice)
            if turn.expired:
                return Answer(expired_text(session))
            return Answer("Nothing to pick from. Send alerts or metrics first.")
        if intent.window_rejected:
            return Answer(f"{WINDOW_LIMITS} Try 15m, 1h, 6h, 24h.")
        if intent.yes is not None:
            confirmed = await answer_yes_no(turn.ctx, intent.yes)  # the on-call desk's yes/no question
            return confirmed or Answer("Nothing to confirm. Try help.")
        if intent.ambiguous:
            return Answer(f"Did you mean {' or '.join(intent.ambiguous)}?")
        return Answer(UNKNOWN)

    def _rerun(self, turn: Turn, changed: Query) -> Query | None:
        """The last question with ``changed``'s slots, if it takes every one of them."""
        last = turn.session.last_query
        spec = self.dispatcher.registry.get(last.command if last else None)
        if last is None or spec is None:
            return None
        given = [slot for slot in ("service", "window", "metric") if changed.get(slot) is not None]
        if not given or any(spec.slot(slot) is None for slot in given):
            return None
        return last.merged(changed)

    async def _pick(self, turn: Turn, choice: int) -> Answer:
        items = turn.session.items
        item = items[choice - 1] if 1 <= choice <= len(items) else None
        if item is not None and item.query is not None:
            return await self._run(turn, item.query)
        return Answer(pick(items, choice))

    async def _run(self, turn: Turn, query: Query) -> Answer:
        answer = await self.dispatcher.run(turn.ctx, self.dispatcher.registry[query.command], query)
        remember(turn.session, answer)
        return answer
