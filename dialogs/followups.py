"""Texts with no command word, read against the conversation's memory.

A bare slot (``6h``, ``web``, ``how about load``) asks the last question again with it, when
that question takes such a slot; otherwise a service or metric alone asks the one command that
needs it (``worker`` → logs for worker). A number (``2``, ``the second one``) picks from the
last numbered list, asking the item's own query when it has one. Two commands that fit equally
are offered as a numbered choice ("Did you mean 1 logs for api or 2 gateway?"), never guessed.
"""

from __future__ import annotations

import dataclasses

from dialogs.answer import Answer
from dialogs.filling import SlotFilling
from dialogs.oncall_commands import answer_yes_no
from dialogs.query import Item, Query, pick
from dialogs.registry import CommandSpec, Registry
from dialogs.turn import WINDOW_LIMITS, Turn, expired_text
from nlu import Intent

UNKNOWN = "I don't know that. Try help."
# Slots that, alone, point at the one command requiring them; a bare window stays a follow-up only.
_OWNED = ("service", "metric")


class FollowUps:
    def __init__(self, registry: Registry, filling: SlotFilling) -> None:
        self.registry = registry
        self.filling = filling

    async def answer(self, turn: Turn) -> Answer:
        session, intent = turn.session, turn.intent
        if intent.ambiguous and not self._settled(turn):  # "api": logs for api or the gateway?
            return self._offer(turn, intent.ambiguous)
        if intent.either:  # "mem or dsk?": never a guess between the two named
            return Answer(f"Which one: {' or '.join(intent.either)}? Send just that one.")
        changed = bare(intent)
        if intent.choice is None and any(changed.get(s) is not None for s in ("service", "window", "metric")):
            return await self._reask(turn, changed)
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
        # A text not understood leaves the kept pages alone: "more" after a typo still has the rest.
        if turn.session.pages:
            return Answer(f"{UNKNOWN[:-1]}, or more for the rest.", is_page=True)
        return Answer(UNKNOWN, is_page=True)

    def _settled(self, turn: Turn) -> bool:
        """A name that alone would be asked about, which the last question settles: ``api`` after
        ``web logs 15m`` is logs for api (the last question takes a service, and logs is a reading)."""
        last, intent = turn.session.last_query, turn.intent
        spec = self.registry.get(last.command if last else None)
        return (
            last is not None
            and spec is not None
            and intent.service is not None
            and last.command in intent.ambiguous
            and spec.slot("service") is not None
        )

    async def _reask(self, turn: Turn, changed: Query) -> Answer:
        """The last question with the new slot(s), or the one command a lone service/metric needs."""
        found = varied(self.registry, turn.session.last_query, changed, current=turn.intent.current)
        if found is not None:
            return await self.filling.ask(turn, *found)
        if turn.expired:
            return Answer(expired_text(turn.session))
        return Answer("A window for what? Try: logs api 1h")

    async def _pick(self, turn: Turn, choice: int) -> Answer:
        items = turn.session.items
        item = items[choice - 1] if 1 <= choice <= len(items) else None
        if item is not None and item.query is not None:
            spec = self.registry.get(item.query.command)
            if spec is not None:
                return await self.filling.ask(turn, spec, item.query)
        return Answer(pick(items, choice))

    def _offer(self, turn: Turn, commands: tuple[str, ...]) -> Answer:
        """Two (or more) equally good readings: ask, numbered, so `1` or `2` answers."""
        service = turn.intent.service
        items: list[Item] = []
        for name in commands:
            spec = self.registry.get(name)
            if spec is None:
                continue
            if service and spec.slot("service") is not None:
                items.append(Item(f"{name} for {service}", query=Query(name, service=service)))
            else:
                items.append(Item(name, query=Query(name)))
        turn.session.show_list(items, "readings")
        if len(items) == 1:  # one reading, but a command that changes something: never on a guess
            return Answer(f"Did you mean {items[0].label}? Reply 1 to do it.")
        if len(items) == 2:
            return Answer(f"Did you mean {items[0].label} or {items[1].label}? (1 or 2)")
        listed = ", ".join(f"{i} {item.label}" for i, item in enumerate(items, 1))
        return Answer(f"Did you mean {listed}?")


def bare(intent: Intent) -> Query:
    """The slots a text without a command word gives (``6h``, ``worker``, ``how about load``)."""
    return Query("", service=intent.service, window=intent.window, metric=intent.metric)


def varied(
    registry: Registry, last: Query | None, changed: Query, *, current: bool = False
) -> tuple[CommandSpec, Query] | None:
    """What a bare slot asks: ``last`` with it when ``last``'s command takes it, else the one
    non-mutating command requiring the service or metric given (and taking the rest); None when
    neither fits."""
    spec = registry.get(last.command if last else None)
    given = [slot for slot in ("service", "window", "metric") if changed.get(slot) is not None]
    if last is not None and spec is not None and all(spec.slot(s) is not None for s in given):
        window = spec.slot("window")
        if current and changed.window is None and window is not None and not window.required:
            return spec, dataclasses.replace(last.merged(changed), window=None)  # "are all targets up now?"
        return spec, last.merged(changed)
    owned = [slot for slot in given if slot in _OWNED]
    if len(owned) != 1:
        return None
    owners = [
        s
        for s in registry
        if not s.mutating and any(r.name == owned[0] for r in s.required) and all(s.slot(g) for g in given)
    ]  # "cpu 6h" with nothing asked before: metrics for cpu over 6h
    return (owners[0], Query(owners[0].name).merged(changed)) if len(owners) == 1 else None
